"""Pareto/NBD: Schmittlein, Morrison & Colombo (1987), as derived by Fader & Hardie (2005).

While alive a customer buys at rate λ ~ Gamma(r, α); the lifetime is exponential with rate
μ ~ Gamma(s, β). Likelihood per customer (x repeat purchases, the last at t_x, observed for T):

    L = Γ(r+x) α^r β^s / Γ(r) · [ (α+T)^−(r+x) (β+T)^−s + s · I ],
    I = ∫_{t_x}^{T} (α+u)^−(r+x) (β+u)^−(s+1) du,

the second term being "died at some u between t_x and T". I is where the Gaussian
hypergeometric function comes in: with m = max(α, β), a = r + s + x and
F(τ) = ∫_τ^∞ … du = (m+τ)^−a / a · 2F1(a, b; a+1; |α−β|/(m+τ)), b = s+1 when α ≥ β and
b = r+x otherwise, I = F(t_x) − F(T). We evaluate log F with `log_hyp2f1_shifted` (stable for
any x, analytic derivatives) and log I = log F(t_x) + log(1 − F(T)/F(t_x)).
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln

from kehu.value.clv.data import PurchaseHistory, checked_history, purchase_history
from kehu.value.clv.fitting import FitResult, compress_rows, dot, maximise_likelihood
from kehu.value.clv.special import log_hyp2f1_shifted, one_minus_exp_ratio

MODEL = "pareto_nbd"
NAMES = ("r", "alpha", "s", "beta")
# z rounds to 1 when min(α, β) underflows against max(α, β); log_hyp2f1_shifted gives NaN there
_LARGEST_Z = 1.0 - 1e-12


class _Layout:
    """Distinct (x, τ) pairs for τ = t_x and τ = T, computed once per data set."""

    def __init__(self, x: np.ndarray, t_x: np.ndarray, age: np.ndarray) -> None:
        pairs = compress_rows(np.concatenate([x, x]), np.concatenate([t_x, age]))
        self.x, self.tau = pairs.columns
        self.at_recency = pairs.inverse[: x.size]
        self.at_age = pairs.inverse[x.size :]
        self.has_interval = age > t_x


def _log_tail(params: np.ndarray, x: np.ndarray, tau: np.ndarray):
    """log F(τ) and its derivatives with respect to r, α, s, β."""
    r, alpha, s, beta = params
    a = r + s + x
    if alpha >= beta:
        shift = alpha + tau
        other = beta + tau
        z = np.minimum((alpha - beta) / shift, _LARGEST_Z)
        hyper = log_hyp2f1_shifted(a, s + 1.0, z)
        d_r = -np.log(shift) - 1.0 / a + hyper.derivative_a
        d_s = d_r + hyper.derivative_b
        d_alpha = -a / shift + hyper.derivative_z * other / shift**2
        d_beta = -hyper.derivative_z / shift
    else:
        shift = beta + tau
        other = alpha + tau
        z = np.minimum((beta - alpha) / shift, _LARGEST_Z)
        hyper = log_hyp2f1_shifted(a, r + x, z)
        d_s = -np.log(shift) - 1.0 / a + hyper.derivative_a
        d_r = d_s + hyper.derivative_b
        d_beta = -a / shift + hyper.derivative_z * other / shift**2
        d_alpha = -hyper.derivative_z / shift
    value = -a * np.log(shift) - np.log(a) + hyper.value
    return value, np.stack([d_r, d_alpha, d_s, d_beta])


def _terms(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, age: np.ndarray, layout: _Layout):
    """Per-row log-likelihood, P(alive) and the pieces of the gradient."""
    r, alpha, s, beta = params
    tail, tail_gradient = _log_tail(params, layout.x, layout.tau)
    log_f_recency = tail[layout.at_recency]
    log_f_age = tail[layout.at_age]
    # no interval to die in when t_x = T, or when T − t_x is below round-off
    interval = layout.has_interval & (log_f_age < log_f_recency)
    difference = np.where(interval, log_f_age - log_f_recency, -1.0)
    log_one_minus = np.log(-np.expm1(difference))
    log_integral = np.where(interval, log_f_recency + log_one_minus, -np.inf)
    ratio = np.where(interval, np.exp(difference), 0.0)
    integral_gradient = np.where(
        interval,
        (tail_gradient[:, layout.at_recency] - ratio * tail_gradient[:, layout.at_age])
        / (1.0 - ratio),
        0.0,
    )
    log_alive = -(r + x) * np.log(alpha + age) - s * np.log(beta + age)
    log_dead = np.log(s) + log_integral
    with np.errstate(invalid="ignore"):  # NaN from an unusable 2F1 makes the point unusable
        log_mixture = np.logaddexp(log_alive, log_dead)
    alive = np.exp(log_alive - log_mixture)
    constant = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    return constant + log_mixture, alive, integral_gradient


def _objective(history: PurchaseHistory):
    x, t_x, age, weights = history.frequency, history.recency, history.age, history.weights
    layout = _Layout(x, t_x, age)

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(log_params)
        r, alpha, s, beta = params
        values, alive, integral_gradient = _terms(params, x, t_x, age, layout)
        dead = 1.0 - alive
        d_r = (
            digamma(r + x)
            - digamma(r)
            + np.log(alpha)
            - alive * np.log(alpha + age)
            + dead * integral_gradient[0]
        )
        d_alpha = r / alpha - alive * (r + x) / (alpha + age) + dead * integral_gradient[1]
        d_s = np.log(beta) - alive * np.log(beta + age) + dead * (1.0 / s + integral_gradient[2])
        d_beta = s / beta - alive * s / (beta + age) + dead * integral_gradient[3]
        gradient = np.array(
            [
                dot(weights, d_r) * r,
                dot(weights, d_alpha) * alpha,
                dot(weights, d_s) * s,
                dot(weights, d_beta) * beta,
            ]
        )
        return -float(dot(weights, values)), -gradient

    return objective


def fit(
    frequency: np.ndarray,
    recency: np.ndarray,
    age: np.ndarray,
    weights: np.ndarray | None = None,
    initial: dict[str, float] | None = None,
) -> FitResult:
    """Maximum-likelihood Pareto/NBD fit; `age` is T. Parameters are in the data's time unit."""
    history = purchase_history(frequency, recency, age, weights)
    scale = history.time_scale
    guess = np.log(history.rate_scale_guess())
    start = np.array([0.0, guess, 0.0, guess])
    if initial is not None:
        start = np.log(
            [initial["r"], initial["alpha"] * scale, initial["s"], initial["beta"] * scale]
        )
    return maximise_likelihood(
        model=MODEL,
        names=NAMES,
        objective=_objective(history),
        initial_log_params=start,
        customers=history.customers,
        log_scale=np.array([0.0, -np.log(scale), 0.0, -np.log(scale)]),
        log_likelihood_offset=float(np.log(scale) * dot(history.weights, history.frequency)),
    )


