"""Credit lines (§5.3): the proposal by hand, applications and their approval by authority,
refusals that change nothing and are logged, groups, securities and the re-survey scan."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import partial

import pytest
from django.utils import translation

from kehu.core.errors import Conflict, PermissionDenied, ValidationFailed
from kehu.credit.events import refusals_logged
from kehu.credit.models import (
    ApplicationState,
    CreditEvent,
    CreditEventKind,
    CreditLine,
    CreditLineApplication,
    CreditLineState,
    CreditRating,
    CreditReviewTask,
    CreditSecurity,
    CustomerCredit,
    ReviewReason,
    ScorecardTemplate,
    TaskState,
)
from kehu.credit.services.lines import (
    credit_group_create,
    credit_group_member_set,
    credit_line_application_approve,
    credit_line_application_cut,
    credit_line_application_refuse,
    credit_line_application_resubmit,
    credit_line_application_return,
    credit_line_application_submit,
    credit_line_application_withdraw,
    credit_line_propose,
    credit_reviews_scan,
    credit_security_record,
)
from kehu.credit.services.settings import credit_settings_update
from kehu.credit.tests.factories import CreditLineFactory, CreditSurveyFactory
from kehu.customers.tests.factories import CustomerFactory
from kehu.receivables.tests.factories import InvoiceFactory
from kehu.sales.models import Order, OrderState, Return

TODAY = dt.date(2026, 6, 30)
approve = partial(credit_line_application_approve, today=TODAY)
cut = partial(credit_line_application_cut, today=TODAY)


# --- Helpers other credit-line tests use --------------------------------------------------------


def make_grade(customer, grade: str, *, on: dt.date = TODAY) -> CustomerCredit:
    """A customer rated `grade` (a minimal template and rating made directly)."""
    template, _ = ScorecardTemplate.objects.get_or_create(
        code="test",
        version=1,
        defaults={
            "name": "Test",
            "total_points": Decimal("100"),
            "grade_bands": {"AAA": "90", "AA": "80", "A": "70", "B": "60"},
        },
    )
    rating = CreditRating.objects.create(
        customer=customer, template=template, rated_on=on, score=Decimal("85"), grade=grade
    )
    standing, _ = CustomerCredit.objects.update_or_create(
        customer=customer, defaults={"grade": grade, "rating": rating}
    )
    return standing


_order_numbers = iter(range(1, 1_000_000))


def make_order(customer, amount: str, on: dt.date, state: str = OrderState.INVOICED) -> Order:
    return Order.objects.create(
        number=f"SO{next(_order_numbers):06d}",
        customer=customer,
        state=state,
        order_date=on,
        total_amount=Decimal(amount),
    )


def submit(customer, user, amount: str, **extra):
    return credit_line_application_submit(
        customer=customer,
        applied_by=user,
        requested_amount=Decimal(amount),
        payment_terms_days=extra.pop("payment_terms_days", 60),
        valid_until=extra.pop("valid_until", dt.date(2027, 6, 30)),
        today=extra.pop("today", TODAY),
        **extra,
    )


def snapshot(customer=None):
    """What a refusal must leave alone."""
    state = {
        "applications": list(
            CreditLineApplication.objects.order_by("pk").values_list(
                "pk", "state", "requested_amount", "decided_by_id", "approved_amount"
            )
        ),
        "lines": list(CreditLine.objects.order_by("pk").values_list("pk", "state", "amount")),
        "securities": CreditSecurity.objects.count(),
        "groups": list(CustomerCredit.objects.order_by("pk").values_list("pk", "group_id")),
    }
    if customer is not None:
        customer.refresh_from_db()
        state["customer"] = (customer.credit_limit, customer.payment_terms_days)
        state["customer_history"] = customer.history.count()
    return state


def refused_events(action: str):
    return list(
        CreditEvent.objects.filter(kind=CreditEventKind.REFUSED, reason__action=action).values_list(
            "reason__message", flat=True
        )
    )


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English, the source language."""
    with translation.override("en"):
        yield


@pytest.fixture
def east(organisation):
    customer = CustomerFactory.create(
        code="E1", owner=organisation.rep, payment_terms_days=60, credit_limit=Decimal("50000.00")
    )
    return customer


@pytest.fixture
def west(organisation):
    return CustomerFactory.create(code="W1", owner=organisation.other_rep)


# --- The proposal ---------------------------------------------------------------------------------


