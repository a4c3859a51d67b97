"""Credit lines 授信 (§5.3): the proposal, the credit line application 客户授信申请表 and its
approval by whoever's authority covers the amount, credit groups, collateral and guarantees,
and the scan that opens re-survey tasks.

The proposal (settings "proposal"):
    average monthly purchases over `months` months (orders confirmed, delivered or invoiced,
    less returns) × (payment-term days / 30 + 1) × the grade factor,
    capped at `equity_cap_share` × the equity of the latest survey when known,
    rounded down to `round_to` yuan.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.accounts.models import User
from kehu.core.errors import Conflict, PermissionDenied, ValidationFailed
from kehu.core.money import CENT, ZERO
from kehu.credit.events import credit_event_record
from kehu.credit.models import (
    ApplicationState,
    CreditEventKind,
    CreditGroup,
    CreditLine,
    CreditLineApplication,
    CreditLineState,
    CreditSecurity,
    CreditSurvey,
    CustomerCredit,
    ReviewReason,
    SecurityKind,
)
from kehu.credit.selectors.lines import (
    approval_authorities,
    authority_of,
    group_member_ids,
    group_visible_to,
    required_role_for,
    role_label,
)
from kehu.credit.selectors.settings import credit_settings_current
from kehu.credit.services.reviews import credit_review_task_open
from kehu.customers.models import Customer
from kehu.customers.selectors import customers_visible_to
from kehu.customers.services import customer_update
from kehu.receivables.models import Invoice
from kehu.sales.models import PURCHASE_STATES, Order, Return

MAX_TERMS_DAYS = 365
MAX_MONEY = Decimal("9999999999999999.99")
MAX_VALIDITY_MONTHS = 120
COMMENT_REQUIRED = frozenset({"cut", "refuse", "return"})


# --- The proposal ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LineProposal:
    """Every term of the proposal, so that a page can show how the figure came about."""

    as_of: dt.date
    months: int
    period_from: dt.date  # first day counted
    purchases: Decimal  # orders less returns in the period
    average_monthly_purchases: Decimal
    payment_terms_days: int
    terms_multiplier: Decimal  # days / 30 + 1
    grade: str  # "" when not rated
    grade_factor: Decimal | None
    before_cap: Decimal
    equity: Decimal | None
    equity_cap_share: Decimal | None  # None: no cap
    equity_cap: Decimal | None
    survey_id: int | None
    round_to: Decimal
    amount: Decimal
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_capped(self) -> bool:
        return self.equity_cap is not None and self.equity_cap < self.before_cap


def _round_down(value: Decimal, step: Decimal) -> Decimal:
    if value <= 0:
        return ZERO
    return ((value / step).to_integral_value(rounding=ROUND_FLOOR) * step).quantize(CENT)


def _purchases(customer_ids: list[int], since: dt.date, as_of: dt.date) -> Decimal:
    orders = Order.objects.filter(
        customer_id__in=customer_ids,
        state__in=PURCHASE_STATES,
        order_date__gte=since,
        order_date__lte=as_of,
    ).aggregate(total=Sum("total_amount"))["total"]
    returns = Return.objects.filter(
        customer_id__in=customer_ids, returned_on__gte=since, returned_on__lte=as_of
    ).aggregate(total=Sum("amount"))["total"]
    return (orders or ZERO) - (returns or ZERO)


def credit_line_propose(
    *, customer: Customer, as_of: dt.date, payment_terms_days: int | None = None
) -> LineProposal:
    """The proposed line of a customer on a date (no access check: the caller has checked)."""
    settings = credit_settings_current()["proposal"]
    months = int(settings["months"])
    period_from = as_of - relativedelta(months=months) + dt.timedelta(days=1)
    purchases = _purchases([customer.pk], period_from, as_of)
    average = (purchases / months).quantize(CENT)
    terms = customer.payment_terms_days if payment_terms_days is None else payment_terms_days
    multiplier = Decimal(terms) / Decimal(30) + 1
    standing = CustomerCredit.objects.filter(customer=customer).first()
    grade = standing.grade if standing is not None else ""
    notes: list[str] = []
    factor: Decimal | None = None
    if grade:
        grade_factor = Decimal(str(settings["grade_factors"][grade]))
        factor = grade_factor
        before_cap = max(average * multiplier * grade_factor, ZERO).quantize(CENT)
    else:
        before_cap = ZERO
        notes.append("not rated yet: rate the customer before proposing a line")
    survey = (
        CreditSurvey.objects.filter(customer=customer, surveyed_on__lte=as_of, equity__isnull=False)
        .order_by("-surveyed_on", "-id")
        .first()
    )
    share_setting = settings["equity_cap_share"]
    share = Decimal(str(share_setting)) if share_setting != "" else None
    equity = survey.equity if survey is not None else None
    cap = None
    if share is not None and equity is not None:
        cap = (max(equity, ZERO) * share).quantize(CENT)
    elif share is not None:
        notes.append("equity unknown: no survey with the equity, so no cap")
    round_to = Decimal(str(settings["round_to"]))
    amount = _round_down(min(before_cap, cap) if cap is not None else before_cap, round_to)
    return LineProposal(
        as_of=as_of,
        months=months,
        period_from=period_from,
        purchases=purchases,
        average_monthly_purchases=average,
        payment_terms_days=terms,
        terms_multiplier=multiplier.quantize(Decimal("0.0001")),
        grade=grade,
        grade_factor=factor,
        before_cap=before_cap,
        equity=equity,
        equity_cap_share=share,
        equity_cap=cap,
        survey_id=survey.pk if survey is not None else None,
        round_to=round_to,
        amount=amount,
        notes=tuple(notes),
    )


def credit_group_line_propose(
    *, group: CreditGroup, as_of: dt.date, payment_terms_days: int | None = None
) -> Decimal:
    """A group's proposed line: the sum of its members' proposals."""
    members = Customer.objects.filter(pk__in=group_member_ids(group))
    return sum(
        (
            credit_line_propose(
                customer=member, as_of=as_of, payment_terms_days=payment_terms_days
            ).amount
            for member in members
        ),
        ZERO,
    )


# --- Checks ---------------------------------------------------------------------------------


def _sees_subject(user: User, customer: Customer | None, group: CreditGroup | None) -> bool:
    if customer is not None:
        return customers_visible_to(user).filter(pk=customer.pk).exists()
    assert group is not None
    return group_visible_to(user, group)


def _subject_name(customer: Customer | None, group: CreditGroup | None) -> str:
    if customer is not None:
        return _("customer %(code)s") % {"code": customer.code}
    assert group is not None
    return _("group %(code)s") % {"code": group.code}


FIELD_LABELS = {
    "requested_amount": gettext_lazy("Requested line"),
    "payment_terms_days": gettext_lazy("Payment terms (days)"),
    "valid_until": gettext_lazy("Valid until"),
    "temporary_amount": gettext_lazy("Temporary increase"),
    "temporary_from": gettext_lazy("Temporary increase from"),
    "temporary_until": gettext_lazy("Temporary increase until"),
    "survey": gettext_lazy("Credit survey"),
    "amount": gettext_lazy("Amount"),
    "comment": gettext_lazy("Comment"),
    "action": gettext_lazy("Decision"),
    "code": gettext_lazy("Code"),
    "name": gettext_lazy("Name"),
    "kind": gettext_lazy("Kind"),
    "description": gettext_lazy("Description"),
    "customer": gettext_lazy("Customer"),
    "group": gettext_lazy("Credit group"),
}


def _refusal(field: str, message: str, **detail: object) -> ValidationFailed:
    """A refusal naming the field: its label for people, its name in the detail."""
    label = FIELD_LABELS.get(field, field)
    return ValidationFailed(f"{label}: {message}", detail={"field": field, **detail})


def _money(value: object, field_name: str, *, positive: bool = False) -> Decimal:
    try:
        amount = Decimal(str(value))
    except Exception as error:  # any junk is a refusal
        raise _refusal(field_name, _("%(value)r is not an amount") % {"value": value}) from error
    if not amount.is_finite() or abs(amount) > MAX_MONEY or amount != amount.quantize(CENT):
        raise _refusal(
            field_name,
            _("%(value)r is not an amount with at most two decimals") % {"value": value},
        )
    if amount < 0 or (positive and amount == 0):
        raise _refusal(
            field_name,
            _("the amount must be above zero") if positive else _("the amount cannot be negative"),
        )
    return amount.quantize(CENT)


@dataclass
class _Terms:
    requested_amount: Decimal
    payment_terms_days: int
    valid_until: dt.date
    temporary_amount: Decimal | None
    temporary_from: dt.date | None
    temporary_until: dt.date | None

    @property
    def total(self) -> Decimal:
        return self.requested_amount + (self.temporary_amount or ZERO)


def _terms_clean(
    *,
    today: dt.date,
    requested_amount: object,
    payment_terms_days: int,
    valid_until: dt.date | None,
    temporary_amount: object | None,
    temporary_from: dt.date | None,
    temporary_until: dt.date | None,
) -> _Terms:
    amount = _money(requested_amount, "requested_amount")
    if isinstance(payment_terms_days, bool) or not 0 <= int(payment_terms_days) <= MAX_TERMS_DAYS:
        raise _refusal(
            "payment_terms_days",
            _("%(days)s is not 0–%(most)s days")
            % {"days": payment_terms_days, "most": MAX_TERMS_DAYS},
        )
    if valid_until is None:
        months = int(credit_settings_current()["line_validity_months"])
        valid_until = today + relativedelta(months=months) - dt.timedelta(days=1)
    if valid_until <= today:
        raise _refusal("valid_until", _("the line must run beyond today"))
    if valid_until > today + relativedelta(months=MAX_VALIDITY_MONTHS):
        raise _refusal(
            "valid_until",
            _("a line runs at most %(months)s months") % {"months": MAX_VALIDITY_MONTHS},
        )
    temporary = None
    if temporary_amount not in (None, "") or temporary_from or temporary_until:
        temporary = _money(temporary_amount, "temporary_amount", positive=True)
        if temporary_from is None or temporary_until is None:
            raise _refusal(
                "temporary_from" if temporary_from is None else "temporary_until",
                _("a temporary increase needs its start and end dates"),
            )
        if temporary_until < temporary_from:
            raise _refusal("temporary_until", _("the temporary increase ends before it starts"))
        if temporary_until > valid_until:
            raise _refusal("temporary_until", _("the temporary increase ends after the line"))
    return _Terms(
        requested_amount=amount,
        payment_terms_days=int(payment_terms_days),
        valid_until=valid_until,
        temporary_amount=temporary,
        temporary_from=temporary_from if temporary is not None else None,
        temporary_until=temporary_until if temporary is not None else None,
    )


def _required_role(total: Decimal) -> str:
    role = required_role_for(total, approval_authorities())
    if role is None:
        raise _refusal(
            "requested_amount",
            _("nobody's approval authority covers %(amount)s") % {"amount": total},
        )
    return role


def _application_snapshot(application: CreditLineApplication) -> dict[str, object]:
    return {
        "state": application.state,
        "requested_amount": str(application.requested_amount),
        "payment_terms_days": application.payment_terms_days,
        "valid_until": application.valid_until.isoformat(),
        "temporary_amount": str(application.temporary_amount)
        if application.temporary_amount is not None
        else None,
        "temporary_from": application.temporary_from.isoformat()
        if application.temporary_from
        else None,
        "temporary_until": application.temporary_until.isoformat()
        if application.temporary_until
        else None,
        "proposed_amount": str(application.proposed_amount),
        "required_role": application.required_role,
    }


def _proposed(
    customer: Customer | None, group: CreditGroup | None, today: dt.date, terms_days: int
) -> Decimal:
    if customer is not None:
        return credit_line_propose(
            customer=customer, as_of=today, payment_terms_days=terms_days
        ).amount
    assert group is not None
    return credit_group_line_propose(group=group, as_of=today, payment_terms_days=terms_days)


# --- Applications ---------------------------------------------------------------------------


@transaction.atomic
def credit_line_application_submit(
    *,
    applied_by: User,
    requested_amount: object,
    payment_terms_days: int,
    customer: Customer | None = None,
    group: CreditGroup | None = None,
    valid_until: dt.date | None = None,
    temporary_amount: object | None = None,
    temporary_from: dt.date | None = None,
    temporary_until: dt.date | None = None,
    reason: str = "",
    survey: CreditSurvey | None = None,
    bank_opinion: str = "",
    today: dt.date | None = None,
) -> CreditLineApplication:
    """Apply for a line (or a change of it) for a customer or a group the applicant sees; it
    goes to the lowest role whose authority covers the amount plus any temporary increase."""
    today = today or timezone.localdate()
    if (customer is None) == (group is None):
        raise ValidationFailed(
            _("apply for one customer or for one credit group"), detail={"field": "customer"}
        )
    if not _sees_subject(applied_by, customer, group):
        raise PermissionDenied(
            _("you cannot apply for a line of %(subject)s: it is not yours to see")
            % {"subject": _subject_name(customer, group)}
        )
    # One open application per customer or group: lock its row so that two submissions
    # at the same moment are taken one after the other.
    if customer is not None:
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
    else:
        assert group is not None
        CreditGroup.objects.select_for_update().filter(pk=group.pk).first()
    if group is not None and not group_member_ids(group):
        raise _refusal("group", _("group %(code)s has no members") % {"code": group.code})
    terms = _terms_clean(
        today=today,
        requested_amount=requested_amount,
        payment_terms_days=payment_terms_days,
        valid_until=valid_until,
        temporary_amount=temporary_amount,
        temporary_from=temporary_from,
        temporary_until=temporary_until,
    )
    if survey is not None:
        allowed = [customer.pk] if customer is not None else group_member_ids(group)  # type: ignore[arg-type]
        if survey.customer_id not in allowed:
            raise _refusal("survey", _("the survey is of another customer"))
    open_ones = CreditLineApplication.objects.filter(
        state__in=(ApplicationState.SUBMITTED, ApplicationState.RETURNED)
    )
    open_ones = (
        open_ones.filter(customer=customer)
        if customer is not None
        else open_ones.filter(group=group)
    )
    existing = open_ones.first()
    if existing is not None:
        raise Conflict(
            _("application #%(number)s for %(subject)s is still open: resubmit or withdraw it")
            % {"number": existing.pk, "subject": _subject_name(customer, group)},
            detail={"application_id": existing.pk},
        )
    rating = None
    if customer is not None:
        standing = CustomerCredit.objects.filter(customer=customer).first()
        rating = standing.rating if standing is not None else None
    application = CreditLineApplication.objects.create(
        customer=customer,
        group=group,
        applied_by=applied_by,
        applied_on=today,
        survey=survey,
        rating=rating,
        proposed_amount=_proposed(customer, group, today, terms.payment_terms_days),
        requested_amount=terms.requested_amount,
        payment_terms_days=terms.payment_terms_days,
        valid_until=terms.valid_until,
        temporary_amount=terms.temporary_amount,
        temporary_from=terms.temporary_from,
        temporary_until=terms.temporary_until,
        reason=reason.strip(),
        bank_opinion=bank_opinion.strip(),
        state=ApplicationState.SUBMITTED,
        required_role=_required_role(terms.total),
    )
    credit_event_record(
        kind=CreditEventKind.APPLICATION_SUBMITTED,
        actor=applied_by,
        customer=customer,
        group=group,
        application=application,
        after=_application_snapshot(application),
        reason={"reason": application.reason},
    )
    return application


def _locked(application: CreditLineApplication) -> CreditLineApplication:
    return (
        CreditLineApplication.objects.select_for_update(of=("self",))
        .select_related("customer", "group")
        .get(pk=application.pk)
    )


def _check_may_decide(application: CreditLineApplication, approver: User) -> None:
    if application.state != ApplicationState.SUBMITTED:
        raise Conflict(
            _("application #%(number)s is %(state)s, not waiting for a decision")
            % {"number": application.pk, "state": application.get_state_display()},
            detail={"state": application.state},
        )
    if not _sees_subject(approver, application.customer, application.group):
        raise PermissionDenied(
            _("you cannot decide on %(subject)s: it is not yours to see")
            % {"subject": _subject_name(application.customer, application.group)}
        )
    if approver.pk == application.applied_by_id:
        raise PermissionDenied(_("you cannot decide on your own application"))
    total = application.requested_amount + (application.temporary_amount or ZERO)
    has_authority, limit = authority_of(approver)
    if not has_authority:
        raise PermissionDenied(
            _("your role has no authority to approve credit lines"),
            detail={"required_role": application.required_role},
        )
    if limit is not None and total > limit:
        raise PermissionDenied(
            _(
                "your authority covers up to %(limit)s; this application asks %(amount)s and "
                "needs %(role)s"
            )
            % {"limit": limit, "amount": total, "role": role_label(application.required_role)},
            detail={
                "authority": str(limit),
                "amount": str(total),
                "required_role": application.required_role,
            },
        )


def _comment(action: str, comment: str) -> str:
    comment = comment.strip()
    if action in COMMENT_REQUIRED and not comment:
        raise _refusal("comment", _("say why: a cut, a refusal or a sending back needs a comment"))
    return comment


def _line_create(
    application: CreditLineApplication, approver: User, amount: Decimal, today: dt.date
) -> CreditLine:
    if application.valid_until <= today:
        raise Conflict(
            _("the application's validity date has passed: send it back for a new date"),
            detail={"field": "valid_until"},
        )
    temporary_from = application.temporary_from
    if temporary_from is not None:
        temporary_from = max(temporary_from, today)
        if application.temporary_until is not None and application.temporary_until < temporary_from:
            raise Conflict(
                _("the temporary increase has already ended: send the application back"),
                detail={"field": "temporary_until"},
            )
    current = CreditLine.objects.select_for_update().filter(state=CreditLineState.ACTIVE)
    current = (
        current.filter(customer=application.customer)
        if application.customer is not None
        else current.filter(group=application.group)
    )
    old = current.first()
    if old is not None:
        old.state = CreditLineState.SUPERSEDED
        old.save(update_fields=["state", "updated_at"])
    line = CreditLine.objects.create(
        customer=application.customer,
        group=application.group,
        amount=amount,
        payment_terms_days=application.payment_terms_days,
        valid_from=today,
        valid_until=application.valid_until,
        temporary_amount=application.temporary_amount,
        temporary_from=temporary_from,
        temporary_until=application.temporary_until,
        state=CreditLineState.ACTIVE,
        application=application,
        approved_by=approver,
        approved_at=timezone.now(),
    )
    credit_event_record(
        kind=CreditEventKind.LINE_CHANGED,
        actor=approver,
        customer=application.customer,
        group=application.group,
        application=application,
        before={
            "line": old.pk,
            "amount": str(old.amount),
            "valid_until": old.valid_until.isoformat(),
        }
        if old is not None
        else {},
        after={
            "line": line.pk,
            "amount": str(line.amount),
            "payment_terms_days": line.payment_terms_days,
            "valid_from": line.valid_from.isoformat(),
            "valid_until": line.valid_until.isoformat(),
            "temporary_amount": str(line.temporary_amount) if line.temporary_amount else None,
        },
    )
    if application.customer is not None:
        customer_update(
            customer=application.customer,
            actor=approver,
            reason=f"credit line application #{application.pk} approved",
            credit_limit=amount,
            payment_terms_days=application.payment_terms_days,
        )
    return line


def _decide(
    *,
    application: CreditLineApplication,
    approver: User,
    action: str,
    comment: str,
    amount: object | None = None,
    today: dt.date | None = None,
) -> CreditLineApplication:
    today = today or timezone.localdate()
    application = _locked(application)
    _check_may_decide(application, approver)
    comment = _comment(action, comment)
    before = _application_snapshot(application)
    line = None
    if action != "cut" and amount is not None and amount != application.requested_amount:
        raise _refusal(
            "amount", _("only a cut takes an amount; approve grants the amount asked for")
        )
    if action == "approve":
        approved: Decimal | None = application.requested_amount
        state, kind = ApplicationState.APPROVED, CreditEventKind.APPLICATION_APPROVED
    elif action == "cut":
        approved = _money(amount, "amount", positive=True)
        if approved >= application.requested_amount:
            raise _refusal(
                "amount",
                _("a cut must be below the %(amount)s asked for")
                % {"amount": application.requested_amount},
            )
        state, kind = ApplicationState.CUT, CreditEventKind.APPLICATION_CUT
    elif action == "refuse":
        approved = None
        state, kind = ApplicationState.REFUSED, CreditEventKind.APPLICATION_REFUSED
    elif action == "return":
        approved = None
        state, kind = ApplicationState.RETURNED, CreditEventKind.APPLICATION_RETURNED
    else:
        raise _refusal(
            "action", _("%(action)r is not approve, cut, refuse or return") % {"action": action}
        )
    if approved is not None:
        line = _line_create(application, approver, approved, today)
    application.state = state
    application.decided_by = approver
    application.decided_at = timezone.now()
    application.approved_amount = approved
    application.decision_comment = comment
    application.line = line
    application.save(
        update_fields=[
            "state",
            "decided_by",
            "decided_at",
            "approved_amount",
            "decision_comment",
            "line",
            "updated_at",
        ]
    )
    credit_event_record(
        kind=kind,
        actor=approver,
        customer=application.customer,
        group=application.group,
        application=application,
        before=before,
        after={
            "state": state,
            "approved_amount": str(approved) if approved is not None else None,
            "line": line.pk if line is not None else None,
        },
        reason={"comment": comment},
    )
    return application


@transaction.atomic
def credit_line_application_approve(
    *,
    application: CreditLineApplication,
    approver: User,
    comment: str = "",
    today: dt.date | None = None,
) -> CreditLineApplication:
    """Approve the line asked for: a new line in force, the old one superseded, the
    customer's credit limit and payment terms changed with history."""
    return _decide(
        application=application, approver=approver, action="approve", comment=comment, today=today
    )


