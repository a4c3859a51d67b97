"""Past customers with a KNOWN structure, for testing the scorecard calibration.

ln(p_bad / p_good) = −4.6 + 0.9 · ln(1 + days_late) + REGION_EFFECT[region]; `noise_number`
and `noise_category` have no effect at all; `customer_code` is an identifier. 3% of the
`days_late` cells are empty (missing at random).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

REGION_EFFECT = {"north": -0.8, "south": 0.0, "east": 0.5, "west": 1.1}
REGION_SHARE = (0.3, 0.3, 0.2, 0.2)
INTERCEPT = -4.6
DAYS_LATE_SLOPE = 0.9  # per unit of ln(1 + days late)
INFORMATIVE = ("days_late", "region")
NOISE = ("noise_number", "noise_category")


@dataclass(frozen=True)
class SyntheticCustomers:
    frame: pl.DataFrame  # the attributes (and customer_code)
    is_bad: np.ndarray
    true_log_odds: np.ndarray  # ln(p_bad / p_good) of the model that made the outcome


def synthetic_customers(*, rows: int = 5000, seed: int = 7) -> SyntheticCustomers:
    rng = np.random.default_rng(seed)
    days_late = np.round(rng.gamma(shape=1.5, scale=12.0, size=rows), 1)
    regions = rng.choice(list(REGION_EFFECT), size=rows, p=REGION_SHARE)
    effect = np.vectorize(REGION_EFFECT.get)(regions).astype(float)
    log_odds = INTERCEPT + DAYS_LATE_SLOPE * np.log1p(days_late) + effect
    is_bad = rng.random(rows) < 1 / (1 + np.exp(-log_odds))
    observed_days = days_late.copy()
    observed_days[rng.random(rows) < 0.03] = np.nan
    frame = pl.DataFrame(
        {
            "customer_code": [f"K{index:06d}" for index in range(rows)],
            "days_late": pl.Series(observed_days, nan_to_null=True),
            "region": regions,
            "noise_number": np.round(rng.normal(100, 15, rows), 2),
            "noise_category": rng.choice(list("ABCDE"), size=rows),
        }
    )
    return SyntheticCustomers(frame=frame, is_bad=is_bad, true_log_odds=log_odds)


def write_csv(
    path: Path,
    data: SyntheticCustomers,
    *,
    target: str = "status",
    bad: str = "default",
    good: str = "paid",
    encoding: str = "utf-8",
) -> Path:
    """The customers as a CSV file with an outcome column `target` holding `bad` or `good`."""
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle)
        writer.writerow([*data.frame.columns, target])
        for row, is_bad in zip(data.frame.iter_rows(), data.is_bad, strict=True):
            writer.writerow(
                ["" if cell is None else cell for cell in row] + [bad if is_bad else good]
            )
    return path
