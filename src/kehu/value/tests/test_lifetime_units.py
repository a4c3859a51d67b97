"""The pieces of kehu.value.lifetime that need no ledger: the per-customer summary of purchase
days, the retention what-if and its input, the lifetime settings and the fit time budget."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from kehu.core.errors import ValidationFailed
from kehu.value import lifetime
from kehu.value.clv import bgnbd
from kehu.value.settings import DEFAULTS, merge, validate_settings


def test_purchase_days_summary_follows_the_lifetimes_conventions():
    # customer 7: days 10 (500.00), 40 (300.00), 100 (100.00); customer 3: day 50 only;
    # rows in any order, as an engine may return them; amounts in cents
    table = pa.table(
        {
            "customer_id": [7, 3, 7, 7],
            "day": [100, 50, 10, 40],
            "amount": [10_000, 7_000, 50_000, 30_000],
        }
    )
    days = lifetime.PurchaseDays.from_arrow(table)

    summary = days.summarise(as_of=120)

    assert summary.customer_ids.tolist() == [3, 7]
    assert summary.frequency.tolist() == [0, 2]
    assert summary.recency.tolist() == [0, 90]
    assert summary.age.tolist() == [70, 110]
    # the mean of the purchase days after the first: (300 + 100) / 2 yuan
    assert summary.monetary_value.tolist() == [0.0, 200.0]

    calibration = days.until(45).summarise(45)
    assert calibration.customer_ids.tolist() == [7]
    assert (calibration.frequency[0], calibration.recency[0], calibration.age[0]) == (1, 30, 35)


def _lifetime_with(spend_by_month: list[float], factors: list[float], implied: float) -> dict:
    return {
        "retention": {
            "implied": implied,
            "spend_by_month": spend_by_month,
            "discount_factors": factors,
        }
    }


def test_retention_what_if_scales_the_spend_of_year_t_by_the_ratio_to_the_power_t():
    months = np.arange(1, 25)
    spend = 100 * 0.9 ** (months / 12)  # the second year keeps 90% of the first year's spend
    factors = 1.1 ** (-months / 12)
    implied = spend[12:].sum() / spend[:12].sum()
    assert implied == pytest.approx(0.9)
    stored = _lifetime_with(spend.tolist(), factors.tolist(), implied)

    result = lifetime.retention_what_if(stored, 5)

    # with retention 95% the spend of month k is 100 × 0.95^(k/12), discounted the same way
    assert float(result.value_with) == pytest.approx(
        float(np.sum(100 * 0.95 ** (months / 12) * factors)), abs=0.01
    )
    assert float(result.value_without) == pytest.approx(float(np.sum(spend * factors)), abs=0.01)
    assert result.retention_with == pytest.approx(0.95)
    assert result.difference == result.value_with - result.value_without
    assert result.relative_change == pytest.approx(
        float(result.value_with / result.value_without) - 1, abs=1e-5
    )
    points = [point for point, _value in result.curve]
    assert points == list(range(-10, 11))  # 0.9 − 10 points … 0.9 + 10 points = 100%
    values = [value for _point, value in result.curve]
    assert values == sorted(values)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (11, "would make the yearly retention 101.0%"),
        (-90, "would make the yearly retention 0.0%"),
    ],
)
def test_retention_outside_0_to_100_percent_is_refused(change, message):
    stored = _lifetime_with([100.0] * 24, [1.0] * 24, 0.9)
    with pytest.raises(ValidationFailed, match=message) as refused:
        lifetime.retention_what_if(stored, change)
    assert refused.value.detail == {"field": "retention_change"}


def test_no_lifetime_figures_no_what_if():
    with pytest.raises(ValidationFailed, match="no lifetime value"):
        lifetime.retention_what_if(None, 5)
    with pytest.raises(ValidationFailed, match="no lifetime value"):
        lifetime.retention_what_if({"retention": None}, 5)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("5", 5.0), ("+2.5", 2.5), ("-3", -3.0), ("2,5", 2.5), ("4%", 4.0), ("", 0.0), (None, 0.0)],
)
def test_retention_change_parse(raw, expected):
    assert lifetime.retention_change_parse(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("five", "'five' is not a number of percentage points"),
        ("nan", "must be between"),
        ("inf", "must be between"),
        ("51", "must be between −50 and \\+50"),
    ],
)
def test_bad_retention_change_names_what_is_wrong(raw, message):
    with pytest.raises(ValidationFailed, match=message):
        lifetime.retention_change_parse(raw)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lifetime_model": "lifetimes"}, "lifetime_model: 'lifetimes' is not one of bgnbd"),
        ({"lifetime_horizon_years": 0}, "lifetime_horizon_years: 0 is not a whole number"),
        ({"lifetime_horizon_years": "10"}, "lifetime_horizon_years: '10' is not a whole"),
        ({"lifetime_holdout_weeks": 2}, "lifetime_holdout_weeks: 2 is not a whole number"),
        ({"lifetime_discount_rate": "1.5"}, "lifetime_discount_rate: 1.5 is above 1"),
        ({"lifetime_discount_rate": "x"}, "lifetime_discount_rate: 'x' is not a number"),
    ],
)
def test_lifetime_settings_are_checked(changes, message):
    with pytest.raises(ValidationFailed, match=message):
        validate_settings(merge(DEFAULTS, changes))


def test_lifetime_settings_defaults_and_a_valid_change():
    values = validate_settings(merge(DEFAULTS, {"lifetime_model": "pareto_nbd"}))
    settings = lifetime.LifetimeSettings.from_values(values)
    assert settings == lifetime.LifetimeSettings(
        model="pareto_nbd", horizon_years=10, discount_rate=0.1, holdout_weeks=26
    )


def test_a_fit_past_its_time_budget_is_stopped_and_the_model_put_back(monkeypatch):
    frequency = np.array([0.0, 1, 2, 5])
    recency = np.array([0.0, 10, 30, 60])
    age = np.array([70.0, 70, 80, 90])
    monkeypatch.setattr(lifetime, "FIT_SECONDS", 0.0)
    original = bgnbd.maximise_likelihood

    result, error = lifetime._fit_safely(bgnbd, frequency, recency, age)

    assert result is None
    assert error == "stopped after 0 seconds"
    assert bgnbd.maximise_likelihood is original
    monkeypatch.setattr(lifetime, "FIT_SECONDS", 60.0)
    result, error = lifetime._fit_safely(bgnbd, frequency, recency, age)
    assert error == ""
    assert result is not None
    assert result.params == bgnbd.fit(frequency, recency, age).params
