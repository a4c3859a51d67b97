"""`kehu analyze` (registered on a Typer app the way kehu.cli.main registers modules)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import typer
from typer.testing import CliRunner

from kehu.catalog.tests.factories import ProductFactory
from kehu.cli import value as value_cli
from kehu.customers.tests.factories import CustomerFactory
from kehu.sales.services import OrderLineInput, order_create
from kehu.value.models import ValueSnapshot


def _app() -> typer.Typer:
    app = typer.Typer()
    value_cli.register(app)

    @app.callback()
    def main() -> None:  # a group, so that `analyze` is a subcommand as in kehu.cli.main
        pass

    return app


def test_analyze_prints_the_summary(organisation):
    customer = CustomerFactory(owner=organisation.rep)
    order_create(
        customer=customer,
        number="O1",
        order_date=dt.date(2025, 11, 3),
        lines=[
            OrderLineInput(
                product=ProductFactory(),
                quantity=Decimal(2),
                unit_price=Decimal(50),
                unit_cost=Decimal(30),
            )
        ],
    )
    result = CliRunner().invoke(_app(), ["analyze", "--period", "2025Q4"])
    assert result.exit_code == 0, result.output
    assert "Value snapshot 2025Q4 (duckdb)" in result.output
    assert "100.0%" in result.output  # one customer holds everything
    assert ValueSnapshot.objects.get().status == "done"


def test_analyze_refuses_a_bad_period(db):
    result = CliRunner().invoke(_app(), ["analyze", "--period", "2025Q7"])
    assert result.exit_code == 1
    assert "period '2025Q7' is not" in result.output
    assert ValueSnapshot.objects.count() == 0