@transaction.atomic
def credit_line_application_cut(
    *,
    application: CreditLineApplication,
    approver: User,
    amount: object,
    comment: str,
    today: dt.date | None = None,
) -> CreditLineApplication:
    """Approve a lower line than asked for."""
    return _decide(
        application=application,
        approver=approver,
        action="cut",
        amount=amount,
        comment=comment,
        today=today,
    )


@transaction.atomic
def credit_line_application_refuse(
    *, application: CreditLineApplication, approver: User, comment: str
) -> CreditLineApplication:
    return _decide(application=application, approver=approver, action="refuse", comment=comment)


@transaction.atomic
def credit_line_application_return(
    *, application: CreditLineApplication, approver: User, comment: str
) -> CreditLineApplication:
    """Send back to the applicant, who may change and resubmit it."""
    return _decide(application=application, approver=approver, action="return", comment=comment)


@transaction.atomic
def credit_line_application_decide(
    *,
    application: CreditLineApplication,
    approver: User,
    action: str,
    comment: str = "",
    amount: object | None = None,
    today: dt.date | None = None,
) -> CreditLineApplication:
    """One entry for the pages and the API: approve, cut, refuse or return."""
    return _decide(
        application=application,
        approver=approver,
        action=action,
        comment=comment,
        amount=amount,
        today=today,
    )


