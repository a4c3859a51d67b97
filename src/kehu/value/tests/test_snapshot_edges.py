"""Edge cases of the value snapshot: nothing to count, one customer, everyone equal, periods."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kehu.catalog.tests.factories import ProductFactory
from kehu.core.errors import ValidationFailed
from kehu.customers.tests.factories import CustomerFactory
from kehu.sales.services import OrderLineInput, order_create
from kehu.value.models import CustomerValue, SnapshotStatus
from kehu.value.periods import last_closed_quarter, period_parse, window_start
from kehu.value.scoring import pyramid_cuts, quintiles
from kehu.value.services import value_settings_update, value_snapshot_compute


def _buy(customer, number: str, on: dt.date, price: str) -> None:
    order_create(
        customer=customer,
        number=number,
        order_date=on,
        lines=[
            OrderLineInput(
                product=ProductFactory(),
                quantity=Decimal(1),
                unit_price=Decimal(price),
                unit_cost=Decimal(0),
            )
        ],
    )


def _no_nan(snapshot) -> None:
    for row in CustomerValue.objects.filter(snapshot=snapshot).values():
        for name, value in row.items():
            assert value is None or value == value, name  # NaN is the one value ≠ itself


def test_no_customers_at_all(db):
    snapshot = value_snapshot_compute(period="2025Q4")
    assert (snapshot.status, snapshot.customer_count) == (SnapshotStatus.EMPTY, 0)
    assert snapshot.message == "there are no customers"


def test_customers_but_no_transactions(organisation):
    CustomerFactory.create_batch(3, owner=organisation.rep)
    snapshot = value_snapshot_compute(period="2025-11")
    assert snapshot.status == SnapshotStatus.EMPTY
    assert "no purchases from 2024-12-01 to 2025-11-30" in snapshot.message
    assert set(snapshot.rows.values_list("pyramid_class", flat=True)) == {"prospect"}
    assert set(snapshot.rows.values_list("quadrant", flat=True)) == {"not_active"}
    _no_nan(snapshot)


def test_a_period_with_no_data_is_empty_not_an_error(organisation):
    customer = CustomerFactory(owner=organisation.rep)
    _buy(customer, "O1", dt.date(2025, 3, 1), "10")
    snapshot = value_snapshot_compute(period="2020")
    assert snapshot.status == SnapshotStatus.EMPTY
    row = snapshot.rows.get()
    assert (row.pyramid_class, row.recency_days, row.rfm_segment) == ("prospect", None, "")


def test_one_customer_with_a_single_purchase(organisation):
    customer = CustomerFactory(owner=organisation.rep)
    _buy(customer, "O1", dt.date(2025, 12, 1), "10")
    snapshot = value_snapshot_compute(period="2025Q4")
    row = snapshot.rows.get()
    # One active customer: 1% of 1 rounds to 0, so no VIP: a small customer ranked 1 of 1.
    assert (row.pyramid_class, row.rank, row.rank_of) == ("small", 1, 1)
    assert (row.recency_score, row.frequency_score, row.monetary_score) == (3, 3, 3)
    assert row.rfm_segment == "need_attention"
    assert (row.interval_variation, row.amount_variation, row.regularity_score) == (
        None,
        None,
        Decimal("0"),
    )
    assert row.quadrant in ("growth", "marginal")  # not above its own median
    _no_nan(snapshot)


def test_all_customers_equal_rank_by_id_and_score_alike(organisation):
    customers = CustomerFactory.create_batch(5, owner=organisation.rep)
    for index, customer in enumerate(customers):
        _buy(customer, f"O{index}", dt.date(2025, 10, 1), "50")
    snapshot = value_snapshot_compute(period="2025Q4")
    rows = list(snapshot.rows.order_by("rank"))
    assert [row.customer_id for row in rows] == sorted(c.pk for c in customers)
    assert {(r.recency_score, r.frequency_score, r.monetary_score) for r in rows} == {(3, 3, 3)}
    assert len({r.money_score for r in rows}) == 1
    assert {r.quadrant for r in rows} <= {"growth", "marginal"}
    again = value_snapshot_compute(period="2025Q4")
    assert [r.customer_id for r in again.rows.order_by("rank")] == [r.customer_id for r in rows]


def test_two_hundred_customers_make_a_2_8_30_160_pyramid(organisation):
    customers = CustomerFactory.create_batch(200, owner=organisation.rep)
    for index, customer in enumerate(customers):
        _buy(customer, f"O{index}", dt.date(2025, 11, 1), str(1000 - index))
    snapshot = value_snapshot_compute(period="2025Q4")
    counts = {
        name: snapshot.rows.filter(pyramid_class=name).count()
        for name in ("vip", "major", "ordinary", "small")
    }
    assert counts == {"vip": 2, "major": 8, "ordinary": 30, "small": 160}
    top = snapshot.rows.get(rank=1)
    assert (top.customer_id, top.gross_profit) == (customers[0].pk, Decimal("1000.00"))


def test_pyramid_cuts_round_half_up_exactly():
    shares = {"vip": "0.01", "major": "0.04", "ordinary": "0.15"}
    assert pyramid_cuts(1000, shares) == (10, 50, 200)
    assert pyramid_cuts(200, shares) == (2, 10, 40)
    assert pyramid_cuts(50, shares) == (1, 3, 10)  # 0.5 → 1, 2.5 → 3
    assert pyramid_cuts(0, shares) == (0, 0, 0)


def test_quintiles_share_scores_among_ties():
    import numpy as np

    assert quintiles(np.array([1, 2, 3, 4, 5])).tolist() == [1, 2, 3, 4, 5]
    assert quintiles(np.array([7, 7, 7])).tolist() == [3, 3, 3]
    assert quintiles(np.array([9, 1, 1, 1, 1, 1, 1, 1, 1, 1])).tolist() == [5] + [3] * 9


def test_periods_and_windows():
    assert period_parse("2025Q4").start == dt.date(2025, 10, 1)
    assert period_parse("2025q1").end == dt.date(2025, 3, 31)
    assert period_parse("2024-02").end == dt.date(2024, 2, 29)
    assert period_parse("2025").end == dt.date(2025, 12, 31)
    assert last_closed_quarter(dt.date(2026, 1, 15)).label == "2025Q4"
    assert last_closed_quarter(dt.date(2026, 6, 30)).label == "2026Q1"
    assert window_start(dt.date(2025, 12, 31), 12) == dt.date(2025, 1, 1)
    assert window_start(dt.date(2025, 2, 28), 3) == dt.date(2024, 12, 1)
    for bad in ("", "2025Q0", "2025-13", "25Q1", "2025/11", "Q4"):
        with pytest.raises(ValidationFailed, match="is not a year"):
            period_parse(bad)


def test_settings_changes_are_versioned_and_checked(organisation):
    first = value_settings_update(
        changes={"cost_of_capital": "0.1"}, actor=organisation.finance, reason="rates up"
    )
    second = value_settings_update(changes={"pyramid": {"vip": "0.02"}})
    assert second.values["cost_of_capital"] == "0.1"
    assert second.values["pyramid"] == {"vip": "0.02", "major": "0.04", "ordinary": "0.15"}
    assert first.values["pyramid"]["vip"] == "0.01"
    for changes, message in (
        ({"colour": "red"}, "unknown value setting 'colour'"),
        ({"pyramid": {"vip": "0.9"}}, "add up to more than 1"),
        ({"window_months": 0}, "window_months"),
        ({"money_weights": {"frequency": "x"}}, "money_weights.frequency"),
    ):
        with pytest.raises(ValidationFailed, match=message):
            value_settings_update(changes=changes)
    assert second.__class__.objects.count() == 2


def test_settings_reach_the_snapshot(organisation):
    customer = CustomerFactory(owner=organisation.rep)
    _buy(customer, "O1", dt.date(2025, 12, 1), "10")
    value_settings_update(changes={"unit_costs": {"order_handled": "7.50"}, "window_months": 3})
    snapshot = value_snapshot_compute(period="2025Q4")
    assert snapshot.window_start == dt.date(2025, 10, 1)
    assert snapshot.rows.get().cost_orders == Decimal("7.50")
    assert snapshot.parameters["settings"]["unit_costs"]["order_handled"] == "7.50"
