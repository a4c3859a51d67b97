"""Credit API: accountability for bad debts 坏账责任 (domain §5.4; its schemas live beside the
endpoints). The rules are in credit/selectors/accountability.py."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from kehu.accounts.models import User
from kehu.core.schemas import MAX_ID, DecimalOut, MoneyOut, RefOut, error_responses
from kehu.credit.selectors.accountability import (
    AccountabilityRow,
    PersonTotal,
    bad_debt_accountability,
)

router = Router(tags=["credit"])


class AccountabilityQuery(Schema):
    date_from: dt.date | None = Field(
        None, description="written off on or after (YYYY-MM-DD); default: 1 January this year"
    )
    date_to: dt.date | None = Field(
        None, description="written off on or before (YYYY-MM-DD); default: today"
    )
    person_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="only the write-offs this person bears a share of"
    )


class PersonRefOut(Schema):
    id: int
    name: str


class SharesOut(Schema):
    unapproved_giver_share: DecimalOut
    handler_share: DecimalOut
    approver_share: DecimalOut


class PersonTotalOut(Schema):
    person: PersonRefOut | None = Field(..., description="null: nobody recorded")
    write_off_count: int
    amount: MoneyOut = Field(..., description="the amount of the write-offs the person shares")
    borne: MoneyOut = Field(..., description="what the person bears of it")
    share_of_amount: DecimalOut | None


class PersonShareOut(Schema):
    person: PersonRefOut | None
    role: str = Field(..., description="giver, approver or giver_and_approver")
    share: DecimalOut
    amount: MoneyOut


class AccountabilityRowOut(Schema):
    write_off_id: int
    written_off_on: dt.date
    customer: RefOut
    invoice_number: str
    issue_date: dt.date
    amount: MoneyOut
    reason: str
    decided_by: PersonRefOut | None
    basis: str = Field(
        ...,
        description="recorded, line_and_check, line_no_check, hold_released, "
        "hold_not_released or no_line",
    )
    basis_label: str
    is_approved: bool
    is_inside_line: bool
    line_id: int | None
    credit_check_id: int | None
    giver: PersonRefOut | None
    approver: PersonRefOut | None
    shares: list[PersonShareOut]
    company_amount: MoneyOut


class AccountabilityOut(Schema):
    date_from: dt.date
    date_to: dt.date
    shares: SharesOut
    total_amount: MoneyOut
    total_borne: MoneyOut
    people: list[PersonTotalOut]
    rows: list[AccountabilityRowOut]


def _person(user: User | None) -> dict[str, object] | None:
    return None if user is None else {"id": user.pk, "name": str(user)}


def _total(total: PersonTotal) -> dict[str, object]:
    return {
        "person": _person(total.person),
        "write_off_count": total.write_off_count,
        "amount": total.amount,
        "borne": total.borne,
        "share_of_amount": (
            None if total.share_of_amount is None else round(total.share_of_amount, 4)
        ),
    }


def _row(row: AccountabilityRow) -> dict[str, object]:
    write_off = row.write_off
    customer = write_off.invoice.customer
    return {
        "write_off_id": write_off.pk,
        "written_off_on": write_off.written_off_on,
        "customer": {"id": customer.pk, "code": customer.code, "name": customer.name},
        "invoice_number": write_off.invoice.number,
        "issue_date": write_off.invoice.issue_date,
        "amount": write_off.amount,
        "reason": write_off.reason,
        "decided_by": _person(write_off.decided_by),
        "basis": row.basis,
        "basis_label": row.basis_label,
        "is_approved": row.is_approved,
        "is_inside_line": row.is_inside_line,
        "line_id": row.line.pk if row.line else None,
        "credit_check_id": row.credit_check.pk if row.credit_check else None,
        "giver": _person(row.giver),
        "approver": _person(row.approver),
        "shares": [
            {
                "person": _person(share.person),
                "role": share.role,
                "share": share.share,
                "amount": share.amount,
            }
            for share in row.shares()
        ],
        "company_amount": row.company_amount,
    }


@router.get(
    "/credit/accountability",
    response={200: AccountabilityOut, **error_responses()},
    summary="Who pays for the bad debts written off in a period: per person and per write-off",
)
def accountability_read(request: HttpRequest, filters: Query[AccountabilityQuery]) -> object:
    """Per-person totals and one row per write-off the user may see (a rep: only the rows in
    which they bear a share), with the giver, the approver and each one's share (§5.4)."""
    user: User = request.user  # type: ignore[assignment]
    today = timezone.localdate()
    date_to = filters.date_to or today
    date_from = filters.date_from or dt.date(date_to.year, 1, 1)
    report = bad_debt_accountability(
        user=user, date_from=date_from, date_to=date_to, person=filters.person_id
    )
    return {
        "date_from": report.date_from,
        "date_to": report.date_to,
        "shares": {
            "unapproved_giver_share": report.shares.unapproved_giver,
            "handler_share": report.shares.handler,
            "approver_share": report.shares.approver,
        },
        "total_amount": report.total_amount,
        "total_borne": report.total_borne,
        "people": [_total(total) for total in report.people],
        "rows": [_row(row) for row in report.rows],
    }
