"""Who pays for a bad debt 坏账责任 (domain §5.4): for every write-off, whose decision the credit
was, whether it was approved, and each person's share of the amount written off.

The rules, applied to each write-off the user may see (receivables.collections
.write_offs_visible_to) that was written off in the period and is not reversed:

- **The giver** (the handler 经办人, who gave the credit) is the person the write-off records
  (`WriteOff.credit_given_by`), else the owner of the invoice's order (who entered it), else the
  customer's owner rep.
- **The line**: an approved credit line (`approved_at` set, state in force or superseded — never
  cancelled) of the customer, or of its credit group (the group it is in now), valid on the
  invoice's issue date (valid_from ≤ issue date ≤ valid_until). The customer's own line is
  preferred to the group's; among several, the latest approved.
- **The credit checks** of the invoice's order decide, the latest check first:
  a check that *passed* means the order went out inside the line; a *held* check that someone
  *released* means that person approved the credit beyond the line (the releaser is the approver
  of the excess); a held check still *open* or *rejected* means the order went out although the
  check stopped it: nobody approved the credit. An order without any check (history loaded
  before Kehu, or an invoice without an order) falls back to "a line existed".
- **Approved** when the write-off records an approver (`WriteOff.credit_approved_by`), or the
  latest check is a released hold, or a line existed and the latest check passed (or there was
  no check). "Inside an approved line" is the last of these three.
- **The approver** is the recorded one, else the releaser of the hold, else the line's
  `approved_by`.
- **Shares** come from the credit settings (`accountability`): credit nobody approved is borne
  by the giver at `unapproved_giver_share` (default 100%); approved credit is shared,
  `handler_share` by the giver and `approver_share` by the approver (default 50/50). When the
  giver approved their own credit they bear both shares. Amounts are rounded half-up to cents;
  the approver's part is the amount less the giver's part, so the parts add up exactly. An
  approved debt whose approver nobody recorded (a line without `approved_by`) shows its
  approver's part under "Nobody recorded"; what an unapproved share below 100% leaves is the
  company's (`company_amount`).
- **A reversed write-off** (`reversed_on` set) drops out: the money came back.

Access: finance, top management and administrators see every write-off; a manager those of the
customers of their unit's subtree; a rep only the rows in which they bear a share.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.accounts.models import User
from kehu.core.errors import ValidationFailed
from kehu.core.money import CENT, ZERO
from kehu.credit.models import (
    CreditCheck,
    CreditCheckResult,
    CreditLine,
    CreditLineState,
    CustomerCredit,
    HoldState,
)
from kehu.credit.selectors.settings import credit_settings_current
from kehu.receivables.collections import write_offs_visible_to
from kehu.receivables.models import WriteOff

# Why a write-off counts as approved or not (the `basis` of a row).
BASIS_LABELS = {
    "recorded": _("The write-off records who approved the credit"),
    "line_and_check": _("Inside an approved line; the order passed the credit check"),
    "line_no_check": _("An approved line existed; the order has no credit check"),
    "hold_released": _("The order was held for credit and released"),
    "hold_not_released": _("The order was held for credit and never released"),
    "no_line": _("No approved line on the invoice date"),
}
APPROVED_BASES = frozenset({"recorded", "line_and_check", "line_no_check", "hold_released"})

PERSON_SORTS = ("person", "count", "amount", "borne", "share")
LINE_STATES = (CreditLineState.ACTIVE, CreditLineState.SUPERSEDED)


@dataclass(frozen=True)
class Shares:
    """The accountability shares in force (credit settings, key `accountability`)."""

    unapproved_giver: Decimal
    handler: Decimal
    approver: Decimal

    @classmethod
    def current(cls) -> Shares:
        values = credit_settings_current()["accountability"]
        return cls(
            unapproved_giver=Decimal(str(values["unapproved_giver_share"])),
            handler=Decimal(str(values["handler_share"])),
            approver=Decimal(str(values["approver_share"])),
        )


@dataclass(frozen=True)
class PersonShare:
    person: User | None  # None: nobody recorded (the company bears it)
    role: str  # "giver", "approver", "giver_and_approver"
    share: Decimal
    amount: Decimal


@dataclass(frozen=True)
class AccountabilityRow:
    """One write-off and whose decision the credit was."""

    write_off: WriteOff
    giver: User | None
    approver: User | None
    basis: str  # a key of BASIS_LABELS
    line: CreditLine | None
    credit_check: CreditCheck | None
    giver_share: Decimal
    giver_amount: Decimal
    approver_share: Decimal
    approver_amount: Decimal

    @property
    def amount(self) -> Decimal:
        return self.write_off.amount

    @property
    def is_approved(self) -> bool:
        return self.basis in APPROVED_BASES

    @property
    def is_inside_line(self) -> bool:
        return self.basis in ("line_and_check", "line_no_check")

    @property
    def basis_label(self) -> str:
        return str(BASIS_LABELS[self.basis])

    @property
    def company_amount(self) -> Decimal:
        """What no person bears (an unapproved share below 100%)."""
        return self.amount - self.giver_amount - self.approver_amount

    def shares(self) -> list[PersonShare]:
        """Each person's share; the giver who approved their own credit appears once."""
        if self.approver is not None and self.giver is not None and self.approver == self.giver:
            return [
                PersonShare(
                    person=self.giver,
                    role="giver_and_approver",
                    share=self.giver_share + self.approver_share,
                    amount=self.giver_amount + self.approver_amount,
                )
            ]
        result = [
            PersonShare(
                person=self.giver, role="giver", share=self.giver_share, amount=self.giver_amount
            )
        ]
        if self.is_approved:
            result.append(
                PersonShare(
                    person=self.approver,
                    role="approver",
                    share=self.approver_share,
                    amount=self.approver_amount,
                )
            )
        return result


