import datetime as dt

import pytest

from kehu.customers.lifecycle import lifecycle_of, lifecycle_q, next_birthday
from kehu.customers.models import Customer, Lifecycle
from kehu.customers.tests.factories import CustomerFactory

TODAY = dt.date(2026, 11, 23)


@pytest.mark.parametrize(
    ("count", "last", "expected"),
    [
        (0, None, Lifecycle.PROSPECT),
        (1, TODAY - dt.timedelta(days=10), Lifecycle.NEW),
        (2, TODAY - dt.timedelta(days=365), Lifecycle.OLD),
        (5, TODAY - dt.timedelta(days=366), Lifecycle.INACTIVE),
        (5, TODAY - dt.timedelta(days=730), Lifecycle.INACTIVE),
        (5, TODAY - dt.timedelta(days=731), Lifecycle.LOST),
    ],
)
def test_lifecycle_rule_and_its_database_filter_agree(db, count, last, expected):
    customer = CustomerFactory(purchase_count=count, first_purchase_on=last, last_purchase_on=last)

    assert lifecycle_of(purchase_count=count, last_purchase_on=last, today=TODAY) == expected
    for state in Lifecycle.values:
        matched = Customer.objects.filter(lifecycle_q(state, TODAY), pk=customer.pk).exists()
        assert matched == (state == expected), state


def test_a_lunar_birthday_moves_with_the_lunar_calendar():
    # 农历八月十五 (Mid-Autumn) fell on 2026-09-25 and falls on 2027-09-15.
    assert next_birthday(
        calendar="lunar", month=8, day=15, is_leap_month=False, after=dt.date(2026, 9, 1)
    ) == dt.date(2026, 9, 25)
    assert next_birthday(
        calendar="lunar", month=8, day=15, is_leap_month=False, after=dt.date(2026, 9, 26)
    ) == dt.date(2027, 9, 15)


def test_a_29_february_birthday_falls_on_28_february_in_common_years():
    assert next_birthday(
        calendar="solar", month=2, day=29, is_leap_month=False, after=dt.date(2026, 1, 1)
    ) == dt.date(2026, 2, 28)
