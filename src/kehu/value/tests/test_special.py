"""The log-2F1 of the Pareto/NBD likelihood and the alive-purchase curve, against mpmath."""

from __future__ import annotations

import numpy as np
import pytest

from kehu.value.clv.special import (
    alive_expected_purchases,
    log_hyp2f1_shifted,
    one_minus_exp_ratio,
)

mpmath = pytest.importorskip("mpmath")
# Every reference is computed with 40 digits, whatever precision another test module left in
# mpmath's global context (xdist runs several modules in one process).
DIGITS = 40

GRID = [
    (a, fraction * (a + 1), z)
    for a in (0.3, 1.2, 5.0, 50.0, 600.0)
    for fraction in (0.05, 0.3, 0.7, 0.99)
    for z in (0.0, 0.1, 0.5, 0.9, 0.99, 0.999)
]


def reference(a: float, b: float, z: float) -> float:
    with mpmath.workdps(DIGITS):
        return float(mpmath.log(mpmath.hyp2f1(a, b, a + 1, z)))


@pytest.fixture(autouse=True)
def forty_digits():
    with mpmath.workdps(DIGITS):
        yield


def test_log_hyp2f1_matches_mpmath_on_a_grid():
    # given a grid reaching a = 600 (customers with hundreds of purchases) and z = 0.999
    a, b, z = (np.array(column) for column in zip(*GRID, strict=True))
    # when evaluated in one vectorised call (z = 0.999 needs more than the default term budget)
    result = log_hyp2f1_shifted(a, b, z, max_terms=200_000)
    # then every value agrees with 40-digit mpmath to 1e-12 relative
    expected = np.array([reference(*point) for point in GRID])
    assert np.allclose(result.value, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("a", "b", "z"), [(0.3, 0.2, 0.5), (5.0, 1.6, 0.9), (600.0, 301.0, 0.3)])
def test_log_hyp2f1_derivatives_match_mpmath(a, b, z):
    result = log_hyp2f1_shifted(a, b, z)
    derivative_a = float(mpmath.diff(lambda t: mpmath.log(mpmath.hyp2f1(t, b, t + 1, z)), a))
    derivative_b = float(mpmath.diff(lambda t: mpmath.log(mpmath.hyp2f1(a, t, a + 1, z)), b))
    derivative_z = float(mpmath.diff(lambda t: mpmath.log(mpmath.hyp2f1(a, b, a + 1, t)), z))
    assert float(result.derivative_a) == pytest.approx(derivative_a, rel=1e-9, abs=1e-12)
    assert float(result.derivative_b) == pytest.approx(derivative_b, rel=1e-9, abs=1e-12)
    assert float(result.derivative_z) == pytest.approx(derivative_z, rel=1e-9, abs=1e-12)


def test_log_hyp2f1_where_scipy_overflows():
    # given b = 501 and z = 0.95: the plain series' terms reach (1 − z)^−b ≈ 10^651
    result = log_hyp2f1_shifted(600.0, 501.0, 0.95)
    # then the log is finite and right
    assert float(result.value) == pytest.approx(reference(600.0, 501.0, 0.95), rel=1e-12)


@pytest.mark.parametrize(
    ("a", "b", "z"), [(0.0, 0.5, 0.1), (1.0, 2.0, 0.1), (1.0, 0.5, 1.0), (1.0, 0.5, -0.1)]
)
def test_log_hyp2f1_refuses_arguments_outside_its_domain(a, b, z):
    with pytest.raises(ValueError, match="needs"):
        log_hyp2f1_shifted(a, b, z)


def test_one_minus_exp_ratio_is_continuous_at_zero():
    amounts = np.array([0.5, 2.0])
    assert one_minus_exp_ratio(0.0, amounts) == pytest.approx(amounts)
    assert one_minus_exp_ratio(1e-9, amounts) == pytest.approx(amounts, rel=1e-8)
    assert one_minus_exp_ratio(1.0, amounts) == pytest.approx(1 - np.exp(-amounts))


def bg_reference(shape: float, scale: float, a: float, b: float, t: float) -> float:
    z = mpmath.mpf(t) / (scale + t)
    factor = (a + b - 1) / mpmath.mpf(a - 1)
    return float(factor * (1 - (1 - z) ** shape * mpmath.hyp2f1(shape, b, a + b - 1, z)))


@pytest.mark.parametrize("a", [0.79, 1.7])
@pytest.mark.parametrize("x", [0, 1, 3, 9, 10, 30, 500])
@pytest.mark.parametrize("scale", [5.0, 40.0, 400.0])
def test_alive_expected_purchases_match_the_hypergeometric_formula(a, x, scale):
    # given the BG/NBD posterior of a customer with x purchases (quadrature below x = 10,
    # series from 10 on) and times from a week to ten years
    r, b = 0.24, 2.43
    times = np.array([1.0, 10.0, 100.0, 520.0, 3650.0])
    values = alive_expected_purchases(
        np.array([r + x]), np.array([scale]), a, np.array([b + x]), times
    )
    expected = [bg_reference(r + x, scale, a, b + x, t) for t in times]
    assert values[0] == pytest.approx(expected, rel=1e-9)


def test_log_hyp2f1_gives_nan_where_the_series_would_be_too_long():
    # z within 2e-3 of 1 only happens for absurd α/β ratios during a search; NaN marks the
    # point unusable instead of running for minutes
    result = log_hyp2f1_shifted(np.array([2.0, 2.0]), np.array([1.5, 1.5]), np.array([0.5, 0.999]))
    assert np.isfinite(result.value[0])
    assert np.isnan(result.value[1])
