"""`kehu credit rate`: the quarterly run and one customer, as JSON."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from kehu.cli.credit_ratings import register_ratings
from kehu.credit.models import CreditRating
from kehu.credit.tests.test_measures import AS_OF, ledger  # noqa: F401 - the fixture

runner = CliRunner()


@pytest.fixture
def app() -> typer.Typer:
    application = typer.Typer()
    credit_app = typer.Typer()
    register_ratings(credit_app)
    application.add_typer(credit_app, name="credit")
    return application


def test_the_quarterly_run_as_json(app, ledger):  # noqa: F811
    result = runner.invoke(app, ["credit", "rate", "--as-of", AS_OF.isoformat(), "--json"])

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["period"], summary["rated"], summary["by_grade"]) == ("2026Q2", 1, {"C": 1})


def test_one_customer_now_as_json(app, ledger):  # noqa: F811
    result = runner.invoke(
        app, ["credit", "rate", "--customer", "A", "--as-of", AS_OF.isoformat(), "--json"]
    )

    assert result.exit_code == 0, result.output
    rating = json.loads(result.stdout)
    assert (rating["customer"], rating["score"], rating["grade"]) == ("A", "28.70", "C")
    assert len(rating["items"]) == 20
    assert CreditRating.objects.get().trigger == "on_demand"


def test_an_unknown_customer_or_date_fails(app, db):
    unknown = runner.invoke(app, ["credit", "rate", "--customer", "NOPE"])
    bad_date = runner.invoke(app, ["credit", "rate", "--as-of", "2026-13-01"])

    assert unknown.exit_code == 1
    assert "no customer with the code 'NOPE'" in unknown.output
    assert bad_date.exit_code == 1
    assert CreditRating.objects.count() == 0
