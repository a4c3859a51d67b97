"""Statement of account 对账单: the arithmetic on a hand-made ledger, the .xlsx, the PDF, the
pages and the command line.

The PDF needs WeasyPrint and Pango from the system (apt-get install libpango-1.0-0
libpangoft2-1.0-0; .ci/run installs them). Outside CI a machine without them skips the PDF
tests with that reason; in CI (CI=true) a missing Pango is a failure.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from decimal import Decimal
from typing import cast

import fastexcel
import pytest
import typer
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from typer.testing import CliRunner

from kehu.core.errors import NotFound, ValidationFailed
from kehu.customers.models import Customer
from kehu.customers.tests.factories import CustomerFactory
from kehu.receivables.models import Invoice, PaymentAllocation
from kehu.receivables.services import (
    allocation_reverse,
    credit_note_create,
    invoice_create,
    payment_record,
    write_off_create,
    write_off_reverse,
)
from kehu.receivables.statements import (
    customer_balance_as_of,
    statement_for,
    statement_xlsx,
)

D = Decimal
START = dt.date(2025, 1, 1)
END = dt.date(2025, 6, 30)
NAME = "上海精工机械有限公司"


@pytest.fixture
def ledger(organisation):
    """Given one customer of `rep` with a ledger before, in and after the first half of 2025."""
    customer = cast(Customer, CustomerFactory(code="SH-001", name=NAME, owner=organisation.rep))
    # Before the period: 1,000.00 invoiced, 400.00 paid → opening balance 600.00.
    first = invoice_create(
        customer=customer, number="I-1", issue_date=dt.date(2024, 11, 10), amount=D("1000.00"),
        payment_terms_days=30,
    )  # fmt: skip
    payment_record(
        customer=customer, number="P-0", received_on=dt.date(2024, 12, 20), amount=D("400.00")
    )
    # In the period.
    second = invoice_create(
        customer=customer, number="I-2", issue_date=dt.date(2025, 1, 15), amount=D("2500.55"),
        payment_terms_days=30,
    )  # fmt: skip
    early = payment_record(
        customer=customer, number="P-1", received_on=dt.date(2025, 2, 1), amount=D("1800.10")
    )  # I-1 600.00, I-2 1,200.10
    third = invoice_create(
        customer=customer, number="I-3", issue_date=dt.date(2025, 3, 1), amount=D("1234.56"),
        payment_terms_days=30,
    )  # fmt: skip
    credit_note_create(
        customer=customer, number="CN-1", issue_date=dt.date(2025, 3, 10), amount=D("100.01"),
        invoice=third, reason="退货",
    )  # fmt: skip
    reversed_write_off = write_off_create(
        invoice=second, amount=D("300.45"), written_off_on=dt.date(2025, 4, 1),
        reason="客户失联", decided_by=organisation.finance,
    )  # fmt: skip
    write_off_reverse(
        write_off=reversed_write_off, actor=organisation.finance, reason="客户回款",
        on=dt.date(2025, 5, 15),
    )  # fmt: skip
    write_off_create(
        invoice=third, amount=D("34.55"), written_off_on=dt.date(2025, 6, 1),
        reason="尾差", decided_by=organisation.finance,
    )  # fmt: skip
    payment_record(
        customer=customer, number="P-2", received_on=dt.date(2025, 6, 20), amount=D("3000.00")
    )  # I-2 1,300.45, I-3 1,100.00, 599.55 left as credit
    # An allocation reversed: moves money between invoice and credit, the balance stays.
    allocation_reverse(
        allocation=PaymentAllocation.objects.get(payment=early, invoice=first),
        on=dt.date(2025, 6, 25),
    )
    # After the period: not on the statement.
    invoice_create(
        customer=customer, number="I-4", issue_date=dt.date(2025, 7, 10), amount=D("999.99")
    )
    payment_record(
        customer=customer, number="P-3", received_on=dt.date(2025, 7, 15), amount=D("50.00")
    )
    return customer


def test_closing_is_opening_plus_invoices_less_payments_notes_and_write_offs(organisation, ledger):
    # When
    statement = statement_for(user=organisation.rep, customer_id=ledger.pk, start=START, end=END)

    # Then
    assert statement.opening_balance == D("600.00")
    assert statement.invoiced == D("3735.11")
    assert statement.paid == D("4800.10")
    assert statement.credited == D("100.01")
    assert statement.written_off == D("335.00")
    assert statement.reversed == D("300.45")
    assert statement.closing_balance == D("-599.55")
    assert statement.closing_balance == (
        statement.opening_balance + statement.invoiced - statement.paid - statement.credited
        - statement.written_off + statement.reversed
    )  # fmt: skip
    # The closing balance is the balance rebuilt from the ledger as of the last day.
    assert customer_balance_as_of(ledger, END) == D("-599.55")
    assert [
        (line.on.isoformat(), line.kind, line.reference, line.increase, line.decrease, line.balance)
        for line in statement.lines
    ] == [
        ("2025-01-15", "invoice", "I-2", D("2500.55"), D("0"), D("3100.55")),
        ("2025-02-01", "payment", "P-1", D("0"), D("1800.10"), D("1300.45")),
        ("2025-03-01", "invoice", "I-3", D("1234.56"), D("0"), D("2535.01")),
        ("2025-03-10", "credit_note", "CN-1", D("0"), D("100.01"), D("2435.00")),
        ("2025-04-01", "write_off", "I-2", D("0"), D("300.45"), D("2134.55")),
        ("2025-05-15", "write_off_reversal", "I-2", D("300.45"), D("0"), D("2435.00")),
        ("2025-06-01", "write_off", "I-3", D("0"), D("34.55"), D("2400.45")),
        ("2025-06-20", "payment", "P-2", D("0"), D("3000.00"), D("-599.55")),
    ]
    # The aging of the closing balance: I-1's 600.00 (reopened) is 202 days past due.
    aging = statement.aging
    assert aging is not None
    assert {bucket.key: amount for bucket, amount in aging.rows if amount} == {
        "181-365": D("600.00")
    }
    assert aging.customer_credit == D("1199.55")
    assert aging.balance == statement.closing_balance


def test_the_next_period_opens_with_the_closing_balance(organisation, ledger):
    statement = statement_for(
        user=organisation.rep, customer_id=ledger.pk, start=dt.date(2025, 7, 1),
        end=dt.date(2025, 7, 31),
    )  # fmt: skip

    assert statement.opening_balance == D("-599.55")
    assert [line.reference for line in statement.lines] == ["I-4", "P-3"]
    assert statement.closing_balance == D("350.44")


def test_another_reps_customer_is_not_found(organisation, ledger):
    with pytest.raises(NotFound):
        statement_for(user=organisation.other_rep, customer_id=ledger.pk, start=START, end=END)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (dt.date(2025, 7, 1), dt.date(2025, 6, 30), "starts on 2025-07-01, after it ends on"),
        (dt.date(2025, 1, 1), dt.date(2999, 1, 1), "2999-01-01, which is in the future"),
    ],
)
def test_a_bad_period_is_refused(organisation, ledger, start, end, message):
    with translation.override("en"), pytest.raises(ValidationFailed) as error:
        statement_for(user=organisation.rep, customer_id=ledger.pk, start=start, end=end)
    assert message in error.value.message


def _sheet_rows(data: bytes) -> list[list[object]]:
    """The cells of the first sheet; numbers as floats (a column of text and numbers is read
    as text by fastexcel)."""
    frame = fastexcel.read_excel(data).load_sheet(0, header_row=None).to_polars()
    return [[_cell(value) for value in row] for row in frame.iter_rows()]


def _cell(value: object) -> object:
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def test_the_xlsx_has_the_lines_and_the_totals(organisation, ledger):
    statement = statement_for(user=organisation.rep, customer_id=ledger.pk, start=START, end=END)

    rows = _sheet_rows(statement_xlsx(statement))

    assert any(f"SH-001 {NAME}" in row for row in rows)
    by_label = {row[1]: row for row in rows if isinstance(row[1], str)}
    opening = by_label[_("Opening balance")]
    closing = by_label[_("Closing balance")]
    assert opening[6] == 600.00
    # Increases: invoices 3,735.11 + reversals 300.45; decreases: 4,800.10 + 100.01 + 335.00.
    assert closing[4:7] == [4035.56, 5235.11, -599.55]
    references = [row[2] for row in rows if row[2] in {"I-2", "I-3", "P-1", "P-2", "CN-1"}]
    assert references == ["I-2", "P-1", "I-3", "CN-1", "I-2", "I-2", "I-3", "P-2"]
    summary = {row[0]: row[1] for row in rows if isinstance(row[0], str)}
    assert summary[_("Less unallocated payments")] == -1199.55
    assert summary[_("Balance")] == -599.55
    assert _("The figures above have been checked and are correct.") in summary


# --- The PDF (WeasyPrint + Pango) --------------------------------------------------------------


@pytest.fixture
def weasyprint_available() -> None:
    try:
        import weasyprint  # noqa: F401
    except OSError as error:  # Pango missing from the system
        if os.environ.get("CI"):
            pytest.fail(f"WeasyPrint cannot load Pango: {error}")
        pytest.skip(f"WeasyPrint cannot load Pango (apt-get install libpango-1.0-0): {error}")


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_pdf_shows_the_customer_and_the_closing_balance(
    organisation, ledger, weasyprint_available
):
    from kehu.receivables.statements import statement_pdf

    statement = statement_for(user=organisation.rep, customer_id=ledger.pk, start=START, end=END)

    data = statement_pdf(statement)

    assert data.startswith(b"%PDF")
    text = _pdf_text(data)
    assert NAME in text
    assert "-599.55" in text
    assert "2025-01-01 – 2025-06-30" in text


# --- Pages -----------------------------------------------------------------------------------


def _url(customer_id: int, suffix: str = "") -> str:
    return f"/receivables/statements/{customer_id}/{suffix}"


def test_the_owner_sees_the_statement_page(client, organisation, ledger):
    client.force_login(organisation.rep)

    response = client.get(_url(ledger.pk), {"start": "2025-01-01", "end": "2025-06-30"})

    assert response.status_code == 200
    body = response.content.decode()
    assert NAME in body
    assert "-599.55" in body
    assert "statement.pdf?start=2025-01-01&amp;end=2025-06-30" in body


def test_the_page_defaults_to_this_year_to_date(client, organisation, ledger):
    client.force_login(organisation.rep)

    response = client.get(_url(ledger.pk))

    assert response.status_code == 200
    statement = response.context["statement"]
    today = timezone.localdate()
    assert (statement.start, statement.end) == (dt.date(today.year, 1, 1), today)


@pytest.mark.parametrize("suffix", ["", "statement.pdf", "statement.xlsx"])
def test_another_rep_gets_404(client, organisation, ledger, suffix):
    client.force_login(organisation.other_rep)

    response = client.get(_url(ledger.pk, suffix), {"start": "2025-01-01", "end": "2025-06-30"})

    assert response.status_code == 404


@pytest.mark.parametrize("suffix", ["", "statement.pdf", "statement.xlsx"])
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2025-07-01", "end": "2025-06-30"}, "2025-07-01"),
        ({"start": "2025-13-01", "end": "2025-06-30"}, "2025-13-01"),
        ({"start": "2025-01-01", "end": "yesterday"}, "yesterday"),
    ],
)
def test_a_bad_period_gets_422_with_the_reason(
    client, organisation, ledger, suffix, query, message
):
    client.force_login(organisation.rep)

    response = client.get(_url(ledger.pk, suffix), query)

    assert response.status_code == 422
    assert message in response.content.decode()


def test_the_xlsx_download(client, organisation, ledger):
    client.force_login(organisation.rep)

    response = client.get(
        _url(ledger.pk, "statement.xlsx"), {"start": "2025-01-01", "end": "2025-06-30"}
    )

    assert response.status_code == 200
    assert (
        'filename="statement-SH-001-2025-01-01-2025-06-30.xlsx"' in response["Content-Disposition"]
    )
    rows = _sheet_rows(response.content)
    assert [row[6] for row in rows if row[1] == _("Closing balance")] == [-599.55]


def test_the_pdf_download(client, organisation, ledger, weasyprint_available):
    client.force_login(organisation.rep)

    response = client.get(
        _url(ledger.pk, "statement.pdf"), {"start": "2025-01-01", "end": "2025-06-30"}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert NAME in _pdf_text(response.content)


# --- Command line ------------------------------------------------------------------------------


@pytest.fixture
def cli() -> typer.Typer:
    from kehu.cli.receivables import register

    application = typer.Typer()

    @application.callback()
    def main() -> None:
        """Test host."""

    register(application)
    return application


def test_the_command_writes_the_xlsx(cli, ledger, tmp_path):
    out = tmp_path / "statement.xlsx"

    result = CliRunner().invoke(
        cli,
        ["receivables", "statement", "SH-001", "--from", "2025-01-01", "--to", "2025-06-30",
         "--out", str(out)],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "closing -599.55" in result.output
    rows = _sheet_rows(out.read_bytes())
    assert [row[6] for row in rows if row[1] == _("Closing balance")] == [-599.55]


def test_the_command_refuses_an_inverted_period(cli, ledger, tmp_path):
    out = tmp_path / "statement.pdf"

    result = CliRunner().invoke(
        cli,
        ["receivables", "statement", "SH-001", "--from", "2025-07-01", "--to", "2025-06-30",
         "--out", str(out)],
    )  # fmt: skip

    assert result.exit_code == 1
    # The command line speaks the default language (zh-Hans).
    assert "期间开始于 2025-07-01，晚于结束日 2025-06-30" in result.output
    assert not out.exists()
    assert Invoice.objects.filter(customer=ledger).count() == 4
