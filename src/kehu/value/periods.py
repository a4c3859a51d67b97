"""Period labels: 2025 (a year), 2025Q4 (a quarter), 2025-11 (a month)."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from kehu.core.errors import ValidationFailed

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})[Qq]([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Period:
    label: str
    kind: str  # year, quarter or month
    start: dt.date
    end: dt.date


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def period_parse(text: str) -> Period:
    """Parse a period label; raises ValidationFailed naming the label when it is not one."""
    label = (text or "").strip()
    if match := _YEAR.match(label):
        year = int(match.group(1))
        if year >= 1900:
            return Period(label, "year", dt.date(year, 1, 1), dt.date(year, 12, 31))
    elif match := _QUARTER.match(label):
        year, quarter = int(match.group(1)), int(match.group(2))
        if year >= 1900:
            first = 3 * quarter - 2
            return Period(
                f"{year}Q{quarter}",
                "quarter",
                dt.date(year, first, 1),
                _month_end(year, first + 2),
            )
    elif match := _MONTH.match(label):
        year, month = int(match.group(1)), int(match.group(2))
        if year >= 1900 and 1 <= month <= 12:
            return Period(label, "month", dt.date(year, month, 1), _month_end(year, month))
    raise ValidationFailed(
        f"period {text!r} is not a year (2025), a quarter (2025Q4) or a month (2025-11)",
        detail={"field": "period", "value": text},
    )


def last_closed_quarter(today: dt.date) -> Period:
    """The last quarter that ended before `today`."""
    quarter = (today.month - 1) // 3 + 1
    year = today.year
    quarter -= 1
    if quarter == 0:
        year, quarter = year - 1, 4
    return period_parse(f"{year}Q{quarter}")


def window_start(period_end: dt.date, months: int) -> dt.date:
    """First day of the trailing window of `months` whole months that ends on `period_end`
    (which is a month end): 2025-12-31 with 12 months → 2025-01-01."""
    index = period_end.year * 12 + (period_end.month - 1) - (months - 1)
    return dt.date(index // 12, index % 12 + 1, 1)
