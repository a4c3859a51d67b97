"""The credit settings of domain §5 with their defaults.

A company's changes are stored as versions of `CreditSettings` (services.credit_settings_update)
and merged over these defaults; `credit_settings_current()` gives the merged dict. Money is a
string of yuan, shares and factors numbers as strings, days whole numbers. Every key is checked
by `validate_settings`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kehu.core.errors import ValidationFailed
from kehu.core.layered_settings import merge as layered_merge
from kehu.core.layered_settings import setting_number

GRADES = ("AAA", "AA", "A", "B", "C")
CHECKPOINTS = ("confirm", "deliver", "invoice")

DEFAULTS: dict[str, Any] = {
    # The line proposal (§5.3): average monthly purchases over `proposal_months` ×
    # (payment-term days / 30 + 1) × the grade factor, capped at a share of the equity.
    "proposal": {
        "months": 12,
        "grade_factors": {"AAA": "1.5", "AA": "1.2", "A": "1.0", "B": "0.6", "C": "0"},
        # Share of the customer's equity (from its latest survey) the line may not exceed;
        # "" switches the cap off.
        "equity_cap_share": "0.5",
        # Proposals are rounded down to this many yuan.
        "round_to": "1000",
    },
    # How long an approved line runs when the application gives no date.
    "line_validity_months": 12,
    # The order credit check (§5.3, issue 5 item 4).
    "check": {
        # Which events check credit: any of confirm, deliver, invoice.
        "checkpoints": ["confirm"],
        # Exposure may exceed the line by this share before an order is held (0.05 = 5%).
        "tolerance_share": "0",
    },
    # A customer is on credit hold when an item is overdue beyond this many days, its grade
    # is C, or its line has expired.
    "hold": {"overdue_days": 60},
    # Re-survey triggers: a grade drop, an item overdue beyond `overdue_days`, a line within
    # `line_expiry_days` of its end. The task is due `task_due_days` after it opens.
    "review": {"overdue_days": 30, "line_expiry_days": 30, "task_due_days": 14},
    # Who pays for a bad debt (§5.4), as shares of the written-off amount.
    "accountability": {
        "unapproved_giver_share": "1.00",
        "handler_share": "0.50",
        "approver_share": "0.50",
    },
}


def _number(value: Any, key: str, *, low: Decimal | None = None, high: Decimal | None = None):
    return setting_number(value, key, label="credit setting", low=low, high=high)


def _days(value: Any, key: str, *, low: int = 0, high: int = 3650) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValidationFailed(
            f"credit setting {key}: {value!r} is not a whole number {low}–{high}",
            detail={"field": key},
        )
    return value


def merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    return layered_merge(base, changes, label="credit setting")


def validate_settings(values: dict[str, Any]) -> dict[str, Any]:
    """Check every value; returns the same dict. Raises ValidationFailed naming the key."""
    proposal = values["proposal"]
    _days(proposal["months"], "proposal.months", low=1, high=60)
    for grade in GRADES:
        _number(proposal["grade_factors"][grade], f"proposal.grade_factors.{grade}", low=Decimal(0))
    if proposal["equity_cap_share"] != "":
        _number(proposal["equity_cap_share"], "proposal.equity_cap_share", low=Decimal(0))
    _number(proposal["round_to"], "proposal.round_to", low=Decimal("0.01"))
    _days(values["line_validity_months"], "line_validity_months", low=1, high=120)
    checkpoints = values["check"]["checkpoints"]
    if (
        not isinstance(checkpoints, list)
        or not checkpoints
        or any(point not in CHECKPOINTS for point in checkpoints)
    ):
        raise ValidationFailed(
            f"credit setting check.checkpoints: {checkpoints!r} must be a non-empty list of "
            f"{', '.join(CHECKPOINTS)}",
            detail={"field": "check.checkpoints"},
        )
    _number(values["check"]["tolerance_share"], "check.tolerance_share", low=Decimal(0))
    _days(values["hold"]["overdue_days"], "hold.overdue_days", low=1)
    for key in ("overdue_days", "line_expiry_days", "task_due_days"):
        _days(values["review"][key], f"review.{key}", low=1)
    shares = values["accountability"]
    for key in ("unapproved_giver_share", "handler_share", "approver_share"):
        _number(shares[key], f"accountability.{key}", low=Decimal(0), high=Decimal(1))
    if Decimal(shares["handler_share"]) + Decimal(shares["approver_share"]) != 1:
        raise ValidationFailed(
            "credit setting accountability: the handler's and the approver's shares must add "
            "up to 1",
            detail={"field": "accountability"},
        )
    return values
