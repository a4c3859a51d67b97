"""Maximum-likelihood machinery shared by the lifetime-value models.

Every model supplies a function of the log-parameters that returns the total negative
log-likelihood of its (compressed, weighted) data and its analytic gradient. We minimise the mean
(total / customers) with L-BFGS-B on log-parameters, then take standard errors from the inverse
Hessian of the total negative log-likelihood, the Hessian being central differences of the
analytic gradient. On log-parameters θ = exp(φ): Var(θᵢ) ≈ θᵢ² Var(φᵢ) (the delta method; at the
optimum this equals the inverse Hessian in θ, because the gradient there is zero).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import minimize

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]

# log-parameters stay within exp(±30): beyond that a model is degenerate, not merely extreme.
_LOG_BOUND = 30.0
# a fit "converged" when the optimiser says so or when the gradient of the mean negative
# log-likelihood with respect to the log-parameters is this small (L-BFGS-B sometimes stops in
# its line search at an optimum that round-off no longer lets it improve).
_GRADIENT_TOLERANCE = 1e-5


@dataclass(frozen=True)
class FitResult:
    """A fitted model: parameters, standard errors, log-likelihood and how the fit ended."""

    model: str
    params: dict[str, float]
    standard_errors: dict[str, float]
    log_likelihood: float
    converged: bool
    iterations: int
    message: str
    customers: float
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "params": self.params,
            "standard_errors": self.standard_errors,
            "log_likelihood": self.log_likelihood,
            "converged": self.converged,
            "iterations": self.iterations,
            "message": self.message,
            "customers": self.customers,
            **self.extra,
        }


@dataclass(frozen=True)
class CompressedRows:
    """Distinct rows of some columns, how often each occurs and where each input row went."""

    columns: tuple[np.ndarray, ...]
    counts: np.ndarray
    inverse: np.ndarray


def compress_rows(*columns: np.ndarray, weights: np.ndarray | None = None) -> CompressedRows:
    """Group identical rows (all columns equal); counts add up the weights (1 per row by
    default)."""
    arrays = [np.asarray(column) for column in columns]
    size = arrays[0].shape[0]
    if size == 0:
        empty = tuple(array[:0] for array in arrays)
        return CompressedRows(empty, np.zeros(0), np.zeros(0, dtype=np.int64))
    order = np.lexsort(tuple(reversed(arrays)))
    sorted_arrays = [array[order] for array in arrays]
    change = np.zeros(size, dtype=bool)
    change[0] = True
    for array in sorted_arrays:
        change[1:] |= array[1:] != array[:-1]
    group_of_sorted = np.cumsum(change) - 1
    inverse = np.empty(size, dtype=np.int64)
    inverse[order] = group_of_sorted
    starts = np.flatnonzero(change)
    row_weights = np.ones(size) if weights is None else np.asarray(weights, dtype=float)
    counts = np.bincount(inverse, weights=row_weights, minlength=starts.size)
    return CompressedRows(tuple(array[starts] for array in sorted_arrays), counts, inverse)


def dot(first: np.ndarray, second: np.ndarray) -> float:
    """Σ first·second without BLAS: on a small, busy machine OpenBLAS's threads spin after a
    large dot product and slow everything after it down by an order of magnitude."""
    return float(np.einsum("i,i->", first, second))


def numerical_hessian(
    gradient: Callable[[np.ndarray], np.ndarray], point: np.ndarray
) -> np.ndarray:
    """Central differences of an analytic gradient, symmetrised."""
    size = point.size
    hessian = np.empty((size, size))
    for index in range(size):
        step = 1e-5 * max(1.0, abs(point[index]))
        forward = point.copy()
        backward = point.copy()
        forward[index] += step
        backward[index] -= step
        hessian[:, index] = (gradient(forward) - gradient(backward)) / (2 * step)
    return (hessian + hessian.T) / 2


def maximise_likelihood(
    *,
    model: str,
    names: tuple[str, ...],
    objective: Objective,
    initial_log_params: np.ndarray,
    customers: float,
    log_scale: np.ndarray | None = None,
    log_likelihood_offset: float = 0.0,
    max_iterations: int = 2000,
) -> FitResult:
    """Minimise `objective` (total negative log-likelihood and gradient on log-parameters).

    `log_scale` is added to the fitted log-parameters before they are reported (the models fit
    on rescaled time or money, so that the optimiser sees parameters near 1);
    `log_likelihood_offset` is added to the reported log-likelihood for the same reason.
    """
    if customers <= 0:
        raise ValueError("there are no customers to fit")

    def mean_objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = objective(log_params)
        if not np.isfinite(value) or not np.all(np.isfinite(gradient)):
            return np.inf, np.zeros_like(log_params)
        return value / customers, gradient / customers

    result = minimize(
        mean_objective,
        np.asarray(initial_log_params, dtype=float),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-_LOG_BOUND, _LOG_BOUND)] * len(names),
        options={"maxiter": max_iterations, "ftol": 1e-15, "gtol": 1e-10, "maxcor": 20},
    )
    log_params = result.x
    value, gradient = mean_objective(log_params)
    largest_gradient = float(np.max(np.abs(gradient))) if np.isfinite(value) else np.inf
    at_bound = np.abs(log_params) >= _LOG_BOUND - 1e-6
    converged = bool(
        np.isfinite(value)
        and not np.any(at_bound)
        and (result.success or largest_gradient <= _GRADIENT_TOLERANCE)
    )
    message = str(result.message)
    if np.any(at_bound):
        bounded = ", ".join(name for name, flag in zip(names, at_bound, strict=True) if flag)
        message = f"parameter(s) {bounded} ran to the edge of the search range: {message}"
    elif not converged:
        message = f"did not converge (largest gradient {largest_gradient:.3g}): {message}"

    standard_errors = np.full(len(names), np.nan)
    if np.isfinite(value):
        hessian = numerical_hessian(lambda point: objective(point)[1], log_params)
        try:
            covariance = np.linalg.inv(hessian)
            variances = np.diag(covariance)
            if np.all(variances > 0) and np.all(np.linalg.eigvalsh(hessian) > 0):
                standard_errors = np.sqrt(variances)
            else:
                converged = False
                message += "; the Hessian is not positive definite (no proper maximum)"
        except np.linalg.LinAlgError:
            converged = False
            message += "; the Hessian is singular (the data do not identify the parameters)"

    reported = log_params + (0.0 if log_scale is None else log_scale)
    params = np.exp(reported)
    return FitResult(
        model=model,
        params={name: float(v) for name, v in zip(names, params, strict=True)},
        standard_errors={
            name: float(v * se) for name, v, se in zip(names, params, standard_errors, strict=True)
        },
        log_likelihood=float(-value * customers + log_likelihood_offset),
        converged=converged,
        iterations=int(result.nit),
        message=message,
        customers=float(customers),
    )
