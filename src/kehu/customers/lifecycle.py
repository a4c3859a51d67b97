"""Lifecycle (domain §2) and birthdays: pure functions over dates, no database."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q
from lunardate import LunarDate

from kehu.customers.models import Lifecycle


def lifecycle_windows() -> tuple[int, int]:
    return int(settings.KEHU["INACTIVE_AFTER_DAYS"]), int(settings.KEHU["LOST_AFTER_DAYS"])


def lifecycle_of(*, purchase_count: int, last_purchase_on: dt.date | None, today: dt.date) -> str:
    """prospect → new (exactly one purchase) → old (two or more) → inactive → lost."""
    if purchase_count == 0 or last_purchase_on is None:
        return Lifecycle.PROSPECT
    inactive_after, lost_after = lifecycle_windows()
    idle_days = (today - last_purchase_on).days
    if idle_days > lost_after:
        return Lifecycle.LOST
    if idle_days > inactive_after:
        return Lifecycle.INACTIVE
    return Lifecycle.NEW if purchase_count == 1 else Lifecycle.OLD


def lifecycle_q(state: str, today: dt.date) -> Q:
    """The same rule as a database filter, so that lists filter at scale."""
    inactive_after, lost_after = lifecycle_windows()
    inactive_since = today - dt.timedelta(days=inactive_after)
    lost_since = today - dt.timedelta(days=lost_after)
    active = Q(purchase_count__gt=0, last_purchase_on__gte=inactive_since)
    if state == Lifecycle.PROSPECT:
        return Q(purchase_count=0) | Q(last_purchase_on__isnull=True)
    if state == Lifecycle.NEW:
        return active & Q(purchase_count=1)
    if state == Lifecycle.OLD:
        return active & Q(purchase_count__gte=2)
    if state == Lifecycle.INACTIVE:
        return Q(purchase_count__gt=0, last_purchase_on__lt=inactive_since) & Q(
            last_purchase_on__gte=lost_since
        )
    if state == Lifecycle.LOST:
        return Q(purchase_count__gt=0, last_purchase_on__lt=lost_since)
    raise ValueError(f"unknown lifecycle state {state!r}")


def next_birthday(
    *, calendar: str, month: int, day: int, is_leap_month: bool, after: dt.date
) -> dt.date:
    """The next solar date on or after `after` on which this birthday falls.

    A lunar birthday in a leap month falls in the ordinary month in years without that leap
    month; a 30th in a 29-day lunar month falls on the 29th; 29 February on 28 February.
    """
    for year in range(after.year - 1, after.year + 3):
        if calendar == "lunar":
            candidate = _lunar_to_solar(year, month, day, is_leap_month)
        else:
            candidate = _solar(year, month, day)
        if candidate is not None and candidate >= after:
            return candidate
    raise ValueError(f"no birthday found for {calendar} {month}-{day}")


def _solar(year: int, month: int, day: int) -> dt.date:
    while True:
        try:
            return dt.date(year, month, day)
        except ValueError:
            day -= 1
            if day < 28:
                raise


def _lunar_to_solar(year: int, month: int, day: int, is_leap_month: bool) -> dt.date | None:
    for leap in [True, False] if is_leap_month else [False]:
        for try_day in (day, day - 1):
            try:
                return LunarDate(year, month, try_day, leap).to_solar_date()
            except ValueError:
                continue
    return None
