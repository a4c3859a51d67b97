"""Concentration of value (domain §4.2): Pareto shares, the Lorenz curve, Gini, the whale curve.

Pure numpy. Give whole numbers (cents) for exact cumulative sums; floats work too. Rules:

- Pareto and Lorenz are about who produces the value, so values below 0 count as 0 there (a
  loss-maker produces no revenue share; the losses are the whale curve's subject). With a total
  of 0 the shares are undefined and given as None.
- top-20% share: the share of the total produced by the round-half-up(20% × n) largest values
  (at least one).
- smallest share of customers giving 80%: k / n for the smallest k whose k largest values reach
  80% of the total.
- Lorenz curve: points (i / n, share of the total held by the i smallest values), i = 0 … n.
- Gini = 2 Σ i·x(i) / (n Σ x) − (n + 1) / n over the values sorted ascending (i = 1 … n):
  0 when everyone is equal, (n − 1) / n when one customer has everything.
- whale curve (profit, §4.2): customers from the most to the least profitable; the cumulative
  profit rises to a peak and falls back as loss-makers are added. peak, its position (customers
  and share of customers), the peak as a share of the total profit, and the loss of the tail
  (peak − total). Shares of the total are None when the total is not positive.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np


@dataclass(frozen=True)
class Concentration:
    count: int
    total: float
    top_share: float | None  # share of the total from the top `top_fraction` of customers
    top_fraction: float
    customers_for_target: float | None  # smallest share of customers giving `target`
    target: float
    lorenz_x: np.ndarray
    lorenz_y: np.ndarray | None
    gini: float | None


@dataclass(frozen=True)
class WhaleCurve:
    count: int
    total: float
    peak: float
    peak_customers: int  # how many of the most profitable customers make the peak
    peak_position: float | None  # peak_customers / count
    peak_share: float | None  # peak / total (e.g. 1.5 = 150% of the total profit)
    tail_loss: float  # peak − total: what the customers after the peak lose
    x: np.ndarray
    cumulative: np.ndarray
    share: np.ndarray | None


def _count_for(n: int, fraction: float) -> int:
    return int((Decimal(n) * Decimal(str(fraction))).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def concentration(
    values: np.ndarray | list, *, top_fraction: float = 0.2, target: float = 0.8
) -> Concentration:
    array = np.clip(np.asarray(values), 0, None)
    n = len(array)
    ascending = np.sort(array, kind="stable")
    cumulative = np.concatenate(([0], np.cumsum(ascending)))
    total = cumulative[-1]
    x = np.arange(n + 1) / n if n else np.array([0.0])
    if n == 0 or total <= 0:
        return Concentration(n, float(total), None, top_fraction, None, target, x, None, None)
    descending = ascending[::-1]
    top = max(1, _count_for(n, top_fraction))
    top_share = float(np.sum(descending[:top]) / total)
    numerator, denominator = Decimal(str(target)).as_integer_ratio()
    reached = np.cumsum(descending) * denominator >= total * numerator  # exact on integers
    customers = (int(np.argmax(reached)) + 1) / n
    ranks = np.arange(1, n + 1)
    gini = float(2 * np.sum(ranks * ascending) / (n * total) - (n + 1) / n)
    return Concentration(
        n, float(total), top_share, top_fraction, customers, target, x, cumulative / total, gini
    )


def whale_curve(profits: np.ndarray | list) -> WhaleCurve:
    array = np.asarray(profits)
    n = len(array)
    descending = -np.sort(-array, kind="stable")
    cumulative = np.concatenate(([0], np.cumsum(descending)))
    total = cumulative[-1]
    peak_index = int(np.argmax(cumulative))  # the first maximum: fewest customers
    peak = cumulative[peak_index]
    x = np.arange(n + 1) / n if n else np.array([0.0])
    positive = total > 0
    return WhaleCurve(
        count=n,
        total=float(total),
        peak=float(peak),
        peak_customers=peak_index,
        peak_position=peak_index / n if n else None,
        peak_share=float(peak / total) if positive else None,
        tail_loss=float(peak - total),
        x=x,
        cumulative=cumulative,
        share=cumulative / total if positive else None,
    )