def _year_of_purchases(customer):
    # 12 months to 2026-06-30: 11 × 100,000 + 112,000, less a 12,000 return = 1,200,000.
    first = make_order(customer, "100000.00", dt.date(2025, 7, 15))
    for month in range(8, 13):
        make_order(customer, "100000.00", dt.date(2025, month, 15))
    for month in range(1, 6):
        make_order(customer, "100000.00", dt.date(2026, month, 15))
    make_order(customer, "112000.00", dt.date(2026, 6, 30))
    Return.objects.create(
        number="R1",
        order=first,
        customer=customer,
        returned_on=dt.date(2026, 3, 1),
        amount=Decimal("12000.00"),
    )
    # Not counted: before the window, a draft, another customer's order.
    make_order(customer, "999999.00", dt.date(2025, 6, 30))
    make_order(customer, "999999.00", dt.date(2026, 6, 1), state=OrderState.DRAFT)
    make_order(CustomerFactory.create(), "999999.00", dt.date(2026, 6, 1))


def test_the_proposal_is_purchases_times_terms_times_factor(east):
    # Given a year of 1,200,000 purchases, 60 days' terms, grade AA and equity 2,750,000
    _year_of_purchases(east)
    make_grade(east, "AA")
    CreditSurveyFactory.create(customer=east, surveyed_on=dt.date(2026, 3, 1))

    proposal = credit_line_propose(customer=east, as_of=TODAY)

    # 100,000 a month × (60 / 30 + 1) × 1.2 = 360,000; the cap 2,750,000 × 0.5 does not bite
    assert proposal.period_from == dt.date(2025, 7, 1)
    assert proposal.purchases == Decimal("1200000.00")
    assert proposal.average_monthly_purchases == Decimal("100000.00")
    assert proposal.terms_multiplier == Decimal("3.0000")
    assert proposal.grade_factor == Decimal("1.2")
    assert proposal.before_cap == Decimal("360000.00")
    assert proposal.equity_cap == Decimal("1375000.00")
    assert proposal.is_capped is False
    assert proposal.amount == Decimal("360000.00")


def test_the_proposal_is_capped_at_a_share_of_the_equity(east):
    _year_of_purchases(east)
    make_grade(east, "AA")
    CreditSurveyFactory.create(customer=east, equity=Decimal("500000.00"))

    proposal = credit_line_propose(customer=east, as_of=TODAY)

    assert (proposal.before_cap, proposal.equity_cap, proposal.amount) == (
        Decimal("360000.00"),
        Decimal("250000.00"),
        Decimal("250000.00"),
    )
    assert proposal.is_capped is True


def test_the_proposal_rounds_down_and_follows_settings(organisation, east):
    # 148,148.04 a year → 12,345.67 a month × (30/30 + 1) × 1.0 = 24,691.34 → 24,000
    make_order(east, "148148.04", dt.date(2026, 1, 1))
    make_grade(east, "A")
    assert credit_line_propose(customer=east, as_of=TODAY, payment_terms_days=30).amount == (
        Decimal("24000.00")
    )
    credit_settings_update(
        changes={"proposal": {"round_to": "100", "grade_factors": {"A": "0.5"}}},
        actor=organisation.finance,
    )
    # 24,691.34 × 0.5 = 12,345.67 → 12,300
    assert credit_line_propose(customer=east, as_of=TODAY, payment_terms_days=30).amount == (
        Decimal("12300.00")
    )


def test_grade_c_trades_in_cash_and_no_grade_proposes_nothing(east, west):
    _year_of_purchases(east)
    make_grade(east, "C")
    make_order(west, "120000.00", dt.date(2026, 1, 1))

    assert credit_line_propose(customer=east, as_of=TODAY).amount == Decimal("0.00")
    unrated = credit_line_propose(customer=west, as_of=TODAY)
    assert (unrated.grade, unrated.grade_factor, unrated.amount) == ("", None, Decimal("0.00"))
    assert unrated.notes[0].startswith("not rated yet")


# --- Applications ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "temporary", "role"),
    [
        ("80000.00", None, "customer_manager"),
        ("100000.00", None, "customer_manager"),
        ("80000.00", "50000.00", "direct_sales_manager"),
        ("300000.00", None, "direct_sales_manager"),
        ("1500000.00", None, "regional_manager"),
        ("2500000.00", None, "top_management"),
    ],
)
def test_an_application_goes_to_the_lowest_role_whose_authority_covers_it(
    organisation, east, amount, temporary, role
):
    extra = {}
    if temporary:
        extra = {
            "temporary_amount": Decimal(temporary),
            "temporary_from": dt.date(2026, 9, 1),
            "temporary_until": dt.date(2026, 10, 31),
        }
    application = submit(east, organisation.rep, amount, **extra)

    assert application.required_role == role
    assert application.state == ApplicationState.SUBMITTED
    assert (
        CreditEvent.objects.filter(
            kind=CreditEventKind.APPLICATION_SUBMITTED, application=application
        ).count()
        == 1
    )


