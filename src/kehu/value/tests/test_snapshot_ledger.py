"""The value snapshot on a hand-built ledger (snapshot_ledger.py): exact money, classes, scores."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest

from kehu.value.models import CustomerValue, SnapshotStatus
from kehu.value.services import customer_value_assessment_record, value_snapshot_compute
from kehu.value.tests.snapshot_ledger import build_ledger

D = Decimal

# name: revenue, cost of goods, gross, activities, deliveries, orders, complaints, returns,
#       financing, bad debts, cost to serve, net
MONEY = {
    "A": ("3000", "1800", "1200", "0", "0", "90", "0", "0", "0", "0", "90", "1110"),
    "B": ("1000", "250", "750", "0", "0", "30", "0", "0", "13.15", "0", "43.15", "706.85"),
    "C": ("-100", "-60", "-40", "0", "0", "30", "0", "100", "0", "0", "130", "-170"),
    "D": ("0",) * 12,
    "E": ("0",) * 12,
    "F": ("100", "60", "40", "225", "80", "30", "150", "0", "0", "0", "485", "-445"),
    "G": ("400", "240", "160", "0", "0", "30", "0", "0", "16.04", "400", "446.04", "-286.04"),
    "H": ("100", "60", "40", "0", "0", "30", "0", "0", "0.60", "0", "30.60", "9.40"),
    "I": ("100", "60", "40", "0", "0", "30", "0", "0", "0", "0", "30", "10"),
    "M": ("60", "36", "24", "0", "0", "360", "0", "0", "0", "0", "360", "-336"),
}
MONEY_FIELDS = (
    "revenue",
    "cost_of_goods",
    "gross_profit",
    "cost_activities",
    "cost_deliveries",
    "cost_orders",
    "cost_complaints",
    "cost_returns",
    "cost_financing",
    "cost_bad_debts",
    "cost_to_serve",
    "net_profit",
)


@pytest.fixture
def ledger(organisation):
    return build_ledger(organisation)


def _rows(snapshot, ledger) -> dict[str, CustomerValue]:
    by_id = {row.customer_id: row for row in snapshot.rows.all()}
    return {name: by_id[customer.pk] for name, customer in ledger.customers.items()}


@pytest.fixture
def snapshot(ledger):
    return value_snapshot_compute(period="2025Q4")


def test_money_and_cost_to_serve_are_exact(snapshot, ledger):
    rows = _rows(snapshot, ledger)
    assert snapshot.status == SnapshotStatus.DONE
    assert (snapshot.customer_count, snapshot.active_count) == (13, 11)
    for name, expected in MONEY.items():
        got = tuple(getattr(rows[name], field) for field in MONEY_FIELDS)
        assert got == tuple(D(value) for value in expected), name
    assert rows["F"].activity_costs == {"visit": "200.00", "call": "25.00", "delivery": "80.00"}
    assert rows["B"].average_receivable == D("164.38")
    assert rows["G"].average_receivable == D("200.55")
    assert snapshot.total_revenue == D("4960.00")
    assert snapshot.window_start.isoformat() == "2025-01-01"
    assert snapshot.parameters["settings"]["cost_of_capital"] == "0.08"


def test_pyramid_ranks_by_gross_profit_with_ties_by_id(snapshot, ledger):
    rows = _rows(snapshot, ledger)
    order = sorted((row.rank, name) for name, row in rows.items() if row.rank is not None)
    assert [name for _rank, name in order] == list("ABGFHIJKLMC")
    assert {row.rank_of for row in rows.values() if row.rank} == {11}
    # 11 active: VIP round(0.11) = 0, major up to round(0.55) = 1, ordinary up to round(2.2) = 2.
    assert rows["A"].pyramid_class == "major"
    assert rows["B"].pyramid_class == "ordinary"
    assert {rows[name].pyramid_class for name in "CFGHIJKLM"} == {"small"}
    assert (rows["D"].pyramid_class, rows["E"].pyramid_class) == ("prospect", "inactive")
    assert snapshot.parameters["pyramid_counts"] == {
        "vip": 0,
        "major": 1,
        "ordinary": 1,
        "small": 9,
        "inactive": 1,
        "prospect": 1,
    }


def test_recency_tenure_and_rfm(snapshot, ledger):
    rows = _rows(snapshot, ledger)
    assert (rows["A"].recency_days, rows["A"].tenure_days, rows["A"].purchase_count) == (
        152,
        333,
        3,
    )
    assert (rows["E"].recency_days, rows["E"].purchase_count) == (609, 0)
    assert (rows["D"].recency_days, rows["D"].recency_score, rows["D"].rfm_segment) == (
        None,
        None,
        "",
    )
    expected = {
        "A": (2, 5, 5, "cannot_lose"),
        "B": (2, 3, 5, "at_risk"),
        "C": (1, 3, 1, "lost"),
        "E": (1, 1, 1, "lost"),
        "F": (5, 3, 3, "potential_loyalist"),
        "G": (2, 3, 4, "at_risk"),
        "H": (4, 3, 3, "potential_loyalist"),
        "M": (5, 5, 2, "champions"),
    }
    for name, scores in expected.items():
        row = rows[name]
        got = (row.recency_score, row.frequency_score, row.monetary_score, row.rfm_segment)
        assert got == scores, name


def test_regularity_and_payment_discipline(snapshot, ledger):
    rows = _rows(snapshot, ledger)
    # A: gaps 90 and 91 → CV 0.5 / 90.5; equal amounts → CV 0.
    gap_cv = 0.5 / 90.5
    assert rows["A"].interval_variation == D(str(round(gap_cv, 4)))
    assert rows["A"].amount_variation == D("0")
    assert rows["A"].regularity_score == D(str(round((1 + 1 / (1 + gap_cv)) / 2, 4)))
    assert rows["B"].regularity_score == D("0")  # one purchase
    # M: twelve monthly purchases.
    gaps = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30]
    mean = sum(gaps) / len(gaps)
    cv = math.sqrt(sum(g * g for g in gaps) / len(gaps) - mean * mean) / mean
    assert rows["M"].interval_variation == D(str(round(cv, 4)))
    # Payment: B paid 30 days late, G never (244 days past due), H 60% on time, 4 days late.
    assert (rows["B"].paid_on_time_share, rows["B"].days_beyond_terms) == (D("0"), D("30"))
    assert (rows["G"].paid_on_time_share, rows["G"].days_beyond_terms) == (D("0"), D("244"))
    assert (rows["H"].paid_on_time_share, rows["H"].days_beyond_terms) == (D("0.6"), D("4"))
    assert rows["H"].payment_score == D(str(round(0.6 * (1 - 4 / 90), 4)))
    assert rows["A"].paid_on_time_share is None  # no invoice: cash
    assert rows["A"].payment_score == D("1")


def test_loyalty_quadrants_and_money_classes(snapshot, ledger):
    rows = _rows(snapshot, ledger)
    a_regularity = (1 + 1 / (1 + 0.5 / 90.5)) / 2
    a_loyalty = (333 / 1095 + 3 / 12 + a_regularity + 1) / 4
    assert rows["A"].loyalty_score == D(str(round(a_loyalty, 4)))
    # Median revenue of the 11 active customers is 100: only A, B and G are above it.
    assert snapshot.parameters["matrix_volume_threshold"] == "100.00"
    quadrants = {name: rows[name].quadrant for name in "ABCFGHM"}
    assert quadrants == {
        "A": "core",
        "B": "risk",
        "G": "risk",
        "M": "growth",
        "C": "marginal",
        "F": "marginal",
        "H": "marginal",
    }
    assert (rows["D"].quadrant, rows["E"].money_class) == ("not_active", "not_active")
    # A: frequency 19/22, volume 21/22, margin 0.5 (nine at 40%), loyalty, payment 1.
    a_money = (19 / 22 + 21 / 22 + 0.5 + a_loyalty + 1) / 5
    assert rows["A"].money_score == D(str(round(a_money, 4)))
    assert rows["A"].money_class == "with_money"
    assert rows["B"].money_class == "short_of_money"
    assert rows["C"].money_class == "short_of_money"


def test_seven_factor_score_uses_assessments_and_the_default(ledger, organisation):
    a_regularity = (1 + 1 / (1 + 0.5 / 90.5)) / 2
    a_loyalty = (333 / 1095 + 3 / 12 + a_regularity + 1) / 4
    data = 0.2 * 21 / 22 + 0.1 * a_regularity + 0.2 * 21 / 22 + 0.2 * a_loyalty
    customer = ledger.customers["A"]
    # No assessment: the three human factors count the default 2.5 of 5.
    before = value_snapshot_compute(period="2025Q4").rows.get(customer=customer)
    assert before.seven_factor_score == D(str(round(100 * (data + 0.3 * 0.5), 4)))
    # Assessed 5 of 5 on all three before the period's end: +100 × 0.3 × 0.5 = 15 points.
    customer_value_assessment_record(
        customer=customer,
        feedback_frequency=5,
        industry_influence=5,
        demand_potential=5,
        assessed_by=organisation.customer_manager,
        assessed_on=dt.date(2025, 12, 1),
    )
    after = value_snapshot_compute(period="2025Q4").rows.get(customer=customer)
    assert after.seven_factor_score == D(str(round(100 * (data + 0.3 * 1.0), 4)))


def test_revenue_measure_and_lifetime_value_left_empty(ledger):
    snapshot = value_snapshot_compute(period="2025Q4", measure="revenue")
    assert snapshot.measure == "revenue"
    ranks = {row.customer.code: row.rank for row in snapshot.rows.select_related("customer")}
    assert ranks["V-A"] == 1
    assert ranks["V-C"] == 11
    assert not snapshot.rows.filter(lifetime_value__isnull=False).exists()
