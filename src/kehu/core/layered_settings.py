"""Settings stored as versions laid over defaults (value settings, credit settings)."""

from __future__ import annotations

import copy
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