def _values(params: dict[str, float]) -> np.ndarray:
    return np.array([params[name] for name in NAMES], dtype=float)


def _evaluate(params: dict[str, float], frequency, recency, age):
    x, t_x, age = checked_history(frequency, recency, age)
    return _terms(_values(params), x, t_x, age, _Layout(x, t_x, age))


def log_likelihood(
    params: dict[str, float], frequency: np.ndarray, recency: np.ndarray, age: np.ndarray
) -> np.ndarray:
    """Per-customer log-likelihood in the data's own time unit."""
    return _evaluate(params, frequency, recency, age)[0]


def probability_alive(
    params: dict[str, float], frequency: np.ndarray, recency: np.ndarray, age: np.ndarray
) -> np.ndarray:
    """P(alive at T | x, t_x, T): the share of the likelihood that has the customer alive."""
    return _evaluate(params, frequency, recency, age)[1]


def alive_expected_purchases_at(
    params: dict[str, float], frequency: np.ndarray, age: np.ndarray, times: np.ndarray
) -> np.ndarray:
    """Expected purchases in (T, T + t] given alive at T (rows × times), in closed form:
    (r+x)/(α+T) · (β+T)/(s−1) · [1 − ((β+T)/(β+T+t))^(s−1)]."""
    r, alpha, s, beta = _values(params)
    x = np.asarray(frequency, dtype=float)[:, None]
    age = np.asarray(age, dtype=float)[:, None]
    times = np.asarray(times, dtype=float)[None, :]
    horizon = np.log1p(times / (beta + age))
    return (r + x) / (alpha + age) * (beta + age) * one_minus_exp_ratio(s - 1.0, horizon)


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
    """E[X(t)] = r β / (α (s−1)) · [1 − (β/(β+t))^(s−1)] for a new customer."""
    r, alpha, s, beta = _values(params)
    times = np.atleast_1d(np.asarray(times, dtype=float))
    return r / alpha * beta * one_minus_exp_ratio(s - 1.0, np.log1p(times / beta))
