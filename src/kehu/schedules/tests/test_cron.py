"""Cron expressions read in the app's time zone (Asia/Shanghai by default)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings

from kehu.core.errors import ValidationFailed
from kehu.schedules.cron import cron_check, cron_next

UTC = dt.UTC


def test_two_in_the_morning_is_read_in_shanghai_time():
    # 17:59 UTC on 5 March is 01:59 on 6 March in Shanghai (UTC+8): 02:00 is a minute away.
    following = cron_next("0 2 * * *", after=dt.datetime(2026, 3, 5, 17, 59, tzinfo=UTC))

    assert following == dt.datetime(2026, 3, 5, 18, 0, tzinfo=UTC)
    assert (following.hour, following.minute) == (2, 0)  # returned in the app's time zone
    assert str(following.tzinfo) == "Asia/Shanghai"


def test_the_next_time_is_strictly_after():
    at_two = dt.datetime(2026, 3, 5, 18, 0, tzinfo=UTC)  # 02:00 on 6 March in Shanghai

    assert cron_next("0 2 * * *", after=at_two) == at_two + dt.timedelta(days=1)


def test_the_quarterly_job_runs_on_the_first_day_of_a_quarter():
    after = dt.datetime(2026, 2, 14, 9, 0, tzinfo=UTC)

    following = cron_next("0 4 1 1,4,7,10 *", after=after)

    assert following == dt.datetime(2026, 3, 31, 20, 0, tzinfo=UTC)  # 1 April 04:00 Shanghai
    assert cron_next("0 4 1 1,4,7,10 *", after=following) == dt.datetime(
        2026, 6, 30, 20, 0, tzinfo=UTC
    )


@override_settings(TIME_ZONE="Europe/Berlin")
def test_another_time_zone_follows_its_summer_time():
    winter = cron_next("0 2 * * *", after=dt.datetime(2026, 1, 10, 12, 0, tzinfo=UTC))
    summer = cron_next("0 2 * * *", after=dt.datetime(2026, 7, 10, 12, 0, tzinfo=UTC))

    assert winter == dt.datetime(2026, 1, 11, 1, 0, tzinfo=UTC)  # CET, UTC+1
    assert summer == dt.datetime(2026, 7, 11, 0, 0, tzinfo=UTC)  # CEST, UTC+2


@pytest.mark.parametrize("expression", ["", "0 2 * *", "61 2 * * *", "0 2 * * * *", "daily"])
def test_a_bad_expression_is_refused_with_its_text(expression):
    with pytest.raises(ValidationFailed) as refused:
        cron_check(expression)

    assert repr(expression) in refused.value.message
    assert refused.value.detail == {"field": "cron", "value": expression}


def test_spaces_are_tidied():
    assert cron_check("  30   1 * *   * ") == "30 1 * * *"