def test_the_application_carries_the_proposal_and_the_rating(organisation, east):
    _year_of_purchases(east)
    standing = make_grade(east, "AA")
    survey = CreditSurveyFactory.create(customer=east)

    application = submit(east, organisation.rep, "300000.00", survey=survey, reason="扩大合作")

    assert application.proposed_amount == Decimal("360000.00")
    assert application.rating == standing.rating
    assert application.survey == survey


def test_a_rep_of_another_team_cannot_apply(organisation, east):
    before = snapshot(east)

    with (
        pytest.raises(PermissionDenied),
        refusals_logged(action="application_submit", actor=organisation.other_rep, customer=east),
    ):
        submit(east, organisation.other_rep, "80000.00")

    assert snapshot(east) == before
    assert refused_events("application_submit") == [
        "you cannot apply for a line of customer E1: it is not yours to see"
    ]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"valid_until": TODAY}, "valid_until"),
        ({"payment_terms_days": 400}, "payment_terms_days"),
        ({"temporary_amount": Decimal("10000")}, "temporary_from"),
        (
            {
                "temporary_amount": Decimal("10000"),
                "temporary_from": dt.date(2026, 9, 1),
                "temporary_until": dt.date(2026, 8, 1),
            },
            "temporary_until",
        ),
        (
            {
                "temporary_amount": Decimal("10000"),
                "temporary_from": dt.date(2026, 9, 1),
                "temporary_until": dt.date(2027, 8, 1),
            },
            "temporary_until",
        ),
    ],
)
def test_bad_terms_are_refused_naming_the_field(organisation, east, extra, field):
    with pytest.raises(ValidationFailed) as refused:
        submit(east, organisation.rep, "80000.00", **extra)

    assert refused.value.detail["field"] == field
    assert CreditLineApplication.objects.count() == 0


def test_a_second_open_application_is_refused(organisation, east):
    first = submit(east, organisation.rep, "80000.00")

    with pytest.raises(Conflict) as refused:
        submit(east, organisation.rep, "90000.00")

    assert refused.value.detail == {"application_id": first.pk}
    assert CreditLineApplication.objects.count() == 1


# --- Decisions ------------------------------------------------------------------------------------


def test_approval_creates_the_line_supersedes_the_old_and_sets_the_limit(organisation, east):
    # Given a line in force and an application for 300,000 at 45 days
    old = CreditLineFactory.create(customer=east, amount=Decimal("50000.00"))
    application = submit(east, organisation.rep, "300000.00", payment_terms_days=45)

    # When the direct-sales manager (authority 500,000) approves it
    approve(application=application, approver=organisation.direct_sales_manager, comment="同意")

    # Then a new line is in force, the old one superseded, the card changed with history
    application.refresh_from_db()
    old.refresh_from_db()
    east.refresh_from_db()
    line = CreditLine.objects.get(state=CreditLineState.ACTIVE, customer=east)
    assert (application.state, application.approved_amount, application.line) == (
        ApplicationState.APPROVED,
        Decimal("300000.00"),
        line,
    )
    assert (line.amount, line.payment_terms_days, line.valid_from, line.valid_until) == (
        Decimal("300000.00"),
        45,
        TODAY,
        dt.date(2027, 6, 30),
    )
    assert line.approved_by == organisation.direct_sales_manager
    assert old.state == CreditLineState.SUPERSEDED
    assert (east.credit_limit, east.payment_terms_days) == (Decimal("300000.00"), 45)
    latest = east.history.first()
    assert latest.history_user == organisation.direct_sales_manager
    assert latest.history_change_reason == f"credit line application #{application.pk} approved"
    kinds = list(
        CreditEvent.objects.filter(application=application)
        .order_by("id")
        .values_list("kind", flat=True)
    )
    assert kinds == ["application_submitted", "line_changed", "application_approved"]


def test_the_valid_from_of_an_approved_line_is_the_decision_day(organisation, east):
    application = submit(east, organisation.rep, "80000.00", today=dt.date(2026, 6, 1))

    approve(application=application, approver=organisation.customer_manager)

    assert CreditLine.objects.get().valid_from == TODAY


