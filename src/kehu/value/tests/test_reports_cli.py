"""`kehu value pyramid|concentration|matrix|loss-makers|migration` on the hand-built ledger of
snapshot_ledger.py (period 2025Q4: 11 active customers, A major, B ordinary, F loses 445)."""

from __future__ import annotations

import json
from decimal import Decimal

import polars as pl
import pytest
import typer
from django.utils import translation
from typer.testing import CliRunner

from kehu.cli import value_reports
from kehu.value.services import value_snapshot_compute
from kehu.value.tests.snapshot_ledger import build_ledger


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def snapshot(organisation):
    build_ledger(organisation)
    return value_snapshot_compute(period="2025Q4")


def _run(*arguments: str):
    app = typer.Typer()
    value_reports.register(app)

    @app.callback()
    def main() -> None:  # a group, as in kehu.cli.main
        pass

    return CliRunner().invoke(app, ["value", *arguments])


def test_pyramid_prints_the_classes_and_json_is_what_the_api_answers(
    client, organisation, snapshot
):
    result = _run("pyramid")
    assert result.exit_code == 0, result.output
    assert "Customer pyramid 2025Q4" in result.output
    assert "1,200.00" in result.output  # the major class: A alone

    as_json = _run("pyramid", "--json")
    assert as_json.exit_code == 0, as_json.output
    client.force_login(organisation.finance)
    api = client.get("/api/value/pyramid").json()
    printed = json.loads(as_json.output)
    for body in (printed, api):  # the API answers in the user's language
        for item in body["classes"]:
            item.pop("label")
    assert printed == api


def test_pyramid_writes_the_workbook_with_every_customer(snapshot, tmp_path):
    out = tmp_path / "pyramid.xlsx"
    result = _run("pyramid", "--period", "2025q4", "--out", str(out))
    assert result.exit_code == 0, result.output
    customers = pl.read_excel(out, sheet_name="Customers")
    assert customers.height == 13
    assert customers["Code"][0] == "V-A"  # rank 1 first
    assert not list(tmp_path.glob(".*.part"))


def test_as_user_shows_only_what_that_user_sees(organisation, snapshot, tmp_path):
    out = tmp_path / "other.xlsx"
    result = _run("pyramid", "--as-user", "rep2", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert pl.read_excel(out, sheet_name="Customers").height == 0  # the west rep sees none


def test_concentration_gives_the_80_20_figures_and_the_whale(snapshot):
    result = _run("concentration", "--measure", "net_profit", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["measure"] == "net_profit"
    assert body["whale"] is not None  # F, C and G lose money: the curve falls back
    assert Decimal(body["whale"]["tail_loss"]) > 0  # what the customers after the peak lose


def test_matrix_prints_the_quadrants_and_exports_one(snapshot, tmp_path):
    out = tmp_path / "matrix.xlsx"
    result = _run("matrix", "--quadrant", "core", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Value matrix 2025Q4" in result.output
    quadrants = pl.read_excel(out, sheet_name="Quadrants")
    assert quadrants.height >= 4


def test_loss_makers_list_the_worst_first_with_the_reason(snapshot):
    result = _run("loss-makers", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    worst = body["customers"][0]
    assert worst["code"] == "V-F"
    assert worst["net_profit"] == "-445.00"
    assert worst["reason"]
    assert body["loss_count"] == len(body["customers"])


def test_migration_between_two_periods(organisation, snapshot):
    value_snapshot_compute(period="2025Q3")
    result = _run("migration", "--dimension", "quadrant", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert (body["from"]["period"], body["to"]["period"]) == ("2025Q3", "2025Q4")
    assert sum(cell["count"] for cell in body["cells"]) == 13
    assert {item["movement"] for item in body["movements"]} >= {"up", "stay", "down"}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("pyramid", "--period", "2019Q1"), "No finished value snapshot of 2019Q1"),
        (("pyramid", "--snapshot", "1", "--period", "2025Q4"), "not both"),
        (("pyramid", "--as-user", "nobody"), "No user with the username 'nobody'"),
        (("pyramid", "--out", "report.csv"), "must name an .xlsx file"),
        (("matrix", "--quadrant", "nope"), "unknown quadrant 'nope'"),
        (("concentration", "--measure", "volume"), "volume"),
        (("migration", "--from", "1"), "Give both --from and --to"),
        (("migration", "--dimension", "colour"), "Two finished value snapshots"),
    ],
)
def test_bad_input_is_refused_with_a_message(snapshot, arguments, message):
    result = _run(*arguments)
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())


def test_no_snapshot_yet(db):
    result = _run("pyramid")
    assert result.exit_code == 1
    assert "kehu analyze" in result.output