_UNSET = object()


@transaction.atomic
def credit_line_application_resubmit(
    *,
    application: CreditLineApplication,
    actor: User,
    requested_amount: object = _UNSET,
    payment_terms_days: object = _UNSET,
    valid_until: object = _UNSET,
    temporary_amount: object = _UNSET,
    temporary_from: object = _UNSET,
    temporary_until: object = _UNSET,
    reason: object = _UNSET,
    bank_opinion: object = _UNSET,
    survey: object = _UNSET,
    today: dt.date | None = None,
) -> CreditLineApplication:
    """The applicant sends a returned application again, changed where they say."""
    today = today or timezone.localdate()
    application = _locked(application)
    if actor.pk != application.applied_by_id:
        raise PermissionDenied(_("only the applicant may resubmit an application"))
    if application.state != ApplicationState.RETURNED:
        raise Conflict(
            _("application #%(number)s is %(state)s; only a sent back application is resubmitted")
            % {"number": application.pk, "state": application.get_state_display()},
            detail={"state": application.state},
        )
    if not _sees_subject(actor, application.customer, application.group):
        raise PermissionDenied(_("you no longer see this customer"))

    def pick(value: object, current: object) -> object:
        return current if value is _UNSET else value

    terms = _terms_clean(
        today=today,
        requested_amount=pick(requested_amount, application.requested_amount),
        payment_terms_days=pick(payment_terms_days, application.payment_terms_days),  # type: ignore[arg-type]
        valid_until=pick(valid_until, application.valid_until),  # type: ignore[arg-type]
        temporary_amount=pick(temporary_amount, application.temporary_amount),
        temporary_from=pick(temporary_from, application.temporary_from),  # type: ignore[arg-type]
        temporary_until=pick(temporary_until, application.temporary_until),  # type: ignore[arg-type]
    )
    new_survey = pick(survey, application.survey)
    if isinstance(new_survey, CreditSurvey):
        allowed = (
            [application.customer_id]
            if application.customer_id is not None
            else group_member_ids(application.group)  # type: ignore[arg-type]
        )
        if new_survey.customer_id not in allowed:
            raise _refusal("survey", _("the survey is of another customer"))
    before = _application_snapshot(application)
    application.requested_amount = terms.requested_amount
    application.payment_terms_days = terms.payment_terms_days
    application.valid_until = terms.valid_until
    application.temporary_amount = terms.temporary_amount
    application.temporary_from = terms.temporary_from
    application.temporary_until = terms.temporary_until
    application.reason = str(pick(reason, application.reason)).strip()
    application.bank_opinion = str(pick(bank_opinion, application.bank_opinion)).strip()
    application.survey = new_survey  # type: ignore[assignment]
    application.proposed_amount = _proposed(
        application.customer, application.group, today, terms.payment_terms_days
    )
    application.required_role = _required_role(terms.total)
    application.state = ApplicationState.SUBMITTED
    application.decided_by = None
    application.decided_at = None
    application.decision_comment = ""
    application.save()
    credit_event_record(
        kind=CreditEventKind.APPLICATION_SUBMITTED,
        actor=actor,
        customer=application.customer,
        group=application.group,
        application=application,
        before=before,
        after=_application_snapshot(application),
        reason={"reason": application.reason, "resubmitted": True},
    )
    return application


