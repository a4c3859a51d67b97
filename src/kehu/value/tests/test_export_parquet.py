"""`kehu export parquet` and the Parquet export behind it (engine/parquet.py)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer
from django.db.models import Model, Sum
from typer.testing import CliRunner

from kehu.cli import export as export_cli
from kehu.core.errors import ValidationFailed
from kehu.sales.models import Order
from kehu.value.engine.parquet import (
    MANIFEST,
    SCHEMA_VERSION,
    check_export,
    export_ledger,
    write_tables,
)
from kehu.value.engine.sources import SOURCES
from kehu.value.tests.snapshot_ledger import build_ledger

FILES = sorted([f"{source.name}.parquet" for source in SOURCES] + [MANIFEST])


def _app() -> typer.Typer:
    app = typer.Typer()
    export_cli.register(app)

    @app.callback()
    def main() -> None:  # a group, as in kehu.cli.main
        pass

    return app


def test_export_parquet_writes_the_nine_tables_and_a_manifest(organisation, tmp_path):
    build_ledger(organisation)
    out = tmp_path / "new" / "export"  # created, parents too
    result = CliRunner().invoke(_app(), ["export", "parquet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "write_offs.parquet" in result.output
    assert "schema version 1" in result.output
    assert sorted(path.name for path in out.iterdir()) == FILES

    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["schema_version"] == SCHEMA_VERSION
    written_at = dt.datetime.fromisoformat(manifest["written_at"])
    assert abs(dt.datetime.now(dt.UTC) - written_at) < dt.timedelta(minutes=5)
    assert list(manifest["tables"]) == [source.name for source in SOURCES]
    for source in SOURCES:
        table = pq.read_table(out / f"{source.name}.parquet")
        assert table.schema == source.schema, source.name
        model: type[Model] = source.model
        rows = model._default_manager.count()
        assert table.num_rows == rows == manifest["tables"][source.name]["rows"], source.name
        assert manifest["tables"][source.name]["file"] == f"{source.name}.parquet"
    assert manifest["tables"]["write_offs"]["rows"] > 0

    orders = pq.read_table(out / "orders.parquet")
    total = Order.objects.aggregate(total=Sum("total_amount"))["total"]
    assert sum(orders["amount"].to_pylist()) == int(total * 100)  # whole cents
    first = Order.objects.order_by("order_date").first()
    assert first is not None
    assert min(orders["day"].to_pylist()) == (first.order_date - dt.date(1970, 1, 1)).days


def test_export_parquet_again_replaces_the_files_and_leaves_nothing_partial(db, tmp_path):
    first = export_ledger(tmp_path)
    assert all(entry["rows"] == 0 for entry in first["tables"].values())
    (tmp_path / "orders.parquet").write_bytes(b"not parquet")
    second = export_ledger(tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == FILES
    assert pq.read_table(tmp_path / "orders.parquet").num_rows == 0
    assert second["written_at"] >= first["written_at"]


def test_export_parquet_refuses_a_directory_it_cannot_write(db, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = CliRunner().invoke(_app(), ["export", "parquet", "--out", str(blocker)])
    assert result.exit_code == 1
    assert "is a file, not a directory" in " ".join(result.output.split())
    result = CliRunner().invoke(_app(), ["export", "parquet", "--out", str(blocker / "below")])
    assert result.exit_code == 1
    message = " ".join(result.output.split())  # Rich wraps long lines
    assert "cannot write Parquet files in" in message
    assert message.endswith("below: Not a directory")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a-file"]


def test_export_parquet_needs_out(db):
    result = CliRunner().invoke(_app(), ["export", "parquet"])
    assert result.exit_code == 2
    assert "--out" in result.output


def test_write_tables_casts_to_the_engine_shape_and_checks_what_it_gets(tmp_path):
    tables = {source.name: source.schema.empty_table() for source in SOURCES}
    tables["complaints"] = pa.table({"customer_id": [1, 2], "day": [20089, 20090]})  # int64 day
    manifest = write_tables(tmp_path, tables)
    assert manifest["tables"]["complaints"]["rows"] == 2
    assert pq.read_table(tmp_path / "complaints.parquet").schema.field("day").type == pa.int32()
    assert check_export(tmp_path) == manifest
    del tables["orders"]
    with pytest.raises(ValueError, match="missing tables: orders"):
        write_tables(tmp_path / "other", tables)


def test_check_export_refuses_another_schema_version(tmp_path):
    write_tables(tmp_path, {source.name: source.schema.empty_table() for source in SOURCES})
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    (tmp_path / MANIFEST).write_text(json.dumps({**manifest, "schema_version": 99}))
    with pytest.raises(ValidationFailed, match="schema version 99, this Kehu reads version 1"):
        check_export(tmp_path)
    (tmp_path / MANIFEST).write_text("{not json")
    with pytest.raises(ValidationFailed, match="cannot read the Parquet export's manifest"):
        check_export(tmp_path)


def test_money_is_exported_in_whole_cents(organisation, tmp_path):
    from kehu.catalog.tests.factories import ProductFactory
    from kehu.customers.tests.factories import CustomerFactory
    from kehu.sales.services import OrderLineInput, order_create

    customer = CustomerFactory(owner=organisation.rep)
    order_create(
        customer=customer,
        number="O-CENTS",
        order_date=dt.date(2025, 11, 3),
        lines=[
            OrderLineInput(
                product=ProductFactory(),
                quantity=Decimal(3),
                unit_price=Decimal("33.37"),
                unit_cost=Decimal("10.01"),
            )
        ],
    )
    export_ledger(tmp_path)
    orders = pq.read_table(tmp_path / "orders.parquet").to_pydict()
    assert orders["amount"] == [10011]
    assert orders["cost"] == [3003]
    assert orders["day"] == [(dt.date(2025, 11, 3) - dt.date(1970, 1, 1)).days]
    assert orders["customer_id"] == [customer.pk]
