import datetime as dt
from decimal import Decimal

import pytest

from kehu.core.errors import Conflict, ValidationFailed
from kehu.customers.tests.factories import ContactFactory, CustomerFactory
from kehu.service.models import Activity, ComplaintState
from kehu.service.services import activity_log, complaint_create, complaint_resolve


def test_an_activity_with_another_customers_contact_is_refused(organisation):
    customer = CustomerFactory(owner=organisation.rep)
    stranger = ContactFactory()

    with pytest.raises(ValidationFailed, match="another customer"):
        activity_log(
            customer=customer,
            kind="visit",
            occurred_on=dt.date(2026, 3, 1),
            owner=organisation.rep,
            contact=stranger,
        )

    assert not Activity.objects.exists()


def test_a_visit_keeps_its_cost(organisation):
    customer = CustomerFactory(owner=organisation.rep)

    visit = activity_log(
        customer=customer,
        kind="visit",
        occurred_on=dt.date(2026, 3, 1),
        owner=organisation.rep,
        outcome="successful",
        cost=Decimal("350.00"),
    )

    assert Activity.objects.get(pk=visit.pk).cost == Decimal("350.00")


def test_a_complaint_is_owned_by_who_took_it_and_resolved_once(organisation):
    customer = CustomerFactory(owner=organisation.rep)
    complaint = complaint_create(
        customer=customer,
        received_on=dt.date(2026, 3, 1),
        category="delivery",
        text="送货晚了三天",
        owner=organisation.customer_manager,
    )

    complaint_resolve(complaint=complaint, resolved_on=dt.date(2026, 3, 2))

    complaint.refresh_from_db()
    assert (complaint.owner, complaint.state) == (
        organisation.customer_manager,
        ComplaintState.RESOLVED,
    )
    with pytest.raises(Conflict):
        complaint_resolve(complaint=complaint, resolved_on=dt.date(2026, 3, 3))
