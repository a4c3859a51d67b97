"""`kehu credit calibrate`: JSON and tables from a file, exit code 2 for bad input."""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from django.utils import translation
from typer.testing import CliRunner

from kehu.cli.credit import register
from kehu.credit.tests.synthetic import synthetic_customers, write_csv

runner = CliRunner()


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in their English source text, whatever the default language."""
    with translation.override("en"):
        yield


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    application = typer.Typer()
    register(application)
    return application


def _run(app: typer.Typer, *arguments: str):
    return runner.invoke(app, ["credit", "calibrate", *arguments])


def test_json_from_a_csv_file(app, tmp_path):
    path = write_csv(tmp_path / "customers.csv", synthetic_customers(rows=3000, seed=5))

    result = _run(
        app,
        "--data",
        str(path),
        "--target",
        "status",
        "--bad",
        "default",
        "--exclude",
        "customer_code",
        "--json",
        "--seed",
        "3",
    )

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {
        "rows",
        "bad_rate",
        "attributes",
        "intercept",
        "coefficients",
        "holdout",
        "cross_validation",
        "scaling",
    } <= set(data)
    assert data["rows"] == 3000
    assert [attribute["name"] for attribute in data["attributes"]] == ["days_late", "region"]
    assert {attribute["kind"] for attribute in data["attributes"]} == {"numerical", "categorical"}
    assert set(data["attributes"][0]) >= {"name", "kind", "iv", "bins"}
    assert set(data["attributes"][0]["bins"][0]) >= {"label", "count", "bad_rate", "woe", "points"}
    assert sorted(item["name"] for item in data["dropped"]) == ["noise_category", "noise_number"]
    assert set(data["coefficients"]) == {"days_late", "region"}
    assert set(data["holdout"]) >= {"auc", "ks", "gini"}
    assert set(data["cross_validation"]) >= {"auc_mean", "auc_std", "ks_mean", "gini_mean"}
    assert len(data["cross_validation"]["folds"]) == 5
    assert data["scaling"] == {"pdo": 20.0, "base_score": 600.0, "base_odds": 50.0}
    assert data["seed"] == 3
    assert data["source"]["excluded"] == ["customer_code"]
    assert data["source"]["identifiers_left_out"] == []


def test_table_report_from_a_gb18030_file_with_chinese_headers(app, tmp_path):
    path = write_csv(
        tmp_path / "客户.csv",
        synthetic_customers(rows=3000, seed=5),
        target="状态",
        bad="违约",
        good="正常",
        encoding="gb18030",
    )

    result = _run(
        app,
        "--data",
        str(path),
        "--target",
        "状态",
        "--bad",
        "违约",
        "--pdo",
        "40",
        "--min-iv",
        "0.1",
    )

    assert result.exit_code == 0, result.output
    report = " ".join(result.stdout.split())
    assert "3,000 rows" in report
    assert "+40 each time the odds double" in report
    assert "days_late (numerical)" in report
    assert "Dropped noise_number" in report
    assert "Left out customer_code: every value differs" in report
    assert "5-fold CV" in report


def test_json_from_an_xlsx_file(app, tmp_path):
    import xlsxwriter

    data = synthetic_customers(rows=1500, seed=4)
    path = tmp_path / "customers.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["days_late", "region", "outcome"])
    for line, (days, region, is_bad) in enumerate(
        zip(data.frame["days_late"], data.frame["region"], data.is_bad, strict=True), start=1
    ):
        if days is not None:
            sheet.write_number(line, 0, days)
        sheet.write_string(line, 1, region)
        sheet.write_number(line, 2, int(is_bad))
    workbook.close()

    result = _run(app, "--data", str(path), "--target", "outcome", "--bad", "1", "--json")

    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["rows"] == 1500
    assert payload["bad_rate"] == data.is_bad.mean()
    assert [attribute["name"] for attribute in payload["attributes"]] == ["days_late", "region"]


def _write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _rows(count: int, bads: int) -> list[list[object]]:
    return [
        [index % 7, "ab"[index % 2], "bad" if index < bads else "good"] for index in range(count)
    ]


@pytest.mark.parametrize(
    ("make", "arguments", "message"),
    [
        (lambda d: d / "missing.csv", (), "does not exist"),
        (
            lambda d: (d / "broken.xlsx").write_bytes(b"not a workbook") and d / "broken.xlsx",
            (),
            "The file is named like an Excel workbook but is not one.",
        ),
        (
            lambda d: _write(d / "f.csv", ["x", "kind", "result"], _rows(100, 30)),
            (),
            "The target column 'status' is not in the file; its columns are 'x', 'kind', 'result'.",
        ),
        (
            lambda d: _write(d / "f.csv", ["x", "kind", "status"], _rows(100, 30)),
            ("--bad", "default"),
            "The bad value 'default' never occurs in column 'status' (it holds 'bad', 'good').",
        ),
        (
            lambda d: _write(d / "f.csv", ["x", "kind", "status"], _rows(100, 100)),
            (),
            "Every row is bad",
        ),
        (
            lambda d: _write(d / "f.csv", ["x", "kind", "status"], _rows(40, 15)),
            (),
            "Only 40 rows: a scorecard needs at least 50.",
        ),
        (
            lambda d: _write(d / "f.csv", ["x", "kind", "status"], _rows(100, 10)),
            (),
            "Too few bad rows (10): at least 25 are needed",
        ),
        (
            lambda d: _write(
                d / "f.csv", ["x", "kind", "status", "notes"], [[*r, ""] for r in _rows(100, 30)]
            ),
            (),
            "Column 'notes' is empty in every row; leave it out with --exclude.",
        ),
        (
            lambda d: _write(d / "f.csv", ["x", "kind", "status"], _rows(100, 30)),
            ("--exclude", "id"),
            "--exclude names columns that are not in the file: 'id'.",
        ),
        (
            lambda d: _write(d / "f.csv", ["x", "kind", "status"], _rows(100, 30)),
            ("--test-share", "0"),
            "--test-share must be between 0 and 1",
        ),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(app, tmp_path, make, arguments, message):
    path = make(tmp_path)
    options = {"--target": "status", "--bad": "bad"}
    options.update(dict(zip(arguments[::2], arguments[1::2], strict=True)))
    flat = [item for pair in options.items() for item in pair]

    result = _run(app, "--data", str(path), *flat)

    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert message in " ".join(result.stderr.split())


def test_data_or_history_not_both(app, tmp_path):
    result = _run(app, "--data", str(tmp_path / "x.csv"), "--from-history")

    assert result.exit_code == 2
    assert "Give either --data FILE (with --target and --bad) or --from-history." in result.stderr


@pytest.mark.django_db
def test_from_history_with_too_little_history_exits_2(app):
    result = _run(app, "--from-history", "--as-of", "2026-06-30", "--json")

    assert result.exit_code == 2
    assert "Only 0 rows: a scorecard needs at least 50." in result.stderr


def test_from_history_refuses_a_date_that_is_not_one(app):
    result = _run(app, "--from-history", "--as-of", "30/06/2026")

    assert result.exit_code == 2
    assert "--as-of '30/06/2026' is not a date (YYYY-MM-DD)" in result.stderr


def _history_of_80_customers() -> None:
    """30 customers go bad in the outcome year (an invoice never paid); most of them paid late in
    the history year, most of the 50 good ones on time."""
    from kehu.accounts.tests.factories import UserFactory
    from kehu.customers.tests.factories import CustomerFactory
    from kehu.receivables.models import Payment, PaymentAllocation
    from kehu.receivables.tests.factories import InvoiceFactory

    owner = UserFactory()
    for index in range(80):
        goes_bad, paid_late = index < 30, (index < 24) or (index >= 72)
        customer = CustomerFactory.create(owner=owner, size="small" if index % 2 else "large")
        invoice = InvoiceFactory.create(customer=customer, issue_date=dt.date(2025, 1, 10))
        paid_on = dt.date(2025, 3, 1) if paid_late else dt.date(2025, 2, 1)
        payment = Payment.objects.create(
            number=f"P{index}",
            customer=customer,
            received_on=paid_on,
            amount=invoice.amount,
            unallocated_amount=Decimal(0),
        )
        PaymentAllocation.objects.create(
            payment=payment, invoice=invoice, amount=invoice.amount, allocated_on=paid_on
        )
        if goes_bad:
            InvoiceFactory(customer=customer, issue_date=dt.date(2025, 9, 1))


@pytest.mark.django_db
def test_from_history_learns_from_the_ledger(app):
    _history_of_80_customers()

    result = _run(app, "--from-history", "--as-of", "2026-06-30", "--json", "--min-iv", "0.1")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["source"] == {
        "history": {"as_of": "2026-06-30", "observed_on": "2025-06-30", "customers": 80},
        "empty_attributes_left_out": ["purchase_growth", "ownership", "industry"],
    }
    assert data["rows"] == 80
    assert data["bad_rate"] == 30 / 80
    names = [attribute["name"] for attribute in data["attributes"]]
    assert "on_time_share" in names
    assert "size" not in names  # no relation to the outcome
    assert data["holdout"]["auc"] > 0.8
