"""Figures of receivables on a small hand-made ledger, checked to the cent and the tenth."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test.utils import override_settings

from kehu.core.errors import ValidationFailed
from kehu.customers.tests.factories import CustomerFactory
from kehu.receivables.figures import (
    bad_debt_recoveries,
    cash_against_sales_by_month,
    days_beyond_terms_by_customer,
    receivables_figures,
)
from kehu.receivables.services import (
    invoice_create,
    payment_record,
    write_off_create,
)

D = Decimal
FROM, TO = dt.date(2026, 4, 1), dt.date(2026, 6, 30)  # 91 days


@pytest.fixture
def ledger(organisation):
    """East customer A: 1,000 open at the start (issued in March, due 03-31), paid 600 on
    04-20 (20 days late); 2,000 issued 04-10 (due 05-10), 1,000 of it paid on time 05-05;
    300 issued 06-15 (not yet due on 06-30); 100 written off on 06-20 on the March invoice.
    West customer B: 500 issued 05-01, nothing paid (overdue 20 days at the end)."""
    east = CustomerFactory(code="A", owner=organisation.rep, payment_terms_days=30)
    west = CustomerFactory(code="B", owner=organisation.other_rep, payment_terms_days=30)
    march = invoice_create(
        customer=east, number="I1", issue_date=dt.date(2026, 3, 1), amount=D("1000.00")
    )
    payment_record(
        customer=east, number="P1", received_on=dt.date(2026, 4, 20), amount=D("600.00"),
        invoices=[march],
    )  # fmt: skip
    april = invoice_create(
        customer=east, number="I2", issue_date=dt.date(2026, 4, 10), amount=D("2000.00")
    )
    payment_record(
        customer=east, number="P2", received_on=dt.date(2026, 5, 5), amount=D("1000.00"),
        invoices=[april],
    )  # fmt: skip
    invoice_create(customer=east, number="I3", issue_date=dt.date(2026, 6, 15), amount=D("300"))
    write_off_create(
        invoice=march, amount=D("100.00"), written_off_on=dt.date(2026, 6, 20), reason="破产",
        decided_by=organisation.finance,
    )  # fmt: skip
    invoice_create(customer=west, number="I4", issue_date=dt.date(2026, 5, 1), amount=D("500"))
    return {"east": east, "west": west}


def test_company_figures(organisation, ledger):
    figures = receivables_figures(user=organisation.finance, date_from=FROM, date_to=TO)

    assert figures.receivables_at_start == D("1000.00")
    assert figures.credit_sales == D("2800.00")
    assert figures.cash_collected == D("1600.00")
    # At the end: 300 (I1) + 1,000 (I2) + 300 (I3, not yet due) + 500 (I4).
    assert figures.receivables_at_end == D("2100.00")
    assert figures.not_yet_due_at_end == D("300.00")
    # DSO = 2,100 / 2,800 × 91 = 68.25 → 68.3
    assert figures.days_sales_outstanding == D("68.3")
    # CEI = (1,000 + 2,800 − 2,100) / (1,000 + 2,800 − 300) × 100 = 48.57 → 48.6
    assert figures.collection_effectiveness_index == D("48.6")
    assert figures.written_off == D("100.00")
    assert figures.net_margin == D("0.05")
    assert figures.sales_to_recover_write_offs == D("2000.00")
    assert figures.total_assets is None
    assert figures.receivables_share_of_assets is None


@override_settings(KEHU={"TOTAL_ASSETS": 8400, "NET_MARGIN": 0.1, "AGING_BUCKETS": (30,)})
def test_share_of_total_assets_and_the_margin_are_settings(organisation, ledger):
    figures = receivables_figures(user=organisation.finance, date_from=FROM, date_to=TO)

    assert figures.receivables_share_of_assets == D("0.2500")
    assert figures.sales_to_recover_write_offs == D("1000.00")
    recoveries = bad_debt_recoveries(user=organisation.finance, date_from=FROM, date_to=TO)
    assert [(r.write_off.amount, r.sales_needed) for r in recoveries] == [
        (D("100.00"), D("1000.00"))
    ]


def test_a_rep_s_figures_cover_only_their_customers(organisation, ledger):
    figures = receivables_figures(user=organisation.other_rep, date_from=FROM, date_to=TO)

    assert (figures.receivables_at_end, figures.credit_sales, figures.written_off) == (
        D("500.00"),
        D("500.00"),
        D("0.00"),
    )
    assert bad_debt_recoveries(user=organisation.other_rep, date_from=FROM, date_to=TO) == []


def test_days_beyond_terms_are_weighted_by_amount(organisation, ledger):
    rows = days_beyond_terms_by_customer(user=organisation.finance, date_from=FROM, date_to=TO)

    # A: paid 600 × 20 days + 1,000 × 0; open overdue at 06-30: I1 300 × 91 days,
    #    I2 1,000 × 51 days → (12,000 + 27,300 + 51,000) / 2,900 = 31.14 → 31.1
    # B: I4 due 05-31, 500 × 30 days / 500 = 30.0
    assert [(r.code, r.days_beyond_terms, r.paid_amount, r.overdue_amount) for r in rows] == [
        ("A", D("31.1"), D("1600.00"), D("1300.00")),
        ("B", D("30.0"), D("0.00"), D("500.00")),
    ]


def test_cash_against_sales_per_month(organisation, ledger):
    months = cash_against_sales_by_month(user=organisation.finance, date_from=FROM, date_to=TO)

    assert [(m.month.month, m.sales, m.cash) for m in months] == [
        (4, D("2000.00"), D("600.00")),
        (5, D("500.00"), D("1000.00")),
        (6, D("300.00"), D("0.00")),
    ]


def test_a_period_that_ends_before_it_starts_is_refused(organisation):
    with pytest.raises(ValidationFailed, match="ends"):
        receivables_figures(user=organisation.finance, date_from=TO, date_to=FROM)
