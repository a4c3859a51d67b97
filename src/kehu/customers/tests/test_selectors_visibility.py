"""Who sees which customer (domain §1): the one rule pages and API go through."""

import pytest

from kehu.customers.selectors import customers_visible_to
from kehu.customers.tests.factories import CustomerFactory


@pytest.fixture
def customers(organisation):
    return {
        "east_rep": CustomerFactory(code="E1", owner=organisation.rep),
        "east_cm": CustomerFactory(code="E2", owner=organisation.customer_manager),
        "west_rep": CustomerFactory(code="W1", owner=organisation.other_rep),
    }


@pytest.mark.parametrize(
    ("person", "expected"),
    [
        ("rep", {"E1"}),
        ("other_rep", {"W1"}),
        ("customer_manager", {"E1", "E2"}),
        ("direct_sales_manager", {"E1", "E2"}),
        ("regional_manager", {"E1", "E2"}),
        ("finance", {"E1", "E2", "W1"}),
        ("top_management", {"E1", "E2", "W1"}),
        ("administrator", {"E1", "E2", "W1"}),
    ],
)
def test_each_role_sees_exactly_its_customers(organisation, customers, person, expected):
    user = getattr(organisation, person)

    visible = set(customers_visible_to(user).values_list("code", flat=True))

    assert visible == expected


def test_an_inactive_user_sees_nothing(organisation, customers):
    organisation.finance.is_active = False

    assert not customers_visible_to(organisation.finance).exists()
