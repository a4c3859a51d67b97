"""Checked per-customer arrays (frequency x, recency t_x, age T) that every model takes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kehu.value.clv.fitting import compress_rows


@dataclass(frozen=True)
class PurchaseHistory:
    """Distinct (x, t_x, T) rows with their weights, time rescaled so that the largest T is 1."""

    frequency: np.ndarray
    recency: np.ndarray
    age: np.ndarray
    weights: np.ndarray
    time_scale: float  # model time = original time × time_scale
    # the distinct values of x, t_x and T and, per row, which one it has: the models evaluate
    # what depends on one of them once per distinct value (a few hundred), not once per row
    frequency_values: np.ndarray
    frequency_index: np.ndarray
    frequency_weights: np.ndarray  # total weight of the rows with each distinct x
    recency_values: np.ndarray
    recency_index: np.ndarray
    age_values: np.ndarray
    age_index: np.ndarray

    @property
    def customers(self) -> float:
        return float(self.weights.sum())

    def rate_scale_guess(self) -> float:
        """A starting scale (α or β, model time) for the gamma of purchase rates: with shape 1,
        mean rate 1/α = repeat purchases per unit of observed time across all customers."""
        purchases = float(np.dot(self.weights, self.frequency))
        time = float(np.dot(self.weights, self.age))
        if purchases <= 0 or time <= 0:
            return 1.0
        return float(np.clip(time / purchases, 1e-4, 1e4))


def checked_history(
    frequency: np.ndarray, recency: np.ndarray, age: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arrays of floats, or ValueError naming what is wrong (as lifetimes' `_check_inputs`)."""
    frequency = np.asarray(frequency, dtype=float)
    recency = np.asarray(recency, dtype=float)
    age = np.asarray(age, dtype=float)
    if not (frequency.shape == recency.shape == age.shape) or frequency.ndim != 1:
        raise ValueError("frequency, recency and T must be one-dimensional and of equal length")
    if frequency.size == 0:
        raise ValueError("there are no customers")
    for name, values in (("frequency", frequency), ("recency", recency), ("T", age)):
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{name} has missing or infinite values")
        if np.any(values < 0):
            raise ValueError(f"{name} has negative values")
    if np.any(frequency != np.round(frequency)):
        raise ValueError("frequency must be a whole number of repeat purchases")
    if np.any(recency > age):
        raise ValueError("recency is larger than T for some customers")
    if np.any(recency[frequency == 0] != 0):
        raise ValueError("recency must be 0 for customers with frequency 0")
    return frequency, recency, age


def purchase_history(
    frequency: np.ndarray,
    recency: np.ndarray,
    age: np.ndarray,
    weights: np.ndarray | None = None,
) -> PurchaseHistory:
    """Check, compress identical rows, rescale time so that max T = 1 (as lifetimes does)."""
    frequency, recency, age = checked_history(frequency, recency, age)
    largest_age = float(age.max())
    if largest_age <= 0:
        raise ValueError("every customer has T = 0: there is no observed time to fit on")
    compressed = compress_rows(frequency, recency, age, weights=weights)
    time_scale = 1.0 / largest_age
    unique_frequency, unique_recency, unique_age = compressed.columns
    frequency_values, frequency_index = np.unique(unique_frequency, return_inverse=True)
    recency_values, recency_index = np.unique(unique_recency, return_inverse=True)
    age_values, age_index = np.unique(unique_age, return_inverse=True)
    return PurchaseHistory(
        frequency=unique_frequency,
        recency=unique_recency * time_scale,
        age=unique_age * time_scale,
        weights=compressed.counts,
        time_scale=time_scale,
        frequency_values=frequency_values,
        frequency_index=frequency_index,
        frequency_weights=np.bincount(frequency_index, weights=compressed.counts),
        recency_values=recency_values * time_scale,
        recency_index=recency_index,
        age_values=age_values * time_scale,
        age_index=age_index,
    )
