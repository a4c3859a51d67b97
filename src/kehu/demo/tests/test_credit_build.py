"""The demo's credit side: every customer rated with its breakdown, a line for every customer on
credit, applications waiting at each level, held orders in the queue, collection notes."""

from __future__ import annotations

import pytest
from django.db.models import Count
from django.utils import timezone

from kehu.credit.models import (
    ApplicationState,
    CreditCheck,
    CreditGroup,
    CreditLine,
    CreditLineApplication,
    CreditLineState,
    CreditRating,
    CustomerCredit,
    HoldState,
    ScorecardIndicator,
)
from kehu.customers.models import Customer
from kehu.demo.credit import demo_credit_build
from kehu.demo.services import demo_build
from kehu.receivables.models import CollectionNote
from kehu.sales.models import OrderState

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):
    today = timezone.localdate()
    with django_db_blocker.unblock():
        demo_build(seed=5, customers=400, today=today)
        counts = demo_credit_build(today=today, seed=5)
    yield counts
    with django_db_blocker.unblock():
        from kehu.demo.services import demo_clear
        from kehu.receivables.collections import dunning_levels_ensure_defaults

        demo_clear()
        # The flush also empties the dunning ladder the migrations seed; later tests need it.
        dunning_levels_ensure_defaults()


def test_every_customer_has_a_rating_with_every_indicator(built):
    indicators = ScorecardIndicator.objects.filter(group__template__is_active=True).count()
    assert indicators == 20
    assert CustomerCredit.objects.filter(rating__isnull=False).count() == Customer.objects.count()
    item_counts = set(
        CreditRating.objects.annotate(n=Count("items")).values_list("n", flat=True).distinct()
    )
    assert item_counts == {20}


def test_every_customer_on_credit_has_one_line_in_force(built):
    on_credit = Customer.objects.filter(credit_limit__gt=0).count()
    assert on_credit > 0
    active = CreditLine.objects.filter(state=CreditLineState.ACTIVE, customer__isnull=False)
    assert active.count() == on_credit
    assert not CreditLine.objects.filter(approved_by__isnull=True).exists()


def test_applications_wait_for_approvers_and_some_were_decided(built):
    waiting = CreditLineApplication.objects.filter(
        state=ApplicationState.SUBMITTED, customer__isnull=False
    )
    assert waiting.count() == built["applications waiting"]
    assert len({a.required_role for a in waiting}) >= 2
    assert CreditLineApplication.objects.filter(state=ApplicationState.APPROVED).exists()


def test_held_orders_wait_in_the_queue_and_one_was_released_and_one_rejected(built):
    open_holds = CreditCheck.objects.filter(hold_state=HoldState.OPEN)
    assert open_holds.count() == built["orders held for credit"] - 2
    assert {check.order.state for check in open_holds} == {OrderState.CREDIT_HOLD}
    released = CreditCheck.objects.get(hold_state=HoldState.RELEASED)
    assert released.order.state == OrderState.CONFIRMED
    rejected = CreditCheck.objects.get(hold_state=HoldState.REJECTED)
    assert rejected.order.state == OrderState.CANCELLED


def test_collection_notes_are_recorded(built):
    assert CollectionNote.objects.count() == built["collection notes"] > 0


def test_credit_groups_of_one_rep_share_a_group_line(built):
    groups = list(CreditGroup.objects.order_by("code"))
    assert len(groups) == built["credit groups"] == 2
    for group in groups:
        owners = {standing.customer.owner_id for standing in group.members.all()}
        assert len(owners) == 1
        assert group.members.count() >= 2
        assert group.credit_lines.filter(state=CreditLineState.ACTIVE).count() == 1
    waiting = CreditLineApplication.objects.filter(
        state=ApplicationState.SUBMITTED, group__isnull=False
    )
    assert [application.group.code for application in waiting] == [groups[1].code]
