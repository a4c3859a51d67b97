"""Concentration math on known vectors, and its properties on any vector (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kehu.value.concentration import concentration, whale_curve

money = st.lists(st.integers(min_value=0, max_value=10**12), min_size=1, max_size=300)
profits = st.lists(st.integers(min_value=-(10**9), max_value=10**9), min_size=1, max_size=300)


def test_all_equal_has_gini_zero_and_top_20_percent_holds_20_percent():
    result = concentration([500] * 10)
    assert result.gini == 0
    assert result.top_share == pytest.approx(0.2, abs=1e-15)
    assert result.customers_for_target == pytest.approx(0.8)
    assert result.lorenz_y.tolist() == pytest.approx([i / 10 for i in range(11)])


@pytest.mark.parametrize("n", [1, 2, 5, 100])
def test_one_customer_with_everything_has_gini_n_minus_1_over_n(n):
    result = concentration([0] * (n - 1) + [1234])
    assert result.gini == pytest.approx((n - 1) / n, abs=1e-15)
    assert result.customers_for_target == 1 / n


def test_a_known_pareto_vector():
    # 10 customers: two hold 80 of 100.
    values = [50, 30, 4, 3, 3, 3, 2, 2, 2, 1]
    result = concentration(values)
    assert result.top_share == pytest.approx(0.8)
    assert result.customers_for_target == pytest.approx(0.2)
    # Gini by the definition: mean absolute difference / (2 × mean).
    diffs = np.abs(np.subtract.outer(values, values)).sum()
    assert result.gini == pytest.approx(diffs / (2 * len(values) ** 2 * np.mean(values)))


def test_nothing_or_only_losses_give_no_shares():
    for values in ([], [0, 0], [-5, -1]):
        result = concentration(values)
        assert (result.top_share, result.gini, result.lorenz_y) == (None, None, None)


def test_whale_curve_peak_and_tail_loss():
    result = whale_curve([100, -30, 50, -20, 0])
    # descending: 100, 50, 0, −20, −30 → cumulative 0, 100, 150, 150, 130, 100
    assert result.cumulative.tolist() == [0, 100, 150, 150, 130, 100]
    assert (result.peak, result.peak_customers, result.peak_position) == (150, 2, 0.4)
    assert (result.peak_share, result.tail_loss, result.total) == (1.5, 50, 100)


def test_whale_curve_with_a_loss_overall_has_no_shares():
    result = whale_curve([10, -50])
    assert (result.peak, result.tail_loss, result.share, result.peak_share) == (10, 50, None, None)


@given(money)
def test_concentration_properties(values):
    result = concentration(values)
    if sum(values) == 0:
        assert result.gini is None
        return
    n = len(values)
    assert 0 <= result.gini <= (n - 1) / n + 1e-12
    assert result.lorenz_y[0] == 0
    assert result.lorenz_y[-1] == pytest.approx(1)
    assert np.all(np.diff(result.lorenz_y) >= 0)
    assert np.all(result.lorenz_y <= result.lorenz_x + 1e-12)  # below the diagonal
    top = max(1, int(0.2 * n + 0.5 + 1e-9))
    assert result.top_share >= top / n - 1e-12  # the top hold at least their head count
    k = round(result.customers_for_target * n)
    ordered = sorted(values, reverse=True)
    assert 5 * sum(ordered[:k]) >= 4 * sum(values)
    assert k == 1 or 5 * sum(ordered[: k - 1]) < 4 * sum(values)


@given(profits)
def test_whale_curve_properties(values):
    result = whale_curve(values)
    assert result.tail_loss >= 0
    assert result.peak == max(result.cumulative)
    assert result.peak >= result.total
    assert result.peak >= 0
    assert result.tail_loss == result.peak - sum(values)
    assert all(v <= 0 for v in sorted(values, reverse=True)[result.peak_customers :])
