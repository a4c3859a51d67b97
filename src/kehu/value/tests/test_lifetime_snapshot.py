"""Lifetime value in the value snapshot (§4.6), on the ledger of lifetime_ledger.py.

The expected values are worked out here from the published closed forms, not with the model
code: BG/NBD's P(alive) and conditional expectation (Fader, Hardie & Lee 2005, eq. 10, with
scipy's hyp2f1), Gamma-Gamma's expected spend, and the monthly discounting of the lifetime value.
The summaries (frequency, recency, T, monetary value) of the hand-made customers are in
lifetime_ledger.HAND_MADE.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest
from scipy.special import hyp2f1

from kehu.sales.models import PURCHASE_STATES, Order
from kehu.value import lifetime
from kehu.value.clv import bgnbd
from kehu.value.clv.fitting import FitResult
from kehu.value.models import CustomerValue, SnapshotStatus
from kehu.value.services import value_snapshot_compute
from kehu.value.tests.lifetime_ledger import AS_OF, HAND_MADE, PERIOD, build_lifetime_ledger

LIFETIME_COLUMNS = ("probability_alive", "expected_purchases", "expected_spend", "lifetime_value")
YEAR = 365.25


def _alive(params: dict[str, float], x: float, t_x: float, age: float) -> float:
    r, alpha, a, b = (params[name] for name in ("r", "alpha", "a", "b"))
    if x == 0:
        return 1.0
    return 1.0 / (1.0 + a / (b + x - 1) * ((alpha + age) / (alpha + t_x)) ** (r + x))


def _alive_purchases(params: dict[str, float], x: float, age: float, t: float) -> float:
    """Expected purchases in (T, T + t] of a customer alive at T (eq. 10 without P(alive))."""
    r, alpha, a, b = (params[name] for name in ("r", "alpha", "a", "b"))
    ratio = (alpha + age) / (alpha + age + t)
    series = hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + age + t))
    return (a + b + x - 1) / (a - 1) * (1 - ratio ** (r + x) * series)


def _spend(params: dict[str, float], x: float, m: float) -> float:
    p, q, gamma = params["p"], params["q"], params["gamma"]
    return (gamma * p + p * x * m) / (p * x + q - 1)


def _lifetime_value(purchase: dict, spend: dict, summary) -> float:  # type: ignore[no-untyped-def]
    alive = _alive(purchase, summary.frequency, summary.recency, summary.age)
    total, before = 0.0, 0.0
    for month in range(1, 121):
        after = _alive_purchases(purchase, summary.frequency, summary.age, month * YEAR / 12)
        total += (after - before) * 1.1 ** (-month / 12)
        before = after
    return alive * total * _spend(spend, summary.frequency, summary.monetary_value)


@pytest.fixture
def ledger(organisation):
    return build_lifetime_ledger(organisation)


def _rows(snapshot) -> dict[str, CustomerValue]:  # type: ignore[no-untyped-def]
    return {
        row.customer.code: row
        for row in CustomerValue.objects.filter(snapshot=snapshot).select_related("customer")
    }


def test_snapshot_fills_the_lifetime_columns_as_the_closed_forms_give(ledger):
    snapshot = value_snapshot_compute(period=PERIOD)

    assert snapshot.status == SnapshotStatus.DONE
    assert snapshot.message == ""
    stored = snapshot.parameters["lifetime"]
    assert (stored["model"], stored["unit"], stored["as_of"]) == ("bgnbd", "day", "2025-12-31")
    assert (stored["horizon_years"], stored["discount_rate"]) == (10, 0.1)
    assert stored["customers"] == 34  # the 35 customers less the one who never bought
    purchase, spend = stored["purchase"], stored["spend"]
    assert purchase["converged"]
    assert purchase["source"] == "fit"
    assert spend["converged"]
    assert spend["parameters"]["q"] > 1
    assert set(purchase["standard_errors"]) == {"r", "alpha", "a", "b"}
    assert all(value > 0 for value in purchase["standard_errors"].values())
    assert purchase["log_likelihood"] < 0

    rows = _rows(snapshot)
    params = purchase["parameters"]
    for code, summary in HAND_MADE.items():
        row = rows[code]
        alive = _alive(params, summary.frequency, summary.recency, summary.age)
        next_year = alive * _alive_purchases(params, summary.frequency, summary.age, YEAR)
        assert float(row.probability_alive) == pytest.approx(alive, abs=5e-5), code
        assert float(row.expected_purchases) == pytest.approx(next_year, abs=5e-5), code
        expected_spend = _spend(spend["parameters"], summary.frequency, summary.monetary_value)
        assert float(row.expected_spend) == pytest.approx(expected_spend, abs=0.005), code
        value = _lifetime_value(params, spend["parameters"], summary)
        assert float(row.lifetime_value) == pytest.approx(value, rel=1e-7, abs=0.01), code

    # who bought recently and often is more likely alive than who stopped two years ago
    active, stopped = rows["L-ACTIVE"], rows["L-STOPPED"]
    assert active.probability_alive > Decimal("0.5") > Decimal("0.01") > stopped.probability_alive
    assert active.lifetime_value > 1000 * stopped.lifetime_value
    assert rows["L-ONCE"].probability_alive == Decimal("1.0000")  # BG/NBD: no repeat, no death
    for column in LIFETIME_COLUMNS:
        assert getattr(rows["L-NONE"], column) is None  # never bought
        values = [getattr(row, column) for row in rows.values() if row.customer.code != "L-NONE"]
        assert all(value is not None and value.is_finite() and value >= 0 for value in values)

    totals = stored["totals"]
    valued = [row.lifetime_value for row in rows.values() if row.lifetime_value is not None]
    assert totals["customers_valued"] == len(valued) == 34
    assert totals["lifetime_value"] == pytest.approx(float(sum(valued)), abs=0.005 * 34)
    assert totals["likely_lost"] == sum(
        1
        for row in rows.values()
        if row.probability_alive is not None and row.probability_alive < Decimal("0.5")
    )


def test_holdout_check_compares_the_three_models_on_what_customers_then_bought(ledger):
    snapshot = value_snapshot_compute(period=PERIOD)
    check = snapshot.parameters["lifetime"]["holdout"]
    cut = AS_OF - dt.timedelta(weeks=26)
    assert (check["calibration_end"], check["holdout_end"]) == (cut.isoformat(), "2025-12-31")
    assert check["skipped"] is None

    # counted here from the orders: the cohort bought before the cut; purchase days after it
    days: dict[int, set[dt.date]] = {}
    for customer, day in Order.objects.filter(state__in=PURCHASE_STATES).values_list(
        "customer_id", "order_date"
    ):
        days.setdefault(customer, set()).add(day)
    cohort = {customer: dates for customer, dates in days.items() if min(dates) <= cut}
    holdout = sum(1 for dates in cohort.values() for day in dates if day > cut)
    repeats = sum(len(dates) - 1 for dates in cohort.values())

    assert [row["model"] for row in check["models"]] == ["bgnbd", "mbgnbd", "pareto_nbd"]
    assert [row["in_use"] for row in check["models"]] == [True, False, False]
    assert check["customers"] == len(cohort)
    assert check["actual"][-1] == repeats  # cumulative repeat purchases at the holdout end
    assert len(check["times"]) == len(check["actual"])
    for row in check["models"]:
        assert row["converged"], row["model"]
        assert row["holdout_actual_total"] == holdout
        assert sum(group["customers"] for group in row["groups"]) == len(cohort)
        assert row["holdout_predicted_total"] > 0
        assert len(row["predicted"]) == len(check["times"])
        assert row["log_likelihood"] < 0
        assert row["holdout_customer_rmse"] > 0


def test_retention_what_if_on_the_snapshot(ledger):
    snapshot = value_snapshot_compute(period=PERIOD)
    stored = snapshot.parameters["lifetime"]
    implied = stored["retention"]["implied"]
    assert 0 < implied < 1
    same = lifetime.retention_what_if(stored, 0)
    assert float(same.value_without) == pytest.approx(stored["totals"]["lifetime_value"], abs=0.02)
    assert same.value_with == same.value_without
    better = lifetime.retention_what_if(stored, 1)
    worse = lifetime.retention_what_if(stored, -1)
    assert worse.value_with < same.value_with < better.value_with
    assert better.relative_change > 0 > worse.relative_change


def test_a_fit_that_does_not_converge_keeps_the_last_good_model(ledger, monkeypatch):
    first = value_snapshot_compute(period=PERIOD)
    good = first.parameters["lifetime"]["purchase"]["parameters"]
    real_fit = bgnbd.fit

    def not_converging(*arguments, **keywords):  # type: ignore[no-untyped-def]
        result = real_fit(*arguments, **keywords)
        wrong = {name: value * 3 for name, value in result.params.items()}
        return FitResult(
            model=result.model,
            params=wrong,
            standard_errors=result.standard_errors,
            log_likelihood=result.log_likelihood,
            converged=False,
            iterations=2000,
            message="did not converge (largest gradient 0.5): ABNORMAL",
            customers=result.customers,
        )

    monkeypatch.setattr(bgnbd, "fit", not_converging)
    second = value_snapshot_compute(period=PERIOD)

    assert second.status == SnapshotStatus.DONE
    assert f"the model of snapshot {first.pk} was kept" in second.message
    assert "did not converge" in second.message
    purchase = second.parameters["lifetime"]["purchase"]
    assert purchase["source"] == f"snapshot {first.pk}"
    assert purchase["kept_parameters"] == good
    assert purchase["converged"] is False
    before, after = _rows(first), _rows(second)
    for code in ("L-ACTIVE", "L-STOPPED", "L-SAMEDAY"):
        assert after[code].probability_alive == before[code].probability_alive
        assert after[code].expected_purchases == before[code].expected_purchases
    # and the snapshot after that keeps it too, through the second one
    third = value_snapshot_compute(period=PERIOD)
    assert f"the model of snapshot {second.pk} was kept" in third.message
    assert third.parameters["lifetime"]["purchase"]["kept_parameters"] == good


def test_no_good_model_anywhere_leaves_the_columns_empty(ledger, monkeypatch):
    monkeypatch.setattr(lifetime, "FIT_SECONDS", 0.0)  # every fit runs out of time at once
    snapshot = value_snapshot_compute(period=PERIOD)

    assert snapshot.status == SnapshotStatus.DONE
    assert "no earlier snapshot has a good one" in snapshot.message
    assert "stopped after 0 seconds" in snapshot.message
    assert not CustomerValue.objects.filter(snapshot=snapshot, probability_alive__isnull=False)
    assert not CustomerValue.objects.filter(snapshot=snapshot, lifetime_value__isnull=False)
    assert snapshot.parameters["lifetime"]["totals"] is None
    assert bgnbd.maximise_likelihood.__name__ == "maximise_likelihood"  # put back


def _orders(customer, dates: list[str], amount: str = "100") -> None:  # type: ignore[no-untyped-def]
    from kehu.value.tests.lifetime_ledger import _Orders

    orders = _Orders()
    orders.count = customer.pk * 100
    for day in dates:
        orders.add(customer, dt.date.fromisoformat(day), amount)


@pytest.mark.parametrize(
    ("histories", "message"),
    [
        ([], "no customer has bought by 2025-12-31"),
        ([["2025-02-01", "2025-05-01", "2025-10-01"]], "only one customer has bought"),
        ([["2025-02-01"], ["2025-03-01"], ["2024-11-11"]], "no customer has bought on two"),
        # two orders of one customer on one day are one purchase day
        ([["2025-02-01", "2025-02-01"], ["2025-03-01"]], "no customer has bought on two"),
    ],
    ids=["no purchases", "one customer", "no repeat buyer", "same day twice"],
)
def test_too_little_data_gives_a_clear_message_and_no_values(organisation, histories, message):
    from kehu.customers.tests.factories import CustomerFactory

    CustomerFactory(code="NEVER", owner=organisation.rep)
    for index, dates in enumerate(histories):
        _orders(CustomerFactory(code=f"C{index}", owner=organisation.rep), dates)

    snapshot = value_snapshot_compute(period=PERIOD)

    assert snapshot.status in (SnapshotStatus.DONE, SnapshotStatus.EMPTY)
    assert "Lifetime value not estimated" in snapshot.message
    assert message in snapshot.message
    stored = snapshot.parameters["lifetime"]
    assert stored["totals"] is None
    assert stored["purchase"] is None
    assert message in stored["holdout"]["skipped"]
    for column in LIFETIME_COLUMNS:
        assert not CustomerValue.objects.filter(
            snapshot=snapshot, **{f"{column}__isnull": False}
        ).exists()


def test_stored_parameters_are_plain_json_without_nan(ledger):
    snapshot = value_snapshot_compute(period=PERIOD)
    snapshot.refresh_from_db()

    def walk(value):  # type: ignore[no-untyped-def]
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, float):
            assert math.isfinite(value)

    walk(snapshot.parameters["lifetime"])