@transaction.atomic
def credit_line_application_withdraw(
    *, application: CreditLineApplication, actor: User, comment: str = ""
) -> CreditLineApplication:
    """The applicant takes back an application still waiting or sent back."""
    application = _locked(application)
    if actor.pk != application.applied_by_id:
        raise PermissionDenied(_("only the applicant may withdraw an application"))
    if application.state not in (ApplicationState.SUBMITTED, ApplicationState.RETURNED):
        raise Conflict(
            _("application #%(number)s is %(state)s and cannot be withdrawn")
            % {"number": application.pk, "state": application.get_state_display()},
            detail={"state": application.state},
        )
    before = application.state
    application.state = ApplicationState.WITHDRAWN
    application.save(update_fields=["state", "updated_at"])
    credit_event_record(
        kind=CreditEventKind.APPLICATION_WITHDRAWN,
        actor=actor,
        customer=application.customer,
        group=application.group,
        application=application,
        before={"state": before},
        after={"state": ApplicationState.WITHDRAWN},
        reason={"comment": comment.strip()},
    )
    return application


# --- Groups -------------------------------------------------------------------------------------


def _check_manages_credit(actor: User, what: str) -> None:
    if not (actor.sees_all or actor.is_manager):
        raise PermissionDenied(
            _("only a manager, finance or top management may %(what)s") % {"what": what}
        )


