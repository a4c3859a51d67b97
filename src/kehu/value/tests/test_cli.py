"""`kehu clv …` through Typer's CliRunner, on a Typer app of our own (main registers it)."""

from __future__ import annotations

import json

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from kehu.cli.clv import register

from .conftest import DATA

runner = CliRunner()


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    application = typer.Typer()

    @application.callback()
    def main() -> None:
        """Test host."""

    register(application)
    return application


@pytest.fixture(scope="module")
def weekly_summary(app, tmp_path_factory):
    out = tmp_path_factory.mktemp("clv") / "summary.csv"
    result = runner.invoke(
        app,
        [
            "clv", "summarize",
            "--transactions", str(DATA / "CDNOW_sample.txt"),
            "--format", "cdnow",
            "--calibration-end", "1997-09-30",
            "--holdout-end", "1998-06-30",
            "--unit", "week",
            "--out", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def test_summarize_cdnow(weekly_summary):
    frame = pl.read_csv(weekly_summary)
    assert frame.columns == [
        "customer_id", "frequency", "recency", "T", "monetary_value",
        "frequency_holdout", "monetary_value_holdout", "duration_holdout",
    ]  # fmt: skip
    assert frame.height == 2357
    assert frame["frequency"].sum() == 2457


def test_fit_prints_json_that_reproduces_the_paper(app):
    result = runner.invoke(
        app,
        ["clv", "fit", "--summary", str(DATA / "cdnow_customers_summary.csv"),
         "--model", "bgnbd", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    fitted = json.loads(result.stdout)
    assert {name: round(value, 3) for name, value in fitted["params"].items()} == {
        "r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426,
    }  # fmt: skip
    assert set(fitted["standard_errors"]) == {"r", "alpha", "a", "b"}
    assert round(fitted["log_likelihood"], 1) == -9582.4
    assert fitted["converged"] is True


def test_fit_gamma_gamma_on_our_summary(app, weekly_summary):
    result = runner.invoke(
        app, ["clv", "fit", "--summary", str(weekly_summary), "--model", "gamma_gamma", "--json"]
    )
    assert result.exit_code == 0, result.output
    fitted = json.loads(result.stdout)
    assert {name: round(value, 2) for name, value in fitted["params"].items()} == {
        "p": 6.25, "q": 3.74, "gamma": 15.44,
    }  # fmt: skip


def test_fit_gamma_gamma_needs_monetary_value(app):
    result = runner.invoke(
        app,
        ["clv", "fit", "--summary", str(DATA / "cdnow_customers_summary.csv"),
         "--model", "gamma_gamma", "--json"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "missing column(s) monetary_value" in result.output


def test_predict_writes_one_row_per_customer(app, weekly_summary, tmp_path):
    out = tmp_path / "predictions.csv"
    result = runner.invoke(
        app,
        [
            "clv", "predict", "--summary", str(weekly_summary), "--model", "pareto_nbd",
            "--spend-model", "gamma_gamma", "--horizon", "3650", "--discount-rate", "0.1",
            "--unit", "week", "--out", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(out)
    assert frame.columns == [
        "customer_id", "expected_purchases", "probability_alive", "expected_spend",
        "lifetime_value",
    ]  # fmt: skip
    assert frame.height == 2357
    assert frame["probability_alive"].is_between(0, 1).all()
    assert (frame["lifetime_value"] >= 0).all()
    # discounting at 10% a year makes value less than undiscounted purchases × spend
    undiscounted = (frame["expected_purchases"] * frame["expected_spend"]).sum()
    assert frame["lifetime_value"].sum() < undiscounted


def test_compare_prints_every_model(app, weekly_summary):
    result = runner.invoke(app, ["clv", "compare", "--summary", str(weekly_summary)])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert sorted(row["model"] for row in rows) == ["bgnbd", "mbgnbd", "pareto_nbd"]


def test_bad_date_option_exits_1(app, tmp_path):
    result = runner.invoke(
        app,
        ["clv", "summarize", "--transactions", str(DATA / "CDNOW_sample.txt"), "--format",
         "cdnow", "--calibration-end", "1997-09-31", "--out", str(tmp_path / "s.csv")],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "--calibration-end: '1997-09-31' is not a date" in result.output
    assert not (tmp_path / "s.csv").exists()


def test_bad_date_in_the_file_exits_1_and_writes_nothing(app, tmp_path):
    transactions = tmp_path / "t.csv"
    transactions.write_text("customer_id,date,amount\n1,2024-01-05,3\n1,2024-02-30,4\n")
    out = tmp_path / "s.csv"
    result = runner.invoke(
        app,
        ["clv", "summarize", "--transactions", str(transactions), "--calibration-end",
         "2024-06-30", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "row 3, column date: '2024-02-30' is not a date" in result.output
    assert not out.exists()


def test_missing_columns_are_named(app, tmp_path):
    transactions = tmp_path / "t.csv"
    transactions.write_text("client,when,amount\n1,2024-01-05,3\n")
    result = runner.invoke(
        app,
        ["clv", "summarize", "--transactions", str(transactions), "--calibration-end",
         "2024-06-30", "--out", str(tmp_path / "s.csv")],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "missing column(s) customer_id, date" in result.output
    result = runner.invoke(
        app,
        ["clv", "summarize", "--transactions", str(transactions), "--calibration-end",
         "2024-06-30", "--out", str(tmp_path / "s.csv"), "--columns", "client,when,amount"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
