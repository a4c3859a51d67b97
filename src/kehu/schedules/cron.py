"""Cron expressions (five fields: minute hour day month weekday) read in the app's time zone,
with croniter (maintained by the Pallets community: ranges, lists, steps, names, and the
daylight-saving edges of zoneinfo time zones)."""

from __future__ import annotations

import datetime as dt

from croniter import croniter
from django.utils import timezone

from kehu.core.errors import ValidationFailed


def cron_check(expression: str) -> str:
    """The expression, trimmed, if it is a valid five-field cron expression; else
    ValidationFailed naming it."""
    text = " ".join(expression.split())
    if len(text.split(" ")) != 5 or not croniter.is_valid(text):
        raise ValidationFailed(
            f"{expression!r} is not a cron expression of five fields "
            "(minute hour day month weekday), such as '0 2 * * *' for 02:00 every day",
            detail={"field": "cron", "value": expression},
        )
    return text


def cron_next(expression: str, *, after: dt.datetime) -> dt.datetime:
    """The first time strictly after `after` that matches `expression`, read in the app's
    time zone (settings.TIME_ZONE); returned aware, in that time zone."""
    local = timezone.localtime(after)
    following = croniter(cron_check(expression), local).get_next(dt.datetime)
    assert isinstance(following, dt.datetime)
    return following