@dataclass
class PersonTotal:
    """One person's bad debts in the period: the write-offs they share, their amount, and
    what the person bears of it."""

    person: User | None
    write_off_count: int = 0
    amount: Decimal = ZERO
    borne: Decimal = ZERO

    @property
    def share_of_amount(self) -> Decimal | None:
        return self.borne / self.amount if self.amount else None

    @property
    def name(self) -> str:
        return str(self.person) if self.person is not None else str(_("Nobody recorded"))


@dataclass
class AccountabilityReport:
    date_from: dt.date
    date_to: dt.date
    shares: Shares
    rows: list[AccountabilityRow] = field(default_factory=list)
    people: list[PersonTotal] = field(default_factory=list)

    @property
    def total_amount(self) -> Decimal:
        return sum((row.amount for row in self.rows), ZERO)

    @property
    def total_borne(self) -> Decimal:
        return sum((row.giver_amount + row.approver_amount for row in self.rows), ZERO)


def accountability_period_check(date_from: dt.date, date_to: dt.date) -> None:
    if date_from > date_to:
        raise ValidationFailed(
            str(
                _("The period starts on %(start)s, after it ends on %(end)s")
                % {"start": date_from, "end": date_to}
            ),
            detail={"field": "date_from"},
        )


def _part(amount: Decimal, share: Decimal) -> Decimal:
    return (amount * share).quantize(CENT, rounding=ROUND_HALF_UP)


def _lines_by_owner(
    customer_ids: Iterable[int], group_ids: Iterable[int]
) -> dict[tuple[str, int], list[CreditLine]]:
    lines = (
        CreditLine.objects.filter(
            Q(customer_id__in=set(customer_ids)) | Q(group_id__in=set(group_ids)),
            approved_at__isnull=False,
            state__in=LINE_STATES,
        )
        .select_related("approved_by")
        .order_by("-approved_at", "-id")
    )
    found: dict[tuple[str, int], list[CreditLine]] = {}
    for line in lines:
        key = ("customer", line.customer_id) if line.customer_id else ("group", line.group_id)
        found.setdefault(key, []).append(line)  # type: ignore[arg-type]
    return found


def _line_on(candidates: list[CreditLine], day: dt.date) -> CreditLine | None:
    for line in candidates:  # latest approved first
        if line.valid_from <= day <= line.valid_until:
            return line
    return None


def _latest_checks(order_ids: Iterable[int]) -> dict[int, CreditCheck]:
    latest: dict[int, CreditCheck] = {}
    checks = (
        CreditCheck.objects.filter(order_id__in=set(order_ids))
        .select_related("decided_by")
        .order_by("order_id", "-checked_at", "-id")
    )
    for check in checks:
        latest.setdefault(check.order_id, check)
    return latest


