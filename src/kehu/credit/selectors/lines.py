"""Reads of credit lines (§5.3): who may approve how much, the applications a user sees and
those waiting for them, the lines of a customer, and a user's re-survey tasks."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import DecimalField, Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from kehu.accounts.models import ApprovalAuthority, Role, User
from kehu.accounts.services import DEFAULT_AUTHORITY
from kehu.core.errors import NotFound
from kehu.core.money import CENT
from kehu.credit.models import (
    ApplicationState,
    CreditEvent,
    CreditGroup,
    CreditLine,
    CreditLineApplication,
    CreditReviewTask,
    CustomerCredit,
    TaskState,
)
from kehu.customers.models import Customer
from kehu.customers.selectors import customers_visible_to

MONEY = DecimalField(max_digits=18, decimal_places=2)


# --- Approval authority ----------------------------------------------------------------------


def approval_authorities() -> dict[str, Decimal | None]:
    """Role → the most it may approve (None: no bound). The accounts app's rows; its defaults
    when none are stored yet (customer manager 10万, direct-sales manager 50万, regional
    manager 200万, top management above)."""
    rows = {row.role: row.max_amount for row in ApprovalAuthority.objects.all()}
    if not rows:
        rows = {str(role): amount for role, amount in DEFAULT_AUTHORITY.items()}
    return {
        role: amount.quantize(CENT) if amount is not None else None for role, amount in rows.items()
    }


def _covers(limit: Decimal | None, amount: Decimal) -> bool:
    return limit is None or amount <= limit


def required_role_for(amount: Decimal, authorities: dict[str, Decimal | None]) -> str | None:
    """The lowest role whose authority covers the amount; None when nobody's does."""
    ranked = sorted(authorities.items(), key=lambda item: (item[1] is None, item[1] or Decimal(0)))
    for role, limit in ranked:
        if _covers(limit, amount):
            return role
    return None


def authority_of(
    user: User, authorities: dict[str, Decimal | None] | None = None
) -> tuple[bool, Decimal | None]:
    """(has authority, the most the user may approve or None for no bound)."""
    authorities = approval_authorities() if authorities is None else authorities
    if not user.is_authenticated or not user.is_active or user.role not in authorities:
        return False, Decimal(0)
    return True, authorities[user.role]


def user_may_approve(user: User, amount: Decimal) -> bool:
    has_authority, limit = authority_of(user)
    return has_authority and _covers(limit, amount)


def role_label(role: str) -> str:
    return str(Role(role).label) if role in Role.values else role


# --- Groups and standing ------------------------------------------------------------------------


def group_member_ids(group: CreditGroup) -> list[int]:
    return list(
        CustomerCredit.objects.filter(group=group)
        .order_by("customer_id")
        .values_list("customer_id", flat=True)
    )


def group_visible_to(user: User, group: CreditGroup) -> bool:
    """A group is visible to a user who sees every one of its members (and it has some)."""
    ids = group_member_ids(group)
    return bool(ids) and customers_visible_to(user).filter(pk__in=ids).count() == len(ids)


def groups_visible_to(user: User) -> QuerySet[CreditGroup]:
    if user.sees_all:
        return CreditGroup.objects.all()
    hidden_member = CustomerCredit.objects.filter(group=OuterRef("pk")).exclude(
        customer__in=customers_visible_to(user)
    )
    any_member = CustomerCredit.objects.filter(group=OuterRef("pk"))
    return CreditGroup.objects.filter(Exists(any_member)).exclude(Exists(hidden_member))


def grade_of(customer: Customer) -> str:
    standing = CustomerCredit.objects.filter(customer=customer).only("grade").first()
    return standing.grade if standing is not None else ""


# --- Applications ---------------------------------------------------------------------------------


def applications_visible_to(user: User) -> QuerySet[CreditLineApplication]:
    """Applications for customers the user sees, or for groups whose members they all see."""
    queryset = CreditLineApplication.objects.annotate(
        total_requested=F("requested_amount")
        + Coalesce(F("temporary_amount"), Value(Decimal(0)), output_field=MONEY)
    ).select_related("customer", "group", "applied_by", "decided_by", "rating", "survey")
    if user.sees_all:
        return queryset
    return queryset.filter(
        Q(customer__in=customers_visible_to(user)) | Q(group__in=groups_visible_to(user))
    )


def applications_waiting_for(user: User) -> QuerySet[CreditLineApplication]:
    """Submitted applications the user may decide: within their authority, for customers they
    see, and not their own."""
    has_authority, limit = authority_of(user)
    if not has_authority:
        return CreditLineApplication.objects.none()
    queryset = applications_visible_to(user).filter(state=ApplicationState.SUBMITTED)
    if limit is not None:
        queryset = queryset.filter(
            requested_amount__lte=Value(limit, output_field=MONEY)
            - Coalesce(F("temporary_amount"), Value(Decimal(0)), output_field=MONEY)
        )
    return queryset.exclude(applied_by=user)


def application_get_visible(*, user: User, application_id: int) -> CreditLineApplication:
    application = applications_visible_to(user).filter(pk=application_id).first()
    if application is None:
        raise NotFound(
            _("credit line application %(number)s not found") % {"number": application_id}
        )
    return application


def application_history(application: CreditLineApplication) -> QuerySet[CreditEvent]:
    """The events of an application, oldest first: submissions, decisions, refusals."""
    return (
        CreditEvent.objects.filter(application=application)
        .select_related("actor")
        .order_by("occurred_at", "id")
    )


# --- Lines and tasks ------------------------------------------------------------------------------


def lines_of(*, user: User, customer: Customer) -> QuerySet[CreditLine]:
    """The customer's lines and its group's lines, newest first (none if not visible)."""
    if not customers_visible_to(user).filter(pk=customer.pk).exists():
        return CreditLine.objects.none()
    group_id = (
        CustomerCredit.objects.filter(customer=customer).values_list("group_id", flat=True).first()
    )
    condition = Q(customer=customer)
    if group_id is not None:
        condition |= Q(group_id=group_id)
    return (
        CreditLine.objects.filter(condition)
        .select_related("group", "approved_by")
        .order_by("-valid_from", "-id")
    )


def line_in_force(*, customer: Customer) -> CreditLine | None:
    """The customer's own line in force (no access check: the caller has checked)."""
    return CreditLine.objects.filter(customer=customer, state="active").first()


def tasks_of(*, user: User, state: str | None = TaskState.OPEN) -> QuerySet[CreditReviewTask]:
    """The user's re-survey tasks (they own the customer), soonest due first."""
    queryset = CreditReviewTask.objects.filter(
        owner=user, customer__in=customers_visible_to(user)
    ).select_related("customer")
    if state:
        queryset = queryset.filter(state=state)
    return queryset.order_by("due_on", "id")


def task_get_for(*, user: User, task_id: int) -> CreditReviewTask:
    """A task the user owns or whose customer they see."""
    task = (
        CreditReviewTask.objects.filter(pk=task_id)
        .filter(Q(owner=user) | Q(customer__in=customers_visible_to(user)))
        .select_related("customer")
        .first()
    )
    if task is None:
        raise NotFound(_("task %(number)s not found") % {"number": task_id})
    return task
