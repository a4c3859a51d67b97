"""`kehu import …` through Typer's CliRunner: summaries, --json, exit codes, error reports."""

from __future__ import annotations

import json

import fastexcel
import pytest
from typer.testing import CliRunner

from kehu.cli.main import app
from kehu.customers.models import Customer
from kehu.imports.tests.conftest import DATA
from kehu.sales.models import OrderLine

pytestmark = pytest.mark.django_db
runner = CliRunner()

GOOD = [["客户编码", "客户名称", "业务员"], ["C1", "甲公司", "rep"], ["C2", "乙公司", "rep"]]
BAD = [["客户编码", "客户名称", "业务员"], ["C1", "甲公司", "rep"], ["C2", "乙公司", "ghost"]]


def test_a_clean_import_prints_a_summary_and_exits_zero(organisation, csv_file):
    result = runner.invoke(app, ["import", "customers", str(csv_file(GOOD))])

    assert result.exit_code == 0, result.output
    assert "customers" in result.stdout
    assert Customer.objects.count() == 2


def test_json_prints_one_object_on_stdout(organisation, csv_file):
    result = runner.invoke(
        app, ["import", "customers", str(csv_file(GOOD)), "--json", "--as", "admin"]
    )

    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "kind": "customers",
        "dry_run": False,
        "status": "done",
        "counts": {
            "customers": {"created": 2, "updated": 0, "unchanged": 0, "refused": 0},
            "tags": {"created": 0, "updated": 0, "unchanged": 0, "refused": 0},
        },
        "errors": [],
    }
    assert set(Customer.history.values_list("history_user__username", flat=True)) == {"admin"}


def test_a_refused_file_exits_one_writes_nothing_and_reports_the_rows(
    organisation, csv_file, tmp_path
):
    report = tmp_path / "errors.xlsx"

    result = runner.invoke(
        app, ["import", "customers", str(csv_file(BAD)), "--json", "--errors-out", str(report)]
    )

    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert (body["status"], body["counts"]["customers"]) == (
        "refused",
        {"created": 0, "updated": 0, "unchanged": 0, "refused": 1},
    )
    assert body["errors"] == [
        {
            "row": 3,
            "column": "业务员",
            "value": "ghost",
            "reason": "No user with the username 'ghost'.",
        }
    ]
    assert Customer.objects.count() == 0
    rows = fastexcel.read_excel(str(report)).load_sheet(0, dtypes="string").to_polars()
    assert rows.columns == ["客户编码", "客户名称", "业务员", "错误原因 Reasons", "原行号 Row"]
    assert rows.row(0) == (
        "C2",
        "乙公司",
        "ghost",
        "业务员: No user with the username 'ghost'.",
        "3",
    )


def test_skip_bad_rows_writes_the_rest_and_still_exits_one(organisation, csv_file):
    result = runner.invoke(
        app, ["import", "customers", str(csv_file(BAD)), "--skip-bad-rows", "--json"]
    )

    assert result.exit_code == 1
    assert json.loads(result.stdout)["counts"]["customers"] == {
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "refused": 1,
    }
    assert list(Customer.objects.values_list("code", flat=True)) == ["C1"]


def test_dry_run_exits_zero_and_writes_nothing(organisation, csv_file):
    result = runner.invoke(app, ["import", "customers", str(csv_file(GOOD)), "--dry-run", "--json"])

    assert result.exit_code == 0
    assert json.loads(result.stdout)["counts"]["customers"]["created"] == 2
    assert Customer.objects.count() == 0


def test_an_unknown_user_in_as_is_a_usage_error(organisation, csv_file):
    result = runner.invoke(app, ["import", "customers", str(csv_file(GOOD)), "--as", "ghost"])

    assert result.exit_code == 2
    assert "no user with the username 'ghost'" in result.stderr
    assert Customer.objects.count() == 0


def test_a_rep_may_not_import_from_the_command_line_either(organisation, csv_file):
    result = runner.invoke(app, ["import", "customers", str(csv_file(GOOD)), "--as", "rep"])

    assert result.exit_code == 1
    assert "Only administrators and finance may import data." in result.stderr
    assert Customer.objects.count() == 0


def test_a_refusal_before_reading_is_still_one_json_object(organisation, csv_file):
    result = runner.invoke(
        app, ["import", "customers", str(csv_file(GOOD)), "--as", "rep", "--json"]
    )

    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "kind": "customers",
        "dry_run": False,
        "status": "refused",
        "counts": {},
        "errors": [
            {
                "row": None,
                "column": None,
                "value": None,
                "reason": "Only administrators and finance may import data.",
            }
        ],
    }


def test_transactions_cdnow(organisation):
    result = runner.invoke(
        app,
        [
            "import",
            "transactions",
            "--format",
            "cdnow",
            str(DATA / "CDNOW_sample.txt"),
            "--owner",
            "rep",
            "--json",
        ],
    )

    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert (
        body["kind"],
        body["counts"]["customers"]["created"],
        body["counts"]["order_lines"]["created"],
    ) == ("transactions", 2357, 6919)
    assert OrderLine.objects.count() == 6919


def test_an_unknown_transaction_format_exits_one(organisation):
    result = runner.invoke(
        app, ["import", "transactions", "--format", "excel", str(DATA / "CDNOW_sample.txt")]
    )

    assert result.exit_code == 1
    assert "Unknown transaction format 'excel'" in result.stderr
