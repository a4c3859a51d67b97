"""Settings stored as versions laid over defaults (value settings, credit settings)."""

from __future__ import annotations

import copy
from decimal import Decimal, InvalidOperation
from typing import Any

from kehu.core.errors import ValidationFailed


def merge(
    base: dict[str, Any], changes: dict[str, Any], path: str = "", *, label: str = "setting"
) -> dict[str, Any]:
    """A copy of `base` with `changes` laid over it; unknown keys are refused, naming the key
    (e.g. "unknown credit setting 'hold.overdue_days'")."""
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        where = f"{path}{key}"
        if key not in base:
            raise ValidationFailed(f"unknown {label} {where!r}", detail={"field": where})
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ValidationFailed(
                    f"{label} {where} must be a mapping", detail={"field": where}
                )
            merged[key] = merge(base[key], value, f"{where}.", label=label)
        else:
            merged[key] = value
    return merged


def setting_number(
    value: Any,
    key: str,
    *,
    label: str = "setting",
    low: Decimal | None = None,
    high: Decimal | None = None,
) -> Decimal:
    """A setting's value as a finite Decimal within [low, high]; else ValidationFailed naming
    the key (e.g. "credit setting check.tolerance_share: -0.1 is below 0")."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError) as error:
        raise ValidationFailed(
            f"{label} {key}: {value!r} is not a number", detail={"field": key}
        ) from error
    if not number.is_finite():
        raise ValidationFailed(f"{label} {key}: {value!r} is not a number", detail={"field": key})
    if low is not None and number < low:
        raise ValidationFailed(f"{label} {key}: {value} is below {low}", detail={"field": key})
    if high is not None and number > high:
        raise ValidationFailed(f"{label} {key}: {value} is above {high}", detail={"field": key})
    return number