def test_the_customer_manager_cannot_approve_300000(organisation, east):
    application = submit(east, organisation.rep, "300000.00")
    before = snapshot(east)

    with (
        pytest.raises(PermissionDenied) as refused,
        refusals_logged(
            action="application_approve",
            actor=organisation.customer_manager,
            application=application,
        ),
        translation.override("en"),
    ):
        approve(application=application, approver=organisation.customer_manager)

    assert refused.value.detail == {
        "authority": "100000.00",
        "amount": "300000.00",
        "required_role": "direct_sales_manager",
    }
    assert snapshot(east) == before
    assert refused_events("application_approve") == [
        "your authority covers up to 100000.00; this application asks 300000.00 and needs "
        "Direct-sales manager"
    ]


def test_a_temporary_increase_counts_towards_the_authority(organisation, east):
    application = submit(
        east,
        organisation.rep,
        "90000.00",
        temporary_amount=Decimal("20000.00"),
        temporary_from=dt.date(2026, 9, 1),
        temporary_until=dt.date(2026, 9, 30),
    )

    with pytest.raises(PermissionDenied):
        approve(application=application, approver=organisation.customer_manager)
    approve(application=application, approver=organisation.regional_manager)

    assert CreditLine.objects.get().amount == Decimal("90000.00")


def test_nobody_approves_their_own_application(organisation, east):
    application = submit(east, organisation.direct_sales_manager, "300000.00")
    before = snapshot(east)

    with (
        pytest.raises(PermissionDenied),
        refusals_logged(
            action="application_approve",
            actor=organisation.direct_sales_manager,
            application=application,
        ),
    ):
        approve(application=application, approver=organisation.direct_sales_manager)

    assert snapshot(east) == before
    assert refused_events("application_approve") == ["you cannot decide on your own application"]


@pytest.mark.parametrize("who", ["other_rep", "rep", "finance", "administrator"])
def test_people_without_authority_or_sight_cannot_decide(organisation, east, who):
    application = submit(east, organisation.customer_manager, "80000.00")
    before = snapshot(east)

    with (
        pytest.raises(PermissionDenied),
        refusals_logged(
            action="application_approve", actor=getattr(organisation, who), application=application
        ),
    ):
        approve(application=application, approver=getattr(organisation, who))

    assert snapshot(east) == before
    assert len(refused_events("application_approve")) == 1


def test_a_higher_role_may_approve_a_smaller_amount(organisation, east):
    application = submit(east, organisation.rep, "80000.00")

    approve(application=application, approver=organisation.top_management)

    assert CreditLine.objects.get().approved_by == organisation.top_management


def test_a_cut_approves_a_lower_line(organisation, east):
    application = submit(east, organisation.rep, "300000.00")

    cut(
        application=application,
        approver=organisation.direct_sales_manager,
        amount=Decimal("200000.00"),
        comment="先给20万",
    )

    application.refresh_from_db()
    east.refresh_from_db()
    assert (application.state, application.approved_amount, application.decision_comment) == (
        ApplicationState.CUT,
        Decimal("200000.00"),
        "先给20万",
    )
    assert CreditLine.objects.get().amount == Decimal("200000.00")
    assert east.credit_limit == Decimal("200000.00")


@pytest.mark.parametrize(
    ("amount", "comment", "field"),
    [("300000.00", "x", "amount"), ("400000.00", "x", "amount"), ("100000.00", "", "comment")],
)
def test_a_cut_must_be_lower_and_explained(organisation, east, amount, comment, field):
    application = submit(east, organisation.rep, "300000.00")
    before = snapshot(east)

    with pytest.raises(ValidationFailed) as refused:
        cut(
            application=application,
            approver=organisation.direct_sales_manager,
            amount=Decimal(amount),
            comment=comment,
        )

    assert refused.value.detail["field"] == field
    assert snapshot(east) == before


def test_a_refusal_keeps_the_old_line(organisation, east):
    old = CreditLineFactory.create(customer=east)
    application = submit(east, organisation.rep, "80000.00")

    credit_line_application_refuse(
        application=application, approver=organisation.customer_manager, comment="逾期太多"
    )

    application.refresh_from_db()
    old.refresh_from_db()
    assert application.state == ApplicationState.REFUSED
    assert old.state == CreditLineState.ACTIVE
    with pytest.raises(Conflict):
        approve(application=application, approver=organisation.top_management)


