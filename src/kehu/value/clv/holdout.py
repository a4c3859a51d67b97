"""Calibration/holdout checks and model comparison (Fader, Hardie & Lee 2005, figures 2–4).

* by frequency group: customers grouped by calibration frequency (0, 1, …, `largest_group`+),
  the mean repeat purchases each group made in the holdout against the mean the model predicts
  (conditional expectations over the holdout duration);
* over time ("tracking"): cumulative repeat purchases of the cohort in the calibration and
  holdout periods against Σ_customers E[X(t − first purchase)], the model's unconditional
  expectation for each customer from their first purchase on;
* model comparison: log-likelihood, AIC and BIC on the calibration data, and the holdout errors.
The numbers are returned as plain dictionaries and arrays; the pages draw them.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from kehu.value.clv import PURCHASE_MODELS
from kehu.value.clv.fitting import FitResult, compress_rows
from kehu.value.clv.summary import PurchaseTimeline


def frequency_groups(
    model: ModuleType,
    params: dict[str, float],
    *,
    frequency: np.ndarray,
    recency: np.ndarray,
    age: np.ndarray,
    frequency_holdout: np.ndarray,
    duration_holdout: float,
    largest_group: int = 7,
) -> dict[str, Any]:
    """Actual against predicted holdout purchases per calibration-frequency group."""
    frequency = np.asarray(frequency, dtype=float)
    actual = np.asarray(frequency_holdout, dtype=float)
    predicted = model.conditional_expected_purchases(
        params, duration_holdout, frequency, recency, age
    )
    group = np.minimum(frequency, largest_group).astype(int)
    counts = np.bincount(group, minlength=largest_group + 1).astype(float)
    actual_means = np.bincount(group, weights=actual, minlength=largest_group + 1).astype(float)
    predicted_means = np.bincount(group, weights=predicted, minlength=largest_group + 1).astype(
        float
    )
    present = counts > 0
    actual_means[present] /= counts[present]
    predicted_means[present] /= counts[present]
    labels = [str(value) for value in range(largest_group)] + [f"{largest_group}+"]
    rows = [
        {
            "frequency": labels[index],
            "customers": int(counts[index]),
            "actual": float(actual_means[index]),
            "predicted": float(predicted_means[index]),
        }
        for index in range(largest_group + 1)
        if present[index]
    ]
    errors = predicted - actual
    return {
        "groups": rows,
        "actual_total": float(actual.sum()),
        "predicted_total": float(predicted.sum()),
        "customer_rmse": float(np.sqrt(np.mean(errors**2))),
        "customer_mae": float(np.mean(np.abs(errors))),
        "group_mae": float(np.mean(np.abs(predicted_means[present] - actual_means[present]))),
    }


def tracking(
    model: ModuleType,
    params: dict[str, float],
    timeline: PurchaseTimeline,
    *,
    step: float = 1.0,
) -> dict[str, Any]:
    """Cumulative repeat purchases over time, actual against expected, at every `step`."""
    grid = np.arange(step, timeline.holdout_end + step / 2, step)
    times = np.unique(
        np.minimum(
            np.append(grid, [timeline.calibration_end, timeline.holdout_end]), timeline.holdout_end
        )
    )
    actual = np.searchsorted(np.sort(timeline.repeat_purchases), times, side="right")
    births = compress_rows(timeline.first_purchase)
    (birth_times,) = births.columns
    ages = times[None, :] - birth_times[:, None]
    positive = ages > 0
    unique_ages, inverse = np.unique(ages[positive], return_inverse=True)
    expected = np.zeros_like(ages)
    if unique_ages.size:
        expected[positive] = model.expected_purchases(params, unique_ages)[inverse]
    predicted = np.einsum("b,bt->t", births.counts, expected)
    in_holdout = times > timeline.calibration_end
    holdout_actual = actual[in_holdout] - _at(actual, times, timeline.calibration_end)
    holdout_predicted = predicted[in_holdout] - _at(predicted, times, timeline.calibration_end)
    return {
        "times": times.tolist(),
        "actual": actual.astype(float).tolist(),
        "predicted": predicted.tolist(),
        "calibration_end": timeline.calibration_end,
        "holdout_actual": float(holdout_actual[-1]) if holdout_actual.size else 0.0,
        "holdout_predicted": float(holdout_predicted[-1]) if holdout_predicted.size else 0.0,
        "holdout_mape": float(
            np.mean(np.abs(holdout_predicted - holdout_actual) / np.maximum(holdout_actual, 1.0))
        )
        if holdout_actual.size
        else 0.0,
    }


def _at(values: np.ndarray, times: np.ndarray, moment: float) -> float:
    position = np.searchsorted(times, moment, side="right") - 1
    return float(values[position]) if position >= 0 else 0.0


def compare_models(
    *,
    frequency: np.ndarray,
    recency: np.ndarray,
    age: np.ndarray,
    frequency_holdout: np.ndarray,
    duration_holdout: float,
    models: tuple[str, ...] = tuple(PURCHASE_MODELS),
    timeline: PurchaseTimeline | None = None,
    fits: dict[str, FitResult] | None = None,
) -> list[dict[str, Any]]:
    """Fit each model on the calibration data and score it on the holdout, best first by the
    customers' holdout error."""
    customers = np.asarray(frequency).size
    results = []
    for name in models:
        model = PURCHASE_MODELS[name]
        fit = (fits or {}).get(name) or model.fit(frequency, recency, age)
        parameters = len(fit.params)
        groups = frequency_groups(
            model,
            fit.params,
            frequency=frequency,
            recency=recency,
            age=age,
            frequency_holdout=frequency_holdout,
            duration_holdout=duration_holdout,
        )
        row: dict[str, Any] = {
            "model": name,
            "converged": fit.converged,
            "log_likelihood": fit.log_likelihood,
            "aic": 2 * parameters - 2 * fit.log_likelihood,
            "bic": float(parameters * np.log(customers) - 2 * fit.log_likelihood),
            "holdout_customer_rmse": groups["customer_rmse"],
            "holdout_group_mae": groups["group_mae"],
            "holdout_actual_total": groups["actual_total"],
            "holdout_predicted_total": groups["predicted_total"],
            "params": fit.params,
        }
        if timeline is not None:
            row["tracking_holdout_mape"] = tracking(model, fit.params, timeline)["holdout_mape"]
        results.append(row)
    return sorted(results, key=lambda row: row["holdout_customer_rmse"])