@transaction.atomic
def credit_group_create(*, code: str, name: str, actor: User, notes: str = "") -> CreditGroup:
    _check_manages_credit(actor, _("create a credit group"))
    code, name = code.strip(), name.strip()
    if not code:
        raise _refusal("code", _("a group needs a code"))
    if not name:
        raise _refusal("name", _("a group needs a name"))
    if CreditGroup.objects.filter(code=code).exists():
        raise Conflict(
            _("group %(code)s already exists") % {"code": code}, detail={"field": "code"}
        )
    group = CreditGroup.objects.create(code=code, name=name, notes=notes.strip())
    credit_event_record(
        kind=CreditEventKind.GROUP_CHANGED,
        actor=actor,
        group=group,
        after={"created": group.code, "name": group.name},
    )
    return group


@transaction.atomic
def credit_group_member_set(
    *, customer: Customer, group: CreditGroup | None, actor: User
) -> CustomerCredit:
    """Put a customer into a credit group, or take it out (group None)."""
    _check_manages_credit(actor, _("change a credit group"))
    if not customers_visible_to(actor).filter(pk=customer.pk).exists():
        raise PermissionDenied(_("you cannot see customer %(code)s") % {"code": customer.code})
    standing, _created = CustomerCredit.objects.select_for_update().get_or_create(customer=customer)
    old_group = standing.group
    if old_group == group:
        return standing
    standing.group = group
    standing.save(update_fields=["group", "updated_at"])
    credit_event_record(
        kind=CreditEventKind.GROUP_CHANGED,
        actor=actor,
        customer=customer,
        group=group or old_group,
        before={"group": old_group.code if old_group is not None else None},
        after={"group": group.code if group is not None else None},
    )
    return standing


