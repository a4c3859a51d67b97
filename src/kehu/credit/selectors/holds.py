"""The credit hold queue and a customer's credit position.

The queue (`credit_holds_for`): open holds of the customers the user may see, with who
entered the order, what, how much, why and since when; filters, search and sorting.

A customer's credit position (授信占用与额度): exposure against the line in force, the group's
exposure against the group line, the securities, the overdue state and the grade, and the
reasons an order on credit would be held.

Used by the order credit check (which takes its row locks first, then calls this) and by the
customer card and the exposure endpoint (no locks). No access check here: the callers check
what the user may see.

Rules (documented decisions):
- limit = line in force today × (1 + check.tolerance_share) + valid securities (collateral and
  guarantees recorded for the customer and valid today); the order is held for `over_line`
  when exposure + the order exceeds it.
- A member of a credit group is also checked against the group line in force (with the same
  tolerance, without the member's securities): `group_over_line`. A member whose group has a
  line in force needs no line of its own (the group line is its line); when it has one, both
  are checked.
- `no_line`: no own line in force today and no group line; `line_expired`: its line has ended.
- `overdue`: an open invoice is past due by more than hold.overdue_days; `grade_c`: the
  customer's latest grade is C.
- excess = what exposure exceeds the limits by (the larger of the own and the group excess);
  when a reason without an amount applies (no line, expired line, overdue, grade C), the excess
  is at least the whole order amount: releasing such a hold approves the whole order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast

from kehu.accounts.models import ApprovalAuthority, User
from kehu.core.errors import NotFound
from kehu.core.money import CENT, ZERO
from kehu.credit.models import (
    CreditCheck,
    CreditCheckResult,
    CreditGroup,
    CreditLine,
    CreditLineState,
    CreditSecurity,
    CustomerCredit,
    HoldReason,
    HoldState,
)
from kehu.credit.selectors.exposure import Exposure, exposure_of
from kehu.credit.selectors.settings import credit_settings_current
from kehu.customers.models import Customer
from kehu.customers.selectors import related_visible_to

# Reasons that say nothing about an amount: releasing them approves the whole order.
REASONS_WITHOUT_AMOUNT = (
    HoldReason.NO_LINE,
    HoldReason.LINE_EXPIRED,
    HoldReason.OVERDUE,
    HoldReason.GRADE_C,
)
# The order reasons are listed in, on records and pages.
REASON_ORDER: list[str] = [
    HoldReason.NO_LINE,
    HoldReason.LINE_EXPIRED,
    HoldReason.OVER_LINE,
    HoldReason.GROUP_OVER_LINE,
    HoldReason.OVERDUE,
    HoldReason.GRADE_C,
]


@dataclass(frozen=True)
class CreditPosition:
    """Figures of one credit decision; `exposure` includes `order_amount`."""

    customer_id: int
    as_of: dt.date
    order_amount: Decimal
    exposure_before: Exposure
    exposure: Decimal
    line: CreditLine | None
    line_amount: Decimal | None  # the line in force on `as_of` (None: no line at all)
    tolerance_share: Decimal
    secured_amount: Decimal
    group: CreditGroup | None
    group_line: CreditLine | None
    group_line_amount: Decimal | None
    group_exposure: Decimal | None
    overdue_days: int | None  # days the oldest open invoice is past due (None: none is)
    grade: str
    own_excess: Decimal
    group_excess: Decimal
    reasons: list[str] = field(default_factory=list)

    @property
    def limit(self) -> Decimal | None:
        if self.line_amount is None:
            return None
        return _money(self.line_amount * (1 + self.tolerance_share)) + self.secured_amount

    @property
    def available(self) -> Decimal | None:
        """What more may be ordered on credit before the line (with tolerance, securities and
        the group line) is reached; None when there is no line."""
        limits = []
        if self.limit is not None:
            limits.append(self.limit - self.exposure)
        if self.group_line_amount is not None and self.group_exposure is not None:
            group_limit = _money(self.group_line_amount * (1 + self.tolerance_share))
            limits.append(group_limit - self.group_exposure)
        return max(min(limits), ZERO) if limits else None

    @property
    def excess(self) -> Decimal:
        excess = max(self.own_excess, self.group_excess)
        if any(reason in REASONS_WITHOUT_AMOUNT for reason in self.reasons):
            excess = max(excess, self.order_amount)
        return excess

    @property
    def is_held(self) -> bool:
        return bool(self.reasons)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _line_in_force(**owner: object) -> CreditLine | None:
    return CreditLine.objects.filter(state=CreditLineState.ACTIVE, **owner).order_by("-id").first()


def credit_position(
    *,
    customer: Customer,
    today: dt.date,
    order_amount: Decimal = ZERO,
    exclude_order_id: int | None = None,
    standing: CustomerCredit | None = None,
    values: dict[str, Any] | None = None,
) -> CreditPosition:
    """The customer's position if an order of `order_amount` were added to its exposure.
    `exclude_order_id` leaves the order being checked out of the exposure it is added to;
    `values` are the credit settings in force (read when not given)."""
    values = values if values is not None else credit_settings_current()
    tolerance = Decimal(str(values["check"]["tolerance_share"]))
    overdue_limit = int(values["hold"]["overdue_days"])
    if standing is None:
        standing = CustomerCredit.objects.filter(customer=customer).first()
    grade = standing.grade if standing is not None else ""
    group = (
        CreditGroup.objects.get(pk=standing.group_id)
        if standing is not None and standing.group_id
        else None
    )

    before = exposure_of(customer_ids=[customer.pk], exclude_order_id=exclude_order_id)
    oldest_due = before.oldest_open_due
    exposure = before.total + order_amount
    reasons: list[str] = []

    line = _line_in_force(customer=customer)
    line_amount = line.amount_on(today) if line is not None else None
    securities = [
        security
        for security in CreditSecurity.objects.filter(customer=customer, is_released=False)
        if security.is_valid_on(today)
    ]
    secured = sum((security.amount for security in securities), ZERO)

    group_line = group_line_amount = group_exposure = None
    group_excess = ZERO
    if group is not None:
        group_line = _line_in_force(group=group)
        if group_line is not None and group_line.is_valid_on(today):
            group_line_amount = group_line.amount_on(today)
            member_ids = list(
                CustomerCredit.objects.filter(group=group).values_list("customer_id", flat=True)
            )
            if customer.pk not in member_ids:
                member_ids.append(customer.pk)
            group_exposure = (
                exposure_of(customer_ids=member_ids, exclude_order_id=exclude_order_id).total
                + order_amount
            )
            group_limit = _money(group_line_amount * (1 + tolerance))
            group_excess = max(group_exposure - group_limit, ZERO)
            if group_excess > 0:
                reasons.append(HoldReason.GROUP_OVER_LINE)

    own_excess = ZERO
    if line is not None and line.valid_until < today:
        reasons.append(HoldReason.LINE_EXPIRED)
    elif line is None or not line.is_valid_on(today):
        line_amount = None if line is None else ZERO
        if group_line_amount is None:
            reasons.append(HoldReason.NO_LINE)
    else:
        assert line_amount is not None
        limit = _money(line_amount * (1 + tolerance)) + secured
        own_excess = max(exposure - limit, ZERO)
        if own_excess > 0:
            reasons.append(HoldReason.OVER_LINE)

    overdue_days = (today - oldest_due).days if oldest_due is not None else None
    if overdue_days is not None and overdue_days <= 0:
        overdue_days = None
    if overdue_days is not None and overdue_days > overdue_limit:
        reasons.append(HoldReason.OVERDUE)
    if grade == "C":
        reasons.append(HoldReason.GRADE_C)

    return CreditPosition(
        customer_id=customer.pk,
        as_of=today,
        order_amount=order_amount,
        exposure_before=before,
        exposure=exposure,
        line=line,
        line_amount=line_amount,
        tolerance_share=tolerance,
        secured_amount=secured,
        group=group,
        group_line=group_line,
        group_line_amount=group_line_amount,
        group_exposure=group_exposure,
        overdue_days=overdue_days,
        grade=grade,
        own_excess=own_excess,
        group_excess=group_excess,
        reasons=sorted(reasons, key=REASON_ORDER.index),
    )


def customer_credit_hold_reasons(*, customer: Customer, today: dt.date) -> list[str]:
    """Why the customer is on credit hold (no new order on credit passes): an item overdue
    beyond the allowed days, grade C, no line or an expired one. Empty: not on hold."""
    position = credit_position(customer=customer, today=today)
    return [reason for reason in position.reasons if reason in REASONS_WITHOUT_AMOUNT]


# --- The hold queue ---------------------------------------------------------------------------

# Sort keys of the queue → the fields they order by (a leading "-" reverses).
HOLD_SORTS: dict[str, tuple[str, ...]] = {
    "waiting": ("checked_at", "id"),
    "order": ("order__number", "id"),
    "customer": ("customer__name", "id"),
    "amount": ("order_amount", "id"),
    "excess": ("excess", "id"),
}
DEFAULT_HOLD_SORT = "waiting"  # the longest waiting first


def credit_authority_of(user: User) -> Decimal | None:
    """The most credit the user's role may approve on its own: an amount, None for no upper
    bound (top management), ZERO when the role has no authority at all."""
    authority = ApprovalAuthority.objects.filter(role=user.role).first()
    if authority is None:
        return ZERO
    return authority.max_amount


def user_decides_holds(user: User) -> bool:
    """Whether the user may decide holds at all: a role with an approval authority, or
    finance / top management / administrator (who may reject; releasing needs authority)."""
    return user.sees_all or ApprovalAuthority.objects.filter(role=user.role).exists()


def authority_covers(authority: Decimal | None, excess: Decimal) -> bool:
    return authority is None or authority >= excess


def credit_holds_for(
    *,
    user: User,
    reason: str = "",
    owner_id: int | None = None,
    search: str = "",
    sort: str = DEFAULT_HOLD_SORT,
    state: str = HoldState.OPEN,
) -> QuerySet[CreditCheck]:
    """Holds (open by default) of the customers the user may see."""
    holds = related_visible_to(
        user, CreditCheck.objects.filter(result=CreditCheckResult.HELD, hold_state=state)
    ).select_related("order", "order__owner", "customer", "customer__owner", "decided_by")
    if reason:
        # The reasons are a JSON list; its text holds each reason in quotes on every database.
        holds = holds.annotate(reasons_text=Cast("reasons", CharField())).filter(
            reasons_text__contains=f'"{reason}"'
        )
    if owner_id is not None:
        holds = holds.filter(customer__owner_id=owner_id)
    search = search.strip()
    if search:
        holds = holds.filter(
            Q(order__number__icontains=search)
            | Q(customer__name__icontains=search)
            | Q(customer__code__icontains=search)
        )
    key = sort.lstrip("-")
    fields = HOLD_SORTS.get(key, HOLD_SORTS[DEFAULT_HOLD_SORT])
    if sort.startswith("-") and key in HOLD_SORTS:
        fields = tuple(f"-{field}" for field in fields)
    return holds.order_by(*fields)


def credit_hold_get_visible(*, user: User, hold_id: int) -> CreditCheck:
    """A held check of a customer the user may see, or NotFound."""
    hold = (
        related_visible_to(user, CreditCheck.objects.filter(result=CreditCheckResult.HELD))
        .select_related("order", "customer")
        .filter(pk=hold_id)
        .first()
    )
    if hold is None:
        raise NotFound(f"credit hold {hold_id} not found")
    return hold


def credit_checks_of(*, user: User, customer: Customer) -> QuerySet[CreditCheck]:
    """Every credit decision on the customer's orders, newest first."""
    return (
        related_visible_to(user, CreditCheck.objects.filter(customer=customer))
        .select_related("order", "checked_by", "decided_by")
        .order_by("-checked_at", "-id")
    )