def test_sent_back_the_applicant_changes_and_resubmits(organisation, east):
    application = submit(east, organisation.rep, "300000.00")
    credit_line_application_return(
        application=application, approver=organisation.direct_sales_manager, comment="金额太高"
    )
    with pytest.raises(PermissionDenied):
        credit_line_application_resubmit(
            application=application, actor=organisation.customer_manager
        )

    credit_line_application_resubmit(
        application=application,
        actor=organisation.rep,
        requested_amount=Decimal("90000.00"),
        reason="降到9万",
        today=TODAY,
    )

    application.refresh_from_db()
    assert (application.state, application.requested_amount, application.required_role) == (
        ApplicationState.SUBMITTED,
        Decimal("90000.00"),
        "customer_manager",
    )
    approve(application=application, approver=organisation.customer_manager)
    assert CreditLine.objects.get().amount == Decimal("90000.00")
    assert list(
        CreditEvent.objects.filter(application=application)
        .order_by("id")
        .values_list("kind", flat=True)
    ) == [
        "application_submitted",
        "application_returned",
        "application_submitted",
        "line_changed",
        "application_approved",
    ]


def test_only_the_applicant_withdraws(organisation, east):
    application = submit(east, organisation.rep, "80000.00")

    with pytest.raises(PermissionDenied):
        credit_line_application_withdraw(
            application=application, actor=organisation.customer_manager
        )
    credit_line_application_withdraw(application=application, actor=organisation.rep)

    application.refresh_from_db()
    assert application.state == ApplicationState.WITHDRAWN
    with pytest.raises(Conflict):
        credit_line_application_withdraw(application=application, actor=organisation.rep)


def test_a_temporary_increase_counts_only_within_its_dates(organisation, east):
    application = submit(
        east,
        organisation.rep,
        "80000.00",
        temporary_amount=Decimal("10000.00"),
        temporary_from=dt.date(2026, 9, 1),
        temporary_until=dt.date(2026, 9, 30),
    )
    approve(application=application, approver=organisation.customer_manager)
    line = CreditLine.objects.get()

    assert line.amount_on(dt.date(2026, 8, 31)) == Decimal("80000.00")
    assert line.amount_on(dt.date(2026, 9, 1)) == Decimal("90000.00")
    assert line.amount_on(dt.date(2026, 9, 30)) == Decimal("90000.00")
    assert line.amount_on(dt.date(2026, 10, 1)) == Decimal("80000.00")
    assert line.amount_on(dt.date(2027, 7, 1)) == Decimal("0.00")


# --- Groups and securities ---------------------------------------------------------------


def test_a_group_shares_one_line(organisation, east):
    sister = CustomerFactory.create(code="E2", owner=organisation.rep)
    group = credit_group_create(code="G1", name="东方集团", actor=organisation.customer_manager)
    credit_group_member_set(customer=east, group=group, actor=organisation.customer_manager)
    credit_group_member_set(customer=sister, group=group, actor=organisation.customer_manager)
    old = CreditLineFactory.create(customer=None, group=group, amount=Decimal("100000.00"))

    application = credit_line_application_submit(
        group=group,
        applied_by=organisation.rep,
        requested_amount=Decimal("400000.00"),
        payment_terms_days=30,
        valid_until=dt.date(2027, 6, 30),
        today=TODAY,
    )
    approve(application=application, approver=organisation.regional_manager)

    old.refresh_from_db()
    east.refresh_from_db()
    line = CreditLine.objects.get(state=CreditLineState.ACTIVE)
    assert (line.group, line.customer, line.amount) == (group, None, Decimal("400000.00"))
    assert old.state == CreditLineState.SUPERSEDED
    assert east.credit_limit == Decimal("50000.00")  # members keep their own limits


def test_a_rep_cannot_change_groups_or_record_securities(organisation, east):
    before = snapshot(east)

    with pytest.raises(PermissionDenied):
        credit_group_create(code="G1", name="x", actor=organisation.rep)
    with (
        pytest.raises(PermissionDenied),
        refusals_logged(action="security_record", actor=organisation.rep, customer=east),
    ):
        credit_security_record(
            customer=east,
            actor=organisation.rep,
            kind="guarantee",
            description="母公司担保",
            amount=Decimal("50000"),
            valid_from=TODAY,
        )

    assert snapshot(east) == before
    assert len(refused_events("security_record")) == 1


