"""Template helpers of the value reports."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def share(value: object, digits: int = 1) -> str:
    """A share between 0 and 1 as a rounded percentage: 0.12345 → "12.3%"; None → "—"."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.{int(digits)}f}%"  # type: ignore[arg-type]