# --- Collateral and guarantees --------------------------------------------------------------------


@transaction.atomic
def credit_security_record(
    *,
    customer: Customer,
    actor: User,
    kind: str,
    description: str,
    amount: object,
    valid_from: dt.date,
    valid_until: dt.date | None = None,
) -> CreditSecurity:
    """Record collateral 抵押 or a guarantee 担保 securing trade beyond the line. Managers,
    finance and top management record them; a rep asks one of them."""
    _check_manages_credit(actor, _("record collateral or a guarantee"))
    if not customers_visible_to(actor).filter(pk=customer.pk).exists():
        raise PermissionDenied(_("you cannot see customer %(code)s") % {"code": customer.code})
    if kind not in SecurityKind.values:
        raise _refusal(
            "kind",
            _("%(kind)r is not one of %(kinds)s")
            % {"kind": kind, "kinds": ", ".join(SecurityKind.values)},
        )
    description = description.strip()
    if not description:
        raise _refusal("description", _("say what secures the trade"))
    secured = _money(amount, "amount", positive=True)
    if valid_until is not None and valid_until < valid_from:
        raise _refusal("valid_until", _("the security ends before it starts"))
    security = CreditSecurity.objects.create(
        customer=customer,
        kind=kind,
        description=description[:255],
        amount=secured,
        valid_from=valid_from,
        valid_until=valid_until,
        recorded_by=actor,
    )
    credit_event_record(
        kind=CreditEventKind.SECURITY_RECORDED,
        actor=actor,
        customer=customer,
        after={
            "security": security.pk,
            "kind": kind,
            "amount": str(secured),
            "valid_from": valid_from.isoformat(),
            "valid_until": valid_until.isoformat() if valid_until else None,
        },
    )
    return security


