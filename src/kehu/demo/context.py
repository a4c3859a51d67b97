"""What every step of a demo build shares: the company, the calendar, the writer and the ids."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from django.db import models

from kehu.demo.calendar import BusinessCalendar
from kehu.demo.organisation import Company
from kehu.demo.writer import BulkWriter, next_id


class IdAllocator:
    """Hands out explicit primary keys, so rows can point at each other before they exist."""

    def __init__(self) -> None:
        self._next: dict[type[models.Model], int] = {}

    def take(self, model: type[models.Model], count: int) -> np.ndarray:
        if model not in self._next:
            self._next[model] = next_id(model)
        first = self._next[model]
        self._next[model] = first + count
        return np.arange(first, first + count, dtype=np.int64)

    def models(self) -> list[type[models.Model]]:
        return list(self._next)


@dataclass
class BuildContext:
    company: Company
    calendar: BusinessCalendar
    writer: BulkWriter
    today: int  # day number of the demo's today
    start: int  # first day of the three years of history
    utc_offset_seconds: int  # local time − UTC, to stamp rows during office hours
    ids: IdAllocator = field(default_factory=IdAllocator)

    def office_seconds(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """Seconds after midnight UTC of a moment between 09:00 and 18:00 local time."""
        local = rng.integers(9 * 3600, 18 * 3600, size=count)
        return local - self.utc_offset_seconds


def segment_index(counts: np.ndarray) -> np.ndarray:
    """For counts [2, 0, 3] → [0, 0, 2, 2, 2]: the owner of each child row."""
    return np.repeat(np.arange(len(counts)), counts)


def rank_within(counts: np.ndarray) -> np.ndarray:
    """For counts [2, 0, 3] → [0, 1, 0, 1, 2]: each child's position inside its owner."""
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total) - starts
