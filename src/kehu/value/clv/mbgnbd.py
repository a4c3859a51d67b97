"""MBG/NBD: Batislam, Denizel & Filiztekin (2007), with Wagner & Hoppe's (2008) erratum.

As BG/NBD, except that a customer may also drop out at time 0, right after the first purchase,
so customers with no repeat purchase can be dead too. Log-likelihood per customer:

    ℓ = lnΓ(r+x) − lnΓ(r) + r ln α + ln B(a, b+x+1) − ln B(a, b) − (r+x) ln(α+T)
        + log(1 + a/(b+x) · ((α+T)/(α+t_x))^(r+x))
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, expit, gammaln

from kehu.value.clv.data import PurchaseHistory, checked_history, purchase_history
from kehu.value.clv.fitting import FitResult, dot, maximise_likelihood
from kehu.value.clv.special import alive_expected_purchases

MODEL = "mbgnbd"
NAMES = ("r", "alpha", "a", "b")


def _terms(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, age: np.ndarray):
    r, alpha, a, b = params
    constant = (
        gammaln(r + x)
        - gammaln(r)
        + r * np.log(alpha)
        + gammaln(a + b)
        + gammaln(b + x + 1)
        - gammaln(b)
        - gammaln(a + b + x + 1)
        - (r + x) * np.log(alpha + age)
    )
    log_odds_dead = (
        np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + age) - np.log(alpha + t_x))
    )
    return constant + np.logaddexp(0.0, log_odds_dead), log_odds_dead


def _objective(history: PurchaseHistory):
    """Total negative log-likelihood and gradient; per distinct x, t_x and T where possible
    (see bgnbd._objective)."""
    x_values = history.frequency_values
    x_weights = history.frequency_weights
    x_index = history.frequency_index
    recency_index, age_index = history.recency_index, history.age_index
    recency_values, age_values = history.recency_values, history.age_values
    weights = history.weights

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(log_params)
        r, alpha, a, b = params
        shape = r + x_values
        constant = (
            gammaln(shape)
            - gammaln(r)
            + r * np.log(alpha)
            + gammaln(a + b)
            + gammaln(b + x_values + 1)
            - gammaln(b)
            - gammaln(a + b + x_values + 1)
        )
        log_age = np.log(alpha + age_values)[age_index]
        log_recency = np.log(alpha + recency_values)[recency_index]
        row_shape = shape[x_index]
        log_ratio = log_age - log_recency
        log_odds_dead = (np.log(a) - np.log(b + x_values))[x_index] + row_shape * log_ratio
        value = (
            dot(x_weights, constant)
            - dot(weights * row_shape, log_age)
            + dot(weights, np.logaddexp(0.0, log_odds_dead))
        )
        dead_weight = weights * expit(log_odds_dead)
        dead_by_x = np.bincount(x_index, weights=dead_weight, minlength=x_values.size)
        d_r = (
            dot(x_weights, digamma(shape) - digamma(r) + np.log(alpha))
            - dot(weights, log_age)
            + dot(dead_weight, log_ratio)
        )
        inverse_age = 1.0 / (alpha + age_values)[age_index]
        inverse_recency = 1.0 / (alpha + recency_values)[recency_index]
        d_alpha = (
            x_weights.sum() * r / alpha
            - dot(weights * row_shape, inverse_age)
            + dot(dead_weight * row_shape, inverse_age - inverse_recency)
        )
        common = digamma(a + b) - digamma(a + b + x_values + 1)
        d_a = dot(x_weights, common) + dead_by_x.sum() / a
        d_b = dot(x_weights, common + digamma(b + x_values + 1) - digamma(b)) - dot(
            dead_by_x, 1.0 / (b + x_values)
        )
        gradient = np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
        return -float(value), -gradient

    return objective


def fit(
    frequency: np.ndarray,
    recency: np.ndarray,
    age: np.ndarray,
    weights: np.ndarray | None = None,
    initial: dict[str, float] | None = None,
) -> FitResult:
    """Maximum-likelihood MBG/NBD fit; `age` is T. Parameters are in the data's time unit."""
    history = purchase_history(frequency, recency, age, weights)
    scale = history.time_scale
    start = np.array([0.0, np.log(history.rate_scale_guess()), 0.0, 0.0])
    if initial is not None:
        start = np.log([initial["r"], initial["alpha"] * scale, initial["a"], initial["b"]])
    return maximise_likelihood(
        model=MODEL,
        names=NAMES,
        objective=_objective(history),
        initial_log_params=start,
        customers=history.customers,
        log_scale=np.array([0.0, -np.log(scale), 0.0, 0.0]),
        log_likelihood_offset=float(np.log(scale) * dot(history.weights, history.frequency)),
    )


def _values(params: dict[str, float]) -> np.ndarray:
    return np.array([params[name] for name in NAMES], dtype=float)


def log_likelihood(
    params: dict[str, float], frequency: np.ndarray, recency: np.ndarray, age: np.ndarray
) -> np.ndarray:
    """Per-customer log-likelihood in the data's own time unit."""
    x, t_x, age = checked_history(frequency, recency, age)
    return _terms(_values(params), x, t_x, age)[0]


def probability_alive(
    params: dict[str, float], frequency: np.ndarray, recency: np.ndarray, age: np.ndarray
) -> np.ndarray:
    """P(alive at T | x, t_x, T) = 1 / (1 + a/(b+x) · ((α+T)/(α+t_x))^(r+x))."""
    x, t_x, age = checked_history(frequency, recency, age)
    return expit(-_terms(_values(params), x, t_x, age)[1])


def alive_expected_purchases_at(
    params: dict[str, float], frequency: np.ndarray, age: np.ndarray, times: np.ndarray
) -> np.ndarray:
    """Expected purchases in (T, T + t] given alive at T: p ~ Beta(a, b + x + 1) then."""
    r, alpha, a, b = _values(params)
    x = np.asarray(frequency, dtype=float)
    return alive_expected_purchases(r + x, alpha + np.asarray(age, float), a, b + x + 1, times)


def conditional_expected_purchases(
    params: dict[str, float],
    duration: float,
    frequency: np.ndarray,
    recency: np.ndarray,
    age: np.ndarray,
) -> np.ndarray:
    """E[purchases in (T, T + duration] | x, t_x, T]."""
    alive = probability_alive(params, frequency, recency, age)
    expected = alive_expected_purchases_at(params, frequency, age, np.array([duration]))[:, 0]
    return alive * expected


def expected_purchases(params: dict[str, float], times: np.ndarray) -> np.ndarray:
    """E[X(t)] for a new customer: survives time 0 with probability b/(a+b), then as BG/NBD."""
    r, alpha, a, b = _values(params)
    times = np.atleast_1d(np.asarray(times, dtype=float))
    alive = alive_expected_purchases(np.array([r]), np.array([alpha]), a, np.array([b + 1]), times)
    return b / (a + b) * alive[0]