def _row(
    write_off: WriteOff,
    *,
    line: CreditLine | None,
    check: CreditCheck | None,
    shares: Shares,
) -> AccountabilityRow:
    invoice = write_off.invoice
    order = invoice.order
    giver = write_off.credit_given_by or (order.owner if order else None) or invoice.customer.owner
    approver: User | None = None
    if write_off.credit_approved_by is not None:
        basis, approver = "recorded", write_off.credit_approved_by
    elif check is not None and check.result == CreditCheckResult.HELD:
        if check.hold_state == HoldState.RELEASED:
            basis, approver = "hold_released", check.decided_by
        else:
            basis = "hold_not_released"
    elif line is None:
        basis = "no_line"
    else:
        basis = "line_and_check" if check is not None else "line_no_check"
        approver = line.approved_by
    amount = write_off.amount
    if basis in APPROVED_BASES:
        # The settings make the two shares add up to 1: the approver bears the rest exactly.
        giver_share, approver_share = shares.handler, shares.approver
        giver_amount = _part(amount, giver_share)
        approver_amount = amount - giver_amount
    else:
        giver_share, approver_share = shares.unapproved_giver, ZERO
        giver_amount, approver_amount = _part(amount, giver_share), ZERO
    return AccountabilityRow(
        write_off=write_off,
        giver=giver,
        approver=approver,
        basis=basis,
        line=line,
        credit_check=check,
        giver_share=giver_share,
        giver_amount=giver_amount,
        approver_share=approver_share,
        approver_amount=approver_amount,
    )


def _person_totals(rows: list[AccountabilityRow]) -> list[PersonTotal]:
    totals: dict[int | None, PersonTotal] = {}
    for row in rows:
        for share in row.shares():
            key = share.person.pk if share.person is not None else None
            total = totals.setdefault(key, PersonTotal(person=share.person))
            total.write_off_count += 1
            total.amount += row.amount
            total.borne += share.amount
    return sorted(totals.values(), key=lambda total: (-total.borne, total.name))


def sort_people(people: list[PersonTotal], sort: str) -> list[PersonTotal]:
    """Sort per-person totals by a key of PERSON_SORTS ('-' for descending)."""
    key = sort.lstrip("-")
    if key not in PERSON_SORTS:
        return people
    keys: dict[str, Any] = {
        "person": lambda total: total.name,
        "count": lambda total: total.write_off_count,
        "amount": lambda total: total.amount,
        "borne": lambda total: total.borne,
        "share": lambda total: total.share_of_amount or Decimal(0),
    }
    return sorted(people, key=keys[key], reverse=sort.startswith("-"))


def bad_debt_accountability(
    *,
    user: User,
    date_from: dt.date,
    date_to: dt.date,
    person: User | int | None = None,
    search: str = "",
) -> AccountabilityReport:
    """The accountability for the bad debts written off from `date_from` to `date_to` (both
    included) that `user` may see; `person` (a user or an id) keeps only the write-offs in
    which that person bears a share, and the per-person totals of that person; `search` keeps
    the write-offs whose customer code or name, or invoice number, contains the text."""
    accountability_period_check(date_from, date_to)
    shares = Shares.current()
    write_offs = (
        write_offs_visible_to(user=user, state="live", date_from=date_from, date_to=date_to)
        .select_related("invoice__order__owner", "invoice__customer__owner")
        .order_by("written_off_on", "pk")
    )
    if search:
        write_offs = write_offs.filter(
            Q(invoice__customer__code__icontains=search)
            | Q(invoice__customer__name__icontains=search)
            | Q(invoice__number__icontains=search)
        )
    found = list(write_offs)
    customer_ids = {write_off.invoice.customer_id for write_off in found}
    groups = dict(
        CustomerCredit.objects.filter(
            customer_id__in=customer_ids, group_id__isnull=False
        ).values_list("customer_id", "group_id")
    )
    lines = _lines_by_owner(customer_ids, groups.values())
    checks = _latest_checks(
        write_off.invoice.order_id for write_off in found if write_off.invoice.order_id
    )
    rows = []
    for write_off in found:
        invoice = write_off.invoice
        line = _line_on(lines.get(("customer", invoice.customer_id), []), invoice.issue_date)
        group_id = groups.get(invoice.customer_id)
        if line is None and group_id is not None:
            line = _line_on(lines.get(("group", group_id), []), invoice.issue_date)
        check = checks.get(invoice.order_id) if invoice.order_id else None
        rows.append(_row(write_off, line=line, check=check, shares=shares))
    person_id = person.pk if isinstance(person, User) else person
    if not user.sees_all and not user.is_manager:
        person_id = user.pk  # a rep sees the rows in which they bear a share
    if person_id is not None:
        rows = [
            row
            for row in rows
            if any(
                share.person is not None and share.person.pk == person_id for share in row.shares()
            )
        ]
    people = _person_totals(rows)
    if person_id is not None:
        people = [total for total in people if total.person and total.person.pk == person_id]
    return AccountabilityReport(
        date_from=date_from, date_to=date_to, shares=shares, rows=rows, people=people
    )