# --- Re-survey triggers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewScan:
    opened_overdue: int
    opened_line_expiring: int
    already_open: int

    @property
    def opened(self) -> int:
        return self.opened_overdue + self.opened_line_expiring


def credit_reviews_scan(*, today: dt.date, actor: User | None = None) -> ReviewScan:
    """Open re-survey tasks for customers with an item overdue beyond `review.overdue_days`
    and for lines within `review.line_expiry_days` of their end (a group line: each member).
    Idempotent: a customer keeps one open task per reason."""
    review = credit_settings_current()["review"]
    overdue_before = today - dt.timedelta(days=int(review["overdue_days"]))
    oldest: dict[int, tuple[dt.date, str, Decimal]] = {}
    for customer_id, due_date, number, open_amount in (
        Invoice.objects.filter(is_cancelled=False, open_amount__gt=0, due_date__lt=overdue_before)
        .order_by("customer_id", "due_date", "id")
        .values_list("customer_id", "due_date", "number", "open_amount")
    ):
        oldest.setdefault(customer_id, (due_date, number, open_amount))
    expiry_by = today + dt.timedelta(days=int(review["line_expiry_days"]))
    expiring: dict[int, CreditLine] = {}
    for line in CreditLine.objects.filter(
        state=CreditLineState.ACTIVE, valid_until__gte=today, valid_until__lte=expiry_by
    ).order_by("valid_until", "id"):
        if line.customer_id is not None:
            expiring.setdefault(line.customer_id, line)
        else:
            assert line.group is not None
            for member_id in group_member_ids(line.group):
                expiring.setdefault(member_id, line)
    customers = Customer.objects.in_bulk([*oldest, *expiring])
    opened_overdue = opened_expiring = already = 0
    for customer_id, (due_date, number, open_amount) in sorted(oldest.items()):
        _task, created = credit_review_task_open(
            customer=customers[customer_id],
            reason=ReviewReason.OVERDUE,
            today=today,
            actor=actor,
            detail={
                "invoice": number,
                "due_date": due_date.isoformat(),
                "days_overdue": (today - due_date).days,
                "open_amount": str(open_amount),
            },
        )
        opened_overdue += created
        already += not created
    for customer_id, line in sorted(expiring.items()):
        _task, created = credit_review_task_open(
            customer=customers[customer_id],
            reason=ReviewReason.LINE_EXPIRING,
            today=today,
            actor=actor,
            detail={
                "line": line.pk,
                "valid_until": line.valid_until.isoformat(),
                "group": line.group.code if line.group is not None else None,
            },
        )
        opened_expiring += created
        already += not created
    return ReviewScan(
        opened_overdue=opened_overdue, opened_line_expiring=opened_expiring, already_open=already
    )
