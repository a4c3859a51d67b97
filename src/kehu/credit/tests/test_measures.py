"""Computed indicators on a small hand-made ledger, checked by hand to the last digit."""

import datetime as dt
from decimal import Decimal

import pytest

from kehu.credit.measures import ledger_measures, survey_figure
from kehu.credit.tests.factories import CreditSurveyFactory
from kehu.customers.tests.factories import CustomerFactory
from kehu.receivables.models import PaymentAllocation
from kehu.receivables.services import (
    allocation_reverse,
    credit_note_create,
    invoice_create,
    payment_record,
    write_off_create,
)

D = Decimal
AS_OF = dt.date(2026, 6, 30)  # the window is 2025-07-01 … 2026-06-30


@pytest.fixture
def ledger(organisation):
    """Customer A (first purchase 2024-06-30), 30-day terms:
    - I0 500 issued 2025-03-01 (the year before the window), paid in full 2025-03-20;
    - I1 1,000 issued 2026-03-01, due 03-31: 600 paid 04-20 (20 days late), 100 written off
      06-20; open 300 at 06-30, 91 days past due;
    - I2 2,000 issued 04-10, due 05-10: 1,000 paid 05-05 (on time); open 1,000, 51 days past due;
    - I3 300 issued 06-15, due 07-15: not yet due.
    Customer B: nothing at all."""
    a = CustomerFactory(code="A", owner=organisation.rep, first_purchase_on=dt.date(2024, 6, 30))
    a.last_purchase_on = dt.date(2026, 6, 15)
    a.save()
    b = CustomerFactory(code="B", owner=organisation.rep)
    i0 = invoice_create(customer=a, number="I0", issue_date=dt.date(2025, 3, 1), amount=D("500"))
    payment_record(
        customer=a, number="P0", received_on=dt.date(2025, 3, 20), amount=D("500"), invoices=[i0]
    )
    i1 = invoice_create(customer=a, number="I1", issue_date=dt.date(2026, 3, 1), amount=D("1000"))
    payment_record(
        customer=a, number="P1", received_on=dt.date(2026, 4, 20), amount=D("600"), invoices=[i1]
    )
    i2 = invoice_create(customer=a, number="I2", issue_date=dt.date(2026, 4, 10), amount=D("2000"))
    payment_record(
        customer=a, number="P2", received_on=dt.date(2026, 5, 5), amount=D("1000"), invoices=[i2]
    )
    invoice_create(customer=a, number="I3", issue_date=dt.date(2026, 6, 15), amount=D("300"))
    write_off_create(
        invoice=i1, amount=D("100"), written_off_on=dt.date(2026, 6, 20), reason="破产",
        decided_by=organisation.finance,
    )  # fmt: skip
    return {"a": a, "b": b, "i1": i1, "i2": i2}


def _measures(*customers, as_of=AS_OF, all_customers=False):
    return ledger_measures(
        as_of=as_of,
        customers=[(customer.pk, customer.first_purchase_on) for customer in customers],
        all_customers=all_customers,
    )


def test_every_computed_measure_of_a_known_ledger(ledger):
    measures = _measures(ledger["a"], ledger["b"])

    # Due in the window: I1 1,000 + I2 2,000; paid by the due date: 1,000 of I2.
    # Days beyond terms: (600 × 20 + 1,000 × 0 + 300 × 91 + 1,000 × 51) / (1,600 + 1,300)
    #   = 90,300 / 2,900 = 31.14 → 31.1.
    # Growth: (1,000 + 2,000 + 300) / 500 − 1 = 5.6. Years: 730 days / 365.25 = 2.00.
    assert measures[ledger["a"].pk] == {
        "on_time_share": D("0.3333"),
        "avg_days_beyond_terms": D("31.1"),
        "oldest_overdue_days": D("91"),
        "bad_debts": D("1"),
        "years_trading": D("2.00"),
        "purchase_growth": D("5.600000"),
    }
    assert measures[ledger["b"].pk] == {
        "on_time_share": None,
        "avg_days_beyond_terms": None,
        "oldest_overdue_days": D("0"),
        "bad_debts": D("0"),
        "years_trading": None,
        "purchase_growth": None,
    }


def test_the_whole_register_gives_the_same_figures_as_one_customer(ledger):
    alone = _measures(ledger["a"])
    everyone = _measures(ledger["a"], ledger["b"], all_customers=True)

    assert everyone[ledger["a"].pk] == alone[ledger["a"].pk]


def test_the_measures_are_as_of_the_date_not_as_of_today(ledger):
    # As of 2026-04-30: I1 due 03-31 is open 1,000 until the 04-20 payment, which counts;
    # I2 is not yet due. Days beyond terms: (600 × 20 + 400 × 30) / (600 + 400) = 24.0.
    measures = _measures(ledger["a"], as_of=dt.date(2026, 4, 30))[ledger["a"].pk]

    assert measures["oldest_overdue_days"] == D("30")
    assert measures["avg_days_beyond_terms"] == D("24.0")
    assert measures["on_time_share"] == D("0.0000")
    assert measures["bad_debts"] == D("0")


def test_a_reversed_allocation_and_a_credit_note_count_as_of_their_dates(ledger, organisation):
    allocation = PaymentAllocation.objects.get(invoice=ledger["i2"])
    allocation_reverse(allocation=allocation, on=dt.date(2026, 6, 1))
    credit_note_create(
        customer=ledger["a"], number="CN1", invoice=ledger["i2"], issue_date=dt.date(2026, 6, 2),
        amount=D("1000"),
    )  # fmt: skip

    measures = _measures(ledger["a"])[ledger["a"].pk]

    # Due: 1,000 + (2,000 − 1,000 credited) = 2,000, nothing paid on time any more.
    assert measures["on_time_share"] == D("0.0000")
    # Open and overdue: I1 300 × 91, I2 1,000 × 51; paid in the window only 600 × 20 now:
    # 90,300 / (600 + 1,300) = 47.53 → 47.5.
    assert measures["avg_days_beyond_terms"] == D("47.5")


def test_survey_figures(organisation):
    survey = CreditSurveyFactory(
        customer=CustomerFactory(owner=organisation.rep), profit_year_2=D("-5")
    )

    assert survey_figure(survey, "quick_ratio") == D("1.200000")
    assert survey_figure(survey, "debt_to_asset_ratio") == D("0.500000")
    assert survey_figure(survey, "total_asset_turnover") == D("4.000000")
    assert survey_figure(survey, "net_profit_margin") == D("0.100000")
    assert survey_figure(survey, "capital_growth") == D("0.200000")
    assert survey_figure(survey, "profitable_years") == D("2")
    survey.current_liabilities = None
    assert survey_figure(survey, "quick_ratio") is None
    assert survey_figure(None, "quick_ratio") is None
