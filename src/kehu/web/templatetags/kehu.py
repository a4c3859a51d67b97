"""Template helpers of the page shell: money, sortable headers, page links."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import template
from django.http import QueryDict
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def money(value: object) -> str:
    """1234567.5 → "1,234,567.50"; empty → "—". Grouped by thousands in every language."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(str(value)):,.2f}"


@register.filter
def plain(value: object) -> str:
    """A value of any field as people read it: money grouped, dates as 2026-03-05, — if empty."""
    if value is None or value == "":
        return "—"
    if isinstance(value, Decimal):
        return money(value)
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


@register.filter
def number(value: object) -> str:
    """Whole numbers grouped by thousands: 1234567 → "1,234,567"."""
    if value is None or value == "":
        return "—"
    return f"{int(value):,}"  # type: ignore[call-overload]


@register.filter
def minus(value: object, other: object) -> Decimal:
    return Decimal(str(value)) - Decimal(str(other))


@register.filter
def percent(share: object) -> str:
    """A share between 0 and 1 as a percentage: 0.125 → "12.5%"."""
    if share is None or share == "":
        return "—"
    value = (Decimal(str(share)) * 100).normalize()
    return f"{value:f}%"


def _with(query: QueryDict, **changes: object) -> str:
    query = query.copy()
    for key, value in changes.items():
        if value is None or value == "":
            query.pop(key, None)
        else:
            query[key] = str(value)
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag(takes_context=True)
def sort_header(context: template.Context, key: str, label: str, target: str = "") -> str:
    """A column header that sorts by `key`, and by `-key` when it already sorts by `key`."""
    request = context["request"]
    current = request.GET.get("sort", "code")
    if current == key:
        next_sort, arrow, state = f"-{key}", "↑", "ascending"
    elif current == f"-{key}":
        next_sort, arrow, state = key, "↓", "descending"
    else:
        next_sort, arrow, state = key, "", "none"
    href = _with(request.GET, sort=next_sort, page=None)
    if target:
        return format_html(
            '<a class="sort sort-{}" href="{}" hx-get="{}" hx-target="{}" hx-push-url="true" '
            'aria-sort="{}">{}<span class="sort-arrow">{}</span></a>',
            state,
            href,
            href,
            target,
            state,
            label,
            arrow,
        )
    return format_html(
        '<a class="sort sort-{}" href="{}" aria-sort="{}">{}<span class="sort-arrow">{}</span></a>',
        state,
        href,
        state,
        label,
        arrow,
    )


@register.simple_tag(takes_context=True)
def page_url(context: template.Context, page: int) -> str:
    return _with(context["request"].GET, page=None if page == 1 else page)


@register.simple_tag(takes_context=True)
def with_query(context: template.Context, **changes: object) -> str:
    return _with(context["request"].GET, **changes)


def page_window(number: int, num_pages: int, around: int = 2) -> list[int | None]:
    """Page numbers to show: first, last and a window around the current one; None is a gap."""
    shown = {1, num_pages, *range(number - around, number + around + 1)}
    pages: list[int | None] = []
    previous = 0
    for page in sorted(p for p in shown if 1 <= p <= num_pages):
        if page - previous > 1:
            pages.append(None)
        pages.append(page)
        previous = page
    return pages


@register.simple_tag
def page_numbers(page_obj) -> list[int | None]:  # type: ignore[no-untyped-def]
    return page_window(page_obj.number, page_obj.paginator.num_pages)


@register.filter
def css_string(value: object) -> str:
    """Text for the inside of a double-quoted CSS string (a PDF page footer's `content`):
    backslashes, quotes, angle brackets and line breaks as CSS hex escapes. (escapejs gives
    JavaScript escapes such as \\u002D, which CSS reads as the letters "u002D".)"""
    text = str(value)
    escaped = "".join(f"\\{ord(char):x} " if char in '\\"<>\n\r' else char for char in text)
    return mark_safe(escaped)  # noqa: S308 - every character that could end the string is escaped
