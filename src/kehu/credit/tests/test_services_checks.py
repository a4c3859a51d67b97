"""The order credit check, holds, releases and rejections (issue 5 item 4)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from kehu.accounts.services import approval_authorities_ensure_defaults
from kehu.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from kehu.credit.events import refusals_logged
from kehu.credit.models import (
    CreditCheck,
    CreditEvent,
    CreditEventKind,
    CustomerCredit,
    HoldReason,
    HoldState,
)
from kehu.credit.services.checks import (
    credit_hold_reject,
    credit_hold_release,
    customer_credit_hold_reasons,
    order_credit_check,
)
from kehu.credit.services.settings import credit_settings_update
from kehu.credit.tests.factories import CreditGroupFactory, CreditSecurityFactory
from kehu.credit.tests.hold_helpers import (
    confirm,
    history_order,
    line_for,
    open_invoice,
    today,
)
from kehu.customers.tests.factories import CustomerFactory
from kehu.sales.models import Order, OrderState, PaymentMethod
from kehu.sales.services import order_set_state

D = Decimal


@pytest.fixture(autouse=True)
def english():
    """Messages in English (the source language), whatever the default."""
    with translation.override("en"):
        yield


@pytest.fixture
def customer(organisation):
    approval_authorities_ensure_defaults()
    return CustomerFactory.create(owner=organisation.rep)


def _held_events():
    return list(CreditEvent.objects.filter(kind=CreditEventKind.ORDER_HELD))


# --- The figures ------------------------------------------------------------------------------


def test_exposure_is_open_receivables_plus_uninvoiced_credit_orders_plus_this_order(
    organisation, customer
):
    # Given open receivables 30,000 (one invoice partly paid), a cancelled invoice, orders in
    # every state and payment, and a line of 100,000
    line_for(customer, "100000.00")
    open_invoice(customer, "25000.00", open_amount="20000.00")
    open_invoice(customer, "10000.00")
    cancelled = open_invoice(customer, "9999.00")
    cancelled.is_cancelled = True
    cancelled.save()
    history_order(customer, "10000.00")  # confirmed on credit: counts
    history_order(customer, "5000.00", state=OrderState.DELIVERED)  # counts
    history_order(customer, "7000.00", state=OrderState.INVOICED)  # in the receivables
    history_order(customer, "3000.00", state=OrderState.DRAFT)
    history_order(customer, "2000.00", state=OrderState.CANCELLED)
    confirm(customer, "4000.00", actor=None, payment_method=PaymentMethod.CASH)

    # When the rep confirms an order of 12,345.67 on credit
    order = confirm(customer, "12345.67", actor=organisation.rep)

    # Then the exposure is 30,000 + 15,000 + 12,345.67 and the order passes
    check = CreditCheck.objects.get(order=order)
    assert check.exposure == D("57345.67")
    assert check.order_amount == D("12345.67")
    assert check.line_amount == D("100000.00")
    assert check.result == "passed"
    assert check.reasons == []
    assert check.hold_state == ""
    assert check.excess == D("0.00")
    assert check.checked_by == organisation.rep
    assert order.state == OrderState.CONFIRMED
    assert _held_events() == []


def test_an_order_up_to_the_line_passes_and_one_cent_beyond_is_held(organisation, customer):
    line_for(customer, "50000.00")
    open_invoice(customer, "40000.00")
    first = confirm(customer, "10000.00", actor=organisation.rep)
    assert first.state == OrderState.CONFIRMED

    second = confirm(customer, "0.01", actor=organisation.rep)

    assert second.state == OrderState.CREDIT_HOLD
    check = CreditCheck.objects.get(order=second)
    assert check.result == "held"
    assert check.hold_state == HoldState.OPEN
    assert check.reasons == [HoldReason.OVER_LINE]
    assert check.exposure == D("50000.01")
    assert check.excess == D("0.01")
    [event] = _held_events()
    assert event.credit_check == check
    assert event.customer == customer
    assert event.actor == organisation.rep
    assert event.reason == {"reasons": ["over_line"]}
    assert event.after["excess"] == "0.01"
    # A held order holds no credit: the exposure without it is unchanged
    assert Order.objects.get(pk=second.pk).state == "held"


def test_a_credit_order_without_a_line_is_held_and_a_cash_order_goes_through(
    organisation, customer
):
    held = confirm(customer, "800.00", actor=organisation.rep)
    cash = confirm(customer, "800.00", actor=organisation.rep, payment_method=PaymentMethod.CASH)

    assert held.state == OrderState.CREDIT_HOLD
    check = CreditCheck.objects.get(order=held)
    assert check.reasons == [HoldReason.NO_LINE]
    assert check.line_amount is None
    # No line: releasing approves the whole order
    assert check.excess == D("800.00")
    assert cash.state == OrderState.CONFIRMED
    assert not CreditCheck.objects.filter(order=cash).exists()
    assert Order.objects.count() == 2


def test_an_expired_line_holds_the_order(organisation, customer):
    line_for(
        customer,
        "100000.00",
        valid_from=today() - dt.timedelta(days=400),
        valid_until=today() - dt.timedelta(days=1),
    )

    order = confirm(customer, "100.00", actor=organisation.rep)

    check = CreditCheck.objects.get(order=order)
    assert order.state == OrderState.CREDIT_HOLD
    assert check.reasons == [HoldReason.LINE_EXPIRED]
    assert check.line_amount == D("0.00")
    assert check.excess == D("100.00")
    assert customer_credit_hold_reasons(customer=customer, today=today()) == ["line_expired"]


def test_an_item_overdue_beyond_the_allowed_days_holds_the_order(organisation, customer):
    line_for(customer, "100000.00")
    open_invoice(customer, "1000.00", due_days_ago=60)  # exactly the allowed 60 days
    assert confirm(customer, "100.00", actor=organisation.rep).state == OrderState.CONFIRMED

    open_invoice(customer, "500.00", due_days_ago=61)
    order = confirm(customer, "100.00", actor=organisation.rep)

    check = CreditCheck.objects.get(order=order)
    assert order.state == OrderState.CREDIT_HOLD
    assert check.reasons == [HoldReason.OVERDUE]
    assert check.excess == D("100.00")
    assert customer_credit_hold_reasons(customer=customer, today=today()) == ["overdue"]


def test_the_overdue_days_are_a_setting(organisation, customer):
    line_for(customer, "100000.00")
    open_invoice(customer, "1000.00", due_days_ago=11)
    credit_settings_update(changes={"hold": {"overdue_days": 10}}, actor=organisation.finance)

    order = confirm(customer, "100.00", actor=organisation.rep)

    assert CreditCheck.objects.get(order=order).reasons == [HoldReason.OVERDUE]


def test_grade_c_holds_every_credit_order(organisation, customer):
    line_for(customer, "100000.00")
    CustomerCredit.objects.create(customer=customer, grade="C")

    order = confirm(customer, "100.00", actor=organisation.rep)

    assert order.state == OrderState.CREDIT_HOLD
    assert CreditCheck.objects.get(order=order).reasons == [HoldReason.GRADE_C]
    assert customer_credit_hold_reasons(customer=customer, today=today()) == ["grade_c"]


def test_a_customer_in_good_standing_has_no_hold_reason(customer):
    line_for(customer, "100000.00")

    assert customer_credit_hold_reasons(customer=customer, today=today()) == []


def test_a_valid_security_covers_the_excess_and_an_expired_or_released_one_does_not(
    organisation, customer
):
    line_for(customer, "50000.00")
    open_invoice(customer, "50000.00")
    CreditSecurityFactory.create(
        customer=customer,
        amount=D("5000.00"),
        valid_from=today() - dt.timedelta(days=10),
        valid_until=today() + dt.timedelta(days=10),
    )
    CreditSecurityFactory.create(
        customer=customer,
        amount=D("90000.00"),
        valid_from=today() - dt.timedelta(days=100),
        valid_until=today() - dt.timedelta(days=1),
    )
    CreditSecurityFactory.create(
        customer=customer, amount=D("90000.00"), valid_from=today(), is_released=True
    )

    covered = confirm(customer, "5000.00", actor=organisation.rep)
    beyond = confirm(customer, "0.01", actor=organisation.rep)

    assert covered.state == OrderState.CONFIRMED
    passed = CreditCheck.objects.get(order=covered)
    assert passed.secured_amount == D("5000.00")
    assert passed.exposure == D("55000.00")
    assert beyond.state == OrderState.CREDIT_HOLD
    held = CreditCheck.objects.get(order=beyond)
    assert held.excess == D("0.01")
    assert held.reasons == [HoldReason.OVER_LINE]


def test_a_tolerance_of_five_percent_lets_104_percent_pass_and_holds_106(organisation, customer):
    line_for(customer, "100000.00")
    credit_settings_update(
        changes={"check": {"tolerance_share": "0.05"}}, actor=organisation.finance
    )

    within = confirm(customer, "104000.00", actor=organisation.rep)
    other = CustomerFactory.create(owner=organisation.rep)
    line_for(other, "100000.00")
    beyond = confirm(other, "106000.00", actor=organisation.rep)

    assert within.state == OrderState.CONFIRMED
    assert beyond.state == OrderState.CREDIT_HOLD
    check = CreditCheck.objects.get(order=beyond)
    # The excess is what goes beyond line × 1.05
    assert check.excess == D("1000.00")


def test_a_temporary_increase_counts_only_within_its_dates(organisation, customer):
    start, end = dt.date(2026, 6, 1), dt.date(2026, 6, 30)
    line_for(
        customer,
        "100000.00",
        valid_from=dt.date(2026, 1, 1),
        valid_until=dt.date(2026, 12, 31),
        temporary_amount=D("50000.00"),
        temporary_from=start,
        temporary_until=end,
    )
    order = history_order(customer, "120000.00", state=OrderState.DRAFT)

    def check_on(day: dt.date) -> CreditCheck:
        check = order_credit_check(
            order=order, checkpoint="confirm", actor=organisation.rep, today=day
        )
        if check.hold_state == HoldState.OPEN:  # make room for the next check of the order
            CreditCheck.objects.filter(pk=check.pk).update(hold_state=HoldState.REJECTED)
        return check

    assert check_on(start - dt.timedelta(days=1)).result == "held"
    first_day = check_on(start)
    assert (first_day.result, first_day.line_amount) == ("passed", D("150000.00"))
    assert check_on(end).result == "passed"
    after = check_on(end + dt.timedelta(days=1))
    assert (after.result, after.line_amount, after.excess) == (
        "held",
        D("100000.00"),
        D("20000.00"),
    )


def test_a_group_line_is_checked_as_well_as_the_members_own(organisation, customer):
    group = CreditGroupFactory.create()
    sister = CustomerFactory.create(owner=organisation.rep)
    CustomerCredit.objects.create(customer=customer, group=group)
    CustomerCredit.objects.create(customer=sister, group=group)
    line_for(None, "150000.00", group=group)
    line_for(customer, "100000.00")
    line_for(sister, "100000.00")
    history_order(sister, "80000.00")

    # 80,000 is within the member's own line but the group's 160,000 exceeds 150,000
    order = confirm(customer, "80000.00", actor=organisation.rep)

    check = CreditCheck.objects.get(order=order)
    assert order.state == OrderState.CREDIT_HOLD
    assert check.reasons == [HoldReason.GROUP_OVER_LINE]
    assert (check.exposure, check.line_amount) == (D("80000.00"), D("100000.00"))
    assert (check.group_exposure, check.group_line_amount) == (D("160000.00"), D("150000.00"))
    assert check.excess == D("10000.00")
    assert _held_events()[0].group == group


def test_a_group_member_without_its_own_line_trades_on_the_group_line(organisation, customer):
    group = CreditGroupFactory.create()
    CustomerCredit.objects.create(customer=customer, group=group)
    line_for(None, "150000.00", group=group)

    passed = confirm(customer, "150000.00", actor=organisation.rep)
    held = confirm(customer, "1.00", actor=organisation.rep)

    assert passed.state == OrderState.CONFIRMED
    assert CreditCheck.objects.get(order=held).reasons == [HoldReason.GROUP_OVER_LINE]


def test_the_members_own_line_holds_even_when_the_group_line_has_room(organisation, customer):
    group = CreditGroupFactory.create()
    CustomerCredit.objects.create(customer=customer, group=group)
    line_for(None, "500000.00", group=group)
    line_for(customer, "100000.00")

    order = confirm(customer, "100000.01", actor=organisation.rep)

    assert CreditCheck.objects.get(order=order).reasons == [HoldReason.OVER_LINE]


# --- When the check runs ----------------------------------------------------------------------


def test_history_loads_without_an_actor_are_not_checked(customer):
    order = confirm(customer, "999999.00", actor=None)

    assert order.state == OrderState.CONFIRMED
    assert not CreditCheck.objects.exists()


def test_confirming_a_draft_checks_and_holds_it(organisation, customer):
    draft = history_order(customer, "100.00", state=OrderState.DRAFT)

    order = order_set_state(order=draft, state=OrderState.CONFIRMED, actor=organisation.rep)

    assert order.state == OrderState.CREDIT_HOLD
    assert Order.objects.get(pk=draft.pk).state == OrderState.CREDIT_HOLD
    assert CreditCheck.objects.get(order=draft).reasons == [HoldReason.NO_LINE]


def test_a_held_order_cannot_be_confirmed_or_cancelled_by_setting_its_state(organisation, customer):
    held = confirm(customer, "100.00", actor=organisation.rep)

    for state in (OrderState.CONFIRMED, OrderState.CANCELLED):
        with pytest.raises(Conflict, match="held for credit"):
            order_set_state(order=held, state=state, actor=organisation.finance)

    assert Order.objects.get(pk=held.pk).state == OrderState.CREDIT_HOLD
    assert CreditCheck.objects.get(order=held).hold_state == HoldState.OPEN


def test_delivery_checks_credit_when_the_settings_say_so(organisation, customer):
    # Given an order confirmed within the line, then the line is cut below it
    line = line_for(customer, "1000.00")
    order = confirm(customer, "900.00", actor=organisation.rep)
    line.amount = D("500.00")
    line.save()

    # Delivery is not a checkpoint by default: it goes through
    credit_settings_update(
        changes={"check": {"checkpoints": ["confirm", "deliver"]}}, actor=organisation.finance
    )
    moved = order_set_state(order=order, state=OrderState.DELIVERED, actor=organisation.rep)

    # Held at delivery: the order stays confirmed (holding its credit) with an open hold
    assert moved.state == OrderState.CONFIRMED
    check = CreditCheck.objects.get(order=order, checkpoint="deliver")
    assert (check.hold_state, check.excess, check.exposure) == (
        HoldState.OPEN,
        D("400.00"),
        D("900.00"),
    )
    with pytest.raises(Conflict, match="hold queue"):
        order_set_state(order=order, state=OrderState.DELIVERED, actor=organisation.rep)

    credit_hold_release(
        credit_check=check, actor=organisation.customer_manager, reason="客户已承诺月底付款"
    )
    order.refresh_from_db()
    assert order.state == OrderState.DELIVERED
    assert order.delivered_on == today()


def test_delivery_is_not_checked_by_default(organisation, customer):
    line = line_for(customer, "1000.00")
    order = confirm(customer, "900.00", actor=organisation.rep)
    line.amount = D("500.00")
    line.save()

    moved = order_set_state(order=order, state=OrderState.DELIVERED, actor=organisation.rep)

    assert moved.state == OrderState.DELIVERED
    assert CreditCheck.objects.filter(order=order).count() == 1


# --- Release and reject -----------------------------------------------------------------------


def _over_line_hold(organisation, customer, excess: str) -> CreditCheck:
    line_for(customer, "100000.00")
    history_order(customer, "100000.00")
    order = confirm(customer, excess, actor=organisation.rep)
    return CreditCheck.objects.get(order=order)


def test_a_release_beyond_ones_authority_is_refused_nothing_changes_and_it_is_logged(
    organisation, customer
):
    # The customer manager's authority is 100,000; the hold's excess is 150,000
    check = _over_line_hold(organisation, customer, "150000.00")

    with (
        pytest.raises(PermissionDenied, match="authority reaches 100000"),
        refusals_logged(
            action="hold_release", actor=organisation.customer_manager, customer=customer
        ),
    ):
        credit_hold_release(
            credit_check=check, actor=organisation.customer_manager, reason="老客户"
        )

    check.refresh_from_db()
    assert (check.hold_state, check.decided_by, check.decision_reason) == (HoldState.OPEN, None, "")
    assert Order.objects.get(pk=check.order_id).state == OrderState.CREDIT_HOLD
    assert not CreditEvent.objects.filter(kind=CreditEventKind.HOLD_RELEASED).exists()
    refused = CreditEvent.objects.get(kind=CreditEventKind.REFUSED)
    assert refused.actor == organisation.customer_manager
    assert refused.customer == customer
    assert refused.reason["action"] == "hold_release"
    assert refused.reason["detail"] == {
        "credit_check": check.pk,
        "excess": "150000.00",
        "authority": "100000.00",
    }


def test_a_release_within_ones_authority_confirms_the_order_and_records_why(organisation, customer):
    check = _over_line_hold(organisation, customer, "150000.00")

    credit_hold_release(
        credit_check=check, actor=organisation.direct_sales_manager, reason="  银行保函下周到  "
    )

    check.refresh_from_db()
    order = Order.objects.get(pk=check.order_id)
    assert order.state == OrderState.CONFIRMED
    assert check.hold_state == HoldState.RELEASED
    assert check.decided_by == organisation.direct_sales_manager
    assert check.decision_reason == "银行保函下周到"
    assert check.decided_at is not None
    event = CreditEvent.objects.get(kind=CreditEventKind.HOLD_RELEASED)
    assert event.credit_check == check
    assert event.before == {"hold_state": "open", "order_state": "held"}
    assert event.after == {
        "hold_state": "released",
        "order_state": "confirmed",
        "excess": "150000.00",
        "authority": "500000.00",
    }
    assert event.reason == {"reason": "银行保函下周到"}
    # The released order now holds credit: the exposure counts it
    customer.refresh_from_db()
    assert customer.purchase_count == 2


def test_top_management_releases_any_amount(organisation, customer):
    check = _over_line_hold(organisation, customer, "9000000.00")

    credit_hold_release(credit_check=check, actor=organisation.top_management, reason="战略客户")

    assert Order.objects.get(pk=check.order_id).state == OrderState.CONFIRMED


def test_a_hold_without_an_amount_needs_authority_over_the_whole_order(organisation, customer):
    CustomerCredit.objects.create(customer=customer, grade="C")
    line_for(customer, "1000000.00")
    order = confirm(customer, "100000.01", actor=organisation.rep)
    check = CreditCheck.objects.get(order=order)
    assert check.excess == D("100000.01")

    with pytest.raises(PermissionDenied):
        credit_hold_release(credit_check=check, actor=organisation.customer_manager, reason="x")
    credit_hold_release(credit_check=check, actor=organisation.regional_manager, reason="预付款")

    assert Order.objects.get(pk=order.pk).state == OrderState.CONFIRMED


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_decision_needs_a_reason(organisation, customer, reason):
    check = _over_line_hold(organisation, customer, "1.00")

    with pytest.raises(ValidationFailed, match="reason"):
        credit_hold_release(credit_check=check, actor=organisation.top_management, reason=reason)
    with pytest.raises(ValidationFailed, match="reason"):
        credit_hold_reject(credit_check=check, actor=organisation.top_management, reason=reason)

    check.refresh_from_db()
    assert check.hold_state == HoldState.OPEN
    assert Order.objects.get(pk=check.order_id).state == OrderState.CREDIT_HOLD


def test_a_rep_cannot_release_or_reject_and_a_stranger_does_not_see_the_hold(
    organisation, customer
):
    check = _over_line_hold(organisation, customer, "1.00")

    with pytest.raises(PermissionDenied):
        credit_hold_release(credit_check=check, actor=organisation.rep, reason="x")
    with pytest.raises(PermissionDenied):
        credit_hold_reject(credit_check=check, actor=organisation.rep, reason="x")
    with pytest.raises(NotFound):
        credit_hold_release(credit_check=check, actor=organisation.other_rep, reason="x")

    check.refresh_from_db()
    assert check.hold_state == HoldState.OPEN


def test_rejecting_a_hold_cancels_the_order(organisation, customer):
    check = _over_line_hold(organisation, customer, "1.00")

    credit_hold_reject(credit_check=check, actor=organisation.finance, reason="逾期未还，拒绝")

    check.refresh_from_db()
    assert check.hold_state == HoldState.REJECTED
    assert check.decided_by == organisation.finance
    assert Order.objects.get(pk=check.order_id).state == OrderState.CANCELLED
    event = CreditEvent.objects.get(kind=CreditEventKind.HOLD_REJECTED)
    assert event.after == {"hold_state": "rejected", "order_state": "cancelled"}
    assert event.reason == {"reason": "逾期未还，拒绝"}


def test_a_decided_hold_cannot_be_decided_again(organisation, customer):
    check = _over_line_hold(organisation, customer, "1.00")
    credit_hold_reject(credit_check=check, actor=organisation.finance, reason="no")

    with pytest.raises(Conflict, match="already decided"):
        credit_hold_release(credit_check=check, actor=organisation.top_management, reason="yes")

    assert Order.objects.get(pk=check.order_id).state == OrderState.CANCELLED


def test_a_hold_at_invoicing_of_a_delivered_order_cannot_be_rejected(organisation, customer):
    # Given invoicing checks credit and a delivered order beyond a line cut since
    line = line_for(customer, "1000.00")
    order = confirm(customer, "900.00", actor=organisation.rep)
    order = order_set_state(order=order, state=OrderState.DELIVERED, actor=organisation.rep)
    line.amount = D("100.00")
    line.save()
    credit_settings_update(
        changes={"check": {"checkpoints": ["confirm", "invoice"]}}, actor=organisation.finance
    )
    order_set_state(order=order, state=OrderState.INVOICED, actor=organisation.rep)
    check = CreditCheck.objects.get(order=order, checkpoint="invoice")
    assert Order.objects.get(pk=order.pk).state == OrderState.DELIVERED

    with pytest.raises(Conflict, match="cannot be cancelled"):
        credit_hold_reject(credit_check=check, actor=organisation.finance, reason="x")

    assert CreditCheck.objects.get(pk=check.pk).hold_state == HoldState.OPEN
    credit_hold_release(credit_check=check, actor=organisation.top_management, reason="已交货")
    assert Order.objects.get(pk=order.pk).state == OrderState.INVOICED