def test_a_manager_records_a_guarantee(organisation, east):
    security = credit_security_record(
        customer=east,
        actor=organisation.customer_manager,
        kind="guarantee",
        description="母公司担保",
        amount=Decimal("50000"),
        valid_from=TODAY,
        valid_until=dt.date(2026, 12, 31),
    )

    assert (security.amount, security.recorded_by) == (
        Decimal("50000.00"),
        organisation.customer_manager,
    )
    assert CreditEvent.objects.filter(kind=CreditEventKind.SECURITY_RECORDED).count() == 1


# --- The re-survey scan -----------------------------------------------------------------


def test_the_scan_opens_exactly_the_expected_tasks_once(organisation, east, west):
    # overdue 31 days (beyond 30): a task; overdue exactly 30 days: none
    InvoiceFactory.create(customer=east, due_date=TODAY - dt.timedelta(days=31))
    InvoiceFactory.create(customer=west, due_date=TODAY - dt.timedelta(days=30))
    paid = CustomerFactory.create(owner=organisation.rep)
    InvoiceFactory.create(customer=paid, due_date=TODAY - dt.timedelta(days=90), open_amount=0)
    # a line ending in 30 days: a task; in 31 days: none; a superseded one: none
    CreditLineFactory.create(customer=west, valid_until=TODAY + dt.timedelta(days=30))
    later = CustomerFactory.create(owner=organisation.rep)
    CreditLineFactory.create(customer=later, valid_until=TODAY + dt.timedelta(days=31))
    CreditLineFactory.create(
        customer=paid, valid_until=TODAY + dt.timedelta(days=3), state=CreditLineState.SUPERSEDED
    )

    first = credit_reviews_scan(today=TODAY)
    second = credit_reviews_scan(today=TODAY)

    assert (first.opened_overdue, first.opened_line_expiring, first.already_open) == (1, 1, 0)
    assert (second.opened, second.already_open) == (0, 2)
    tasks = list(
        CreditReviewTask.objects.order_by("customer__code").values_list(
            "customer__code", "owner__username", "reason", "due_on", "state"
        )
    )
    assert tasks == [
        ("E1", "rep", ReviewReason.OVERDUE, dt.date(2026, 7, 14), TaskState.OPEN),
        ("W1", "rep2", ReviewReason.LINE_EXPIRING, dt.date(2026, 7, 14), TaskState.OPEN),
    ]
    assert CreditReviewTask.objects.get(customer=east).detail["days_overdue"] == 31
    assert CreditEvent.objects.filter(kind=CreditEventKind.TASK_OPENED).count() == 2


def test_a_group_line_nearing_expiry_opens_a_task_per_member(organisation, east):
    sister = CustomerFactory.create(code="E2", owner=organisation.customer_manager)
    group = credit_group_create(code="G1", name="东方集团", actor=organisation.customer_manager)
    credit_group_member_set(customer=east, group=group, actor=organisation.customer_manager)
    credit_group_member_set(customer=sister, group=group, actor=organisation.customer_manager)
    CreditLineFactory.create(customer=None, group=group, valid_until=TODAY + dt.timedelta(days=5))

    scan = credit_reviews_scan(today=TODAY)

    assert scan.opened_line_expiring == 2
    assert set(CreditReviewTask.objects.values_list("owner__username", flat=True)) == {"rep", "cm"}


def test_the_scan_follows_the_settings(organisation, east):
    InvoiceFactory.create(customer=east, due_date=TODAY - dt.timedelta(days=20))
    assert credit_reviews_scan(today=TODAY).opened == 0

    credit_settings_update(changes={"review": {"overdue_days": 10}}, actor=organisation.finance)

    assert credit_reviews_scan(today=TODAY).opened_overdue == 1


def test_the_cli_scans_and_reports(organisation, east):
    import json

    import typer
    from typer.testing import CliRunner

    from kehu.cli.credit_lines import register_lines

    credit_app = typer.Typer()
    register_lines(credit_app)
    credit_app.command("noop")(lambda: None)  # a group of two, as the lead wires it
    InvoiceFactory.create(customer=east, due_date=TODAY - dt.timedelta(days=45))

    first = CliRunner().invoke(credit_app, ["reviews-scan", "--today", "2026-06-30", "--json"])
    again = CliRunner().invoke(credit_app, ["reviews-scan", "--today", "2026-06-30", "--json"])
    bad = CliRunner().invoke(credit_app, ["reviews-scan", "--today", "30/06/2026"])

    assert first.exit_code == 0, first.output
    assert json.loads(first.output) == {
        "today": "2026-06-30",
        "opened_overdue": 1,
        "opened_line_expiring": 0,
        "already_open": 0,
    }
    assert json.loads(again.output)["already_open"] == 1
    assert bad.exit_code == 1
