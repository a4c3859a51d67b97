"""Gamma-Gamma spend model: Fader, Hardie & Lee (2005), "RFM and CLV", and Fader & Hardie's
note 025. A customer's purchases have values z ~ Gamma(p, ν), with ν ~ Gamma(q, γ) across
customers; the mean m̄ of a customer's x repeat purchases has the density

    f(m̄ | x) = Γ(px+q) / (Γ(px) Γ(q)) · γ^q · m̄^(px−1) · x^(px) / (γ + m̄x)^(px+q).

Only customers with at least one repeat purchase (x > 0) and a positive mean carry information.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln

from kehu.value.clv.fitting import FitResult, compress_rows, dot, maximise_likelihood

MODEL = "gamma_gamma"
NAMES = ("p", "q", "gamma")


def _checked(frequency: np.ndarray, monetary_value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    frequency = np.asarray(frequency, dtype=float)
    monetary_value = np.asarray(monetary_value, dtype=float)
    if frequency.shape != monetary_value.shape or frequency.ndim != 1:
        raise ValueError("frequency and monetary_value must be one-dimensional, of equal length")
    if not np.all(np.isfinite(frequency)) or not np.all(np.isfinite(monetary_value)):
        raise ValueError("frequency or monetary_value has missing or infinite values")
    if np.any(frequency < 0) or np.any(frequency != np.round(frequency)):
        raise ValueError("frequency must be a whole, non-negative number")
    return frequency, monetary_value


def _terms(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    p, q, v = params
    return (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(x * m + v)
    )


def fit(
    frequency: np.ndarray,
    monetary_value: np.ndarray,
    weights: np.ndarray | None = None,
    initial: dict[str, float] | None = None,
) -> FitResult:
    """Maximum-likelihood fit on the customers with x > 0 and monetary_value > 0.

    The others are left out (customers with no repeat purchase carry no information; a zero or
    negative mean cannot come from this model) and the result says how many were.
    """
    frequency, monetary_value = _checked(frequency, monetary_value)
    row_weights = np.ones(frequency.size) if weights is None else np.asarray(weights, float)
    usable = (frequency > 0) & (monetary_value > 0)
    left_out = int(np.count_nonzero((frequency > 0) & (monetary_value <= 0)))
    if not np.any(usable):
        raise ValueError("no customer has a repeat purchase with a positive value to fit on")
    compressed = compress_rows(
        frequency[usable], monetary_value[usable], weights=row_weights[usable]
    )
    x, m = compressed.columns
    weights_used = compressed.counts
    # money is rescaled so that the mean is 1; ν's scale γ absorbs it
    money_scale = float(np.average(m, weights=weights_used))
    m = m / money_scale

    # what depends on x alone is evaluated once per distinct x
    x_values, x_index = np.unique(x, return_inverse=True)
    x_weights = np.bincount(x_index, weights=weights_used)
    log_m = np.log(m)
    log_x = np.log(x_values)
    fixed = dot(weights_used, x * log_m)  # Σ w·x·log m̄ (the p part of (px − 1) log m̄)
    fixed_log_m = dot(weights_used, log_m)
    weighted_x = x_values * x_weights

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(log_params)
        p, q, v = params
        shape = p * x_values
        log_total = np.log(x * m + v)
        total_by_x = np.bincount(x_index, weights=weights_used * log_total, minlength=x_values.size)
        inverse_by_x = np.bincount(
            x_index, weights=weights_used / (x * m + v), minlength=x_values.size
        )
        value = (
            dot(x_weights, gammaln(shape + q) - gammaln(shape) - gammaln(q) + q * np.log(v))
            + p * fixed
            - fixed_log_m
            + dot(weighted_x, p * log_x)
            - dot(shape + q, total_by_x)
        )
        shared = digamma(shape + q)
        d_p = dot(weighted_x, shared - digamma(shape) + log_x) + fixed - dot(x_values, total_by_x)
        d_q = dot(x_weights, shared - digamma(q) + np.log(v)) - total_by_x.sum()
        d_v = x_weights.sum() * q / v - dot(shape + q, inverse_by_x)
        gradient = np.array([d_p * p, d_q * q, d_v * v])
        return -float(value), -gradient

    start = np.zeros(3)
    if initial is not None:
        start = np.log([initial["p"], initial["q"], initial["gamma"] / money_scale])
    result = maximise_likelihood(
        model=MODEL,
        names=NAMES,
        objective=objective,
        initial_log_params=start,
        customers=float(weights_used.sum()),
        log_scale=np.array([0.0, 0.0, np.log(money_scale)]),
        log_likelihood_offset=-np.log(money_scale) * float(weights_used.sum()),
    )
    message = result.message
    if left_out:
        message += f"; {left_out} customer(s) with a repeat purchase but no positive value left out"
    return FitResult(
        model=result.model,
        params=result.params,
        standard_errors=result.standard_errors,
        log_likelihood=result.log_likelihood,
        converged=result.converged,
        iterations=result.iterations,
        message=message,
        customers=result.customers,
        extra={"customers_left_out": left_out},
    )


def log_likelihood(
    params: dict[str, float], frequency: np.ndarray, monetary_value: np.ndarray
) -> np.ndarray:
    """Per-customer log density of the observed mean (customers with x > 0 and m̄ > 0)."""
    frequency, monetary_value = _checked(frequency, monetary_value)
    values = np.array([params[name] for name in NAMES], dtype=float)
    return _terms(values, frequency, monetary_value)


def expected_spend(
    params: dict[str, float], frequency: np.ndarray, monetary_value: np.ndarray
) -> np.ndarray:
    """E[value per purchase | x, m̄] = (γp + p·x·m̄) / (px + q − 1): a weighted mean of the
    population mean γp/(q−1) and the customer's own mean. Needs q > 1 (a finite mean)."""
    frequency, monetary_value = _checked(frequency, monetary_value)
    p, q, v = (params[name] for name in NAMES)  # v is the paper's γ
    if q <= 1:
        raise ValueError(f"q = {q:.4g} ≤ 1: the fitted spend distribution has no finite mean")
    own = np.where(frequency > 0, monetary_value, 0.0)
    return (v * p + p * frequency * own) / (p * frequency + q - 1)
