"""BG/NBD: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way".

While alive a customer buys at rate λ ~ Gamma(r, α); after each purchase the customer dies
with probability p ~ Beta(a, b). Data per customer: x repeat purchases, the last at t_x, observed
for T. Log-likelihood (their eq. 6, in log space):

    ℓ = lnΓ(r+x) − lnΓ(r) + r ln α + ln B(a, b+x) − ln B(a, b)
        + log( (α+T)^−(r+x) + [x > 0] · a/(b+x−1) · (α+t_x)^−(r+x) )
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln

from kehu.value.clv.data import PurchaseHistory, checked_history, purchase_history
from kehu.value.clv.fitting import FitResult, dot, maximise_likelihood
from kehu.value.clv.special import alive_expected_purchases

MODEL = "bgnbd"
NAMES = ("r", "alpha", "a", "b")


def _terms(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, age: np.ndarray):
    r, alpha, a, b = params
    has_repeat = x > 0
    constant = (
        gammaln(r + x)
        - gammaln(r)
        + r * np.log(alpha)
        + gammaln(a + b)
        + gammaln(b + x)
        - gammaln(b)
        - gammaln(a + b + x)
    )
    log_alive = -(r + x) * np.log(alpha + age)
    log_dead = np.where(
        has_repeat,
        np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    largest = np.maximum(log_alive, log_dead)
    total = np.exp(log_alive - largest) + np.exp(log_dead - largest)
    log_mixture = largest + np.log(total)
    weight_alive = np.exp(log_alive - log_mixture)
    return constant + log_mixture, weight_alive


def _objective(history: PurchaseHistory):
    """Total negative log-likelihood and its gradient on log-parameters.

    What depends on x alone is evaluated once per distinct x and weighted by the x's total
    weight; logs of α + t_x and α + T once per distinct t_x and T; only the two-term mixture is
    evaluated per distinct (x, t_x, T) row.
    """
    x_values = history.frequency_values
    x_weights = history.frequency_weights
    x_index = history.frequency_index
    recency_index, age_index = history.recency_index, history.age_index
    recency_values, age_values = history.recency_values, history.age_values
    weights = history.weights
    has_repeat = x_values > 0

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(log_params)
        r, alpha, a, b = params
        shape = r + x_values
        constant = (
            gammaln(shape)
            - gammaln(r)
            + r * np.log(alpha)
            + gammaln(a + b)
            + gammaln(b + x_values)
            - gammaln(b)
            - gammaln(a + b + x_values)
        )
        dead_odds = np.where(
            has_repeat, np.log(a) - np.log(b + np.maximum(x_values, 1) - 1), -np.inf
        )
        log_age = np.log(alpha + age_values)
        log_recency = np.log(alpha + recency_values)
        row_shape = shape[x_index]
        log_alive = -row_shape * log_age[age_index]
        log_dead = dead_odds[x_index] - row_shape * log_recency[recency_index]
        mixture = np.logaddexp(log_alive, log_dead)
        alive = np.exp(log_alive - mixture)
        dead_weight = weights * (1.0 - alive)
        alive_weight = weights - dead_weight
        value = dot(x_weights, constant) + dot(weights, mixture)
        d_r = (
            dot(x_weights, digamma(shape) - digamma(r) + np.log(alpha))
            - dot(alive_weight, log_age[age_index])
            - dot(dead_weight, log_recency[recency_index])
        )
        d_alpha = x_weights.sum() * r / alpha - dot(
            row_shape,
            alive_weight / (alpha + age_values)[age_index]
            + dead_weight / (alpha + recency_values)[recency_index],
        )
        dead_by_x = np.bincount(x_index, weights=dead_weight, minlength=x_values.size)
        common = digamma(a + b) - digamma(a + b + x_values)
        d_a = dot(x_weights, common) + dead_by_x.sum() / a
        d_b = dot(x_weights, common + digamma(b + x_values) - digamma(b)) - dot(
            dead_by_x[has_repeat], 1.0 / (b + x_values[has_repeat] - 1)
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
    """Maximum-likelihood BG/NBD fit; `age` is T. Parameters are in the data's time unit."""
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
    """P(alive at T | x, t_x, T); 1 for customers who never bought again."""
    x, t_x, age = checked_history(frequency, recency, age)
    return _terms(_values(params), x, t_x, age)[1]


def alive_expected_purchases_at(
    params: dict[str, float], frequency: np.ndarray, age: np.ndarray, times: np.ndarray
) -> np.ndarray:
    """Expected purchases in (T, T + t] for each time t, given alive at T (rows × times)."""
    r, alpha, a, b = _values(params)
    x = np.asarray(frequency, dtype=float)
    return alive_expected_purchases(r + x, alpha + np.asarray(age, float), a, b + x, times)


def conditional_expected_purchases(
    params: dict[str, float],
    duration: float,
    frequency: np.ndarray,
    recency: np.ndarray,
    age: np.ndarray,
) -> np.ndarray:
    """E[purchases in (T, T + duration] | x, t_x, T] (eq. 10 of the paper)."""
    alive = probability_alive(params, frequency, recency, age)
    expected = alive_expected_purchases_at(params, frequency, age, np.array([duration]))[:, 0]
    return alive * expected


def expected_purchases(params: dict[str, float], times: np.ndarray) -> np.ndarray:
    """E[X(t)]: repeat purchases in (0, t] of a customer who made a first purchase at 0."""
    r, alpha, a, b = _values(params)
    times = np.atleast_1d(np.asarray(times, dtype=float))
    return alive_expected_purchases(np.array([r]), np.array([alpha]), a, np.array([b]), times)[0]
