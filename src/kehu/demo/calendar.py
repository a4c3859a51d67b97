"""The demo's business calendar: seasonality of trade and dates drawn from it.

Trade dips around the Chinese New Year (春节) and the National Day holiday, rushes in the weeks
before the New Year and peaks in the fourth quarter; weekends are quiet.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from lunardate import LunarDate

from kehu.demo.writer import EPOCH, day_number

MONTH_FACTORS = (0.95, 0.85, 1.05, 1.0, 1.0, 1.05, 0.9, 0.9, 1.05, 1.05, 1.2, 1.35)
WEEKDAY_FACTORS = (1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.25)  # Monday … Sunday


def _solar(lunar: LunarDate) -> dt.date:
    convert = getattr(lunar, "to_solar_date", None) or lunar.toSolarDate  # lunardate < 0.3
    return convert()


def spring_festival(year: int) -> dt.date:
    return _solar(LunarDate(year, 1, 1))


def mid_autumn(year: int) -> dt.date:
    return _solar(LunarDate(year, 8, 15))


@dataclass(frozen=True)
class BusinessCalendar:
    """Day weights from `first_day` to `last_day` (day numbers), with mean 1."""

    first_day: int
    last_day: int
    weights: np.ndarray
    cumulative: np.ndarray  # for drawing days in proportion to the weights

    @classmethod
    def build(cls, *, first: dt.date, last: dt.date) -> BusinessCalendar:
        first_day, last_day = day_number(first), day_number(last)
        days = np.arange(first_day, last_day + 1)
        dates = days.astype("datetime64[D]")
        months = dates.astype("datetime64[M]").astype(np.int64) % 12
        weekdays = (days + 3) % 7  # 1970-01-01 was a Thursday
        weights = np.asarray(MONTH_FACTORS)[months] * np.asarray(WEEKDAY_FACTORS)[weekdays]
        for year in range(first.year - 1, last.year + 2):
            festival = day_number(spring_festival(year))
            for low, high, factor in (
                (-30, -11, 1.25),
                (-10, -1, 0.6),
                (0, 9, 0.15),
                (10, 20, 0.6),
            ):
                mask = (days >= festival + low) & (days <= festival + high)
                weights[mask] *= factor
            national_day = day_number(dt.date(year, 10, 1))
            weights[(days >= national_day) & (days <= national_day + 6)] *= 0.3
        weights = weights / weights.mean()
        return cls(first_day, last_day, weights, np.cumsum(weights))

    @property
    def length(self) -> int:
        return self.last_day - self.first_day + 1

    @property
    def peak(self) -> float:
        return float(self.weights.max())

    def weight_on(self, days: np.ndarray) -> np.ndarray:
        index = np.clip(days - self.first_day, 0, self.length - 1)
        return self.weights[index]

    def mass_between(self, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        """Sum of the weights over [low, high] for each pair (0 where high < low)."""
        low_index = np.clip(low - self.first_day, 0, self.length)
        high_index = np.clip(high - self.first_day + 1, 0, self.length)
        padded = np.concatenate([[0.0], self.cumulative])
        return np.maximum(padded[np.maximum(high_index, low_index)] - padded[low_index], 0.0)

    def draw_between(
        self, rng: np.random.Generator, low: np.ndarray, high: np.ndarray
    ) -> np.ndarray:
        """One day in [low, high] for each pair, in proportion to the weights."""
        low_index = np.clip(low - self.first_day, 0, self.length - 1)
        high_index = np.clip(high - self.first_day, low_index, self.length - 1)
        padded = np.concatenate([[0.0], self.cumulative])
        start = padded[low_index]
        end = padded[high_index + 1]
        target = start + rng.random(len(low)) * (end - start)
        index = np.searchsorted(self.cumulative, target, side="right")
        return self.first_day + np.clip(index, low_index, high_index)

    def festivals(self, name: str) -> np.ndarray:
        """Day numbers of a festival ('spring' or 'mid_autumn') inside the calendar."""
        first = EPOCH + dt.timedelta(days=self.first_day)
        last = EPOCH + dt.timedelta(days=self.last_day)
        finder = spring_festival if name == "spring" else mid_autumn
        days = [day_number(finder(year)) for year in range(first.year, last.year + 1)]
        return np.asarray([d for d in days if self.first_day <= d <= self.last_day], dtype=np.int64)
