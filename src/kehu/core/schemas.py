"""Building blocks every app's API schemas share: errors, money, text, ids and paging.

Money leaves the API as a string with exactly two decimals ("1234.50"), never as a JSON
number, so that no client turns it into a float. Money comes in as a string or a number and
is checked for at most two decimals and eighteen digits, the size of the ledger's columns.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, cast

from django.conf import settings
from django.db.models import QuerySet
from ninja import Field, Schema
from pydantic import AfterValidator, ConfigDict, PlainSerializer, WithJsonSchema

from kehu.core.money import CENT

# The largest primary key a bigint column holds; bigger ids answer 422, never a database error.
MAX_ID = 2**63 - 1
# Paging: offsets beyond this are refused rather than passed to the database.
MAX_OFFSET = 2**31 - 1
MAX_PAGE_SIZE = 200


class ErrorOut(Schema):
    """Every error the API answers: a sentence for people and a detail for programs."""

    message: str
    detail: Any = None


def error_responses(*status_codes: int) -> dict[int, type[ErrorOut]]:
    """The error answers of an endpoint: 400 (unreadable body), 401 and 422 always, plus these."""
    return dict.fromkeys(sorted({400, 401, 422, *status_codes}), ErrorOut)


def _without_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


# Text a database can store: PostgreSQL refuses NUL characters, so they are refused here.
Text = Annotated[str, AfterValidator(_without_nul)]


def _money_text(value: Decimal) -> str:
    return str(value.quantize(CENT))


def _decimal_text(value: Decimal) -> str:
    return str(value)


# Out: money as an exact string with two decimals.
MoneyOut = Annotated[
    Decimal,
    PlainSerializer(_money_text, return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "examples": ["1234.50"]},
        mode="serialization",
    ),
]
# Out: other exact decimals (quantities, shares, coordinates) as strings, as stored.
DecimalOut = Annotated[
    Decimal,
    PlainSerializer(_decimal_text, return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "examples": ["2.500"]},
        mode="serialization",
    ),
]
# In: a non-negative amount of money, given as "1234.50" or 1234.5.
MoneyIn = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2, allow_inf_nan=False)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def default_page_size() -> int:
    return cast(int, settings.KEHU["PAGE_SIZE"])


class PageQuery(Schema):
    limit: int = Field(
        default_factory=default_page_size, ge=1, le=MAX_PAGE_SIZE, description="rows per page"
    )
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="rows to skip")


class InputSchema(Schema):
    """Request bodies refuse fields they do not know, so that a typo is an error, not a no-op."""

    model_config = ConfigDict(extra="forbid")


class RefOut(Schema):
    """A short reference to another record: its id, code and name."""

    id: int
    code: str
    name: str


class DatedPageQuery(PageQuery):
    """A page of a customer's records between two dates (both included, both optional)."""

    date_from: dt.date | None = Field(None, description="on or after this date (YYYY-MM-DD)")
    date_to: dt.date | None = Field(None, description="on or before this date (YYYY-MM-DD)")


def page_of(queryset: QuerySet[Any], query: PageQuery) -> dict[str, Any]:
    """One page of a queryset with the total count: two queries (plus prefetches)."""
    return {
        "count": queryset.count(),
        "limit": query.limit,
        "offset": query.offset,
        "items": list(queryset[query.offset : query.offset + query.limit]),
    }


def between_dates(queryset: QuerySet[Any], field: str, query: DatedPageQuery) -> QuerySet[Any]:
    if query.date_from is not None:
        queryset = queryset.filter(**{f"{field}__gte": query.date_from})
    if query.date_to is not None:
        queryset = queryset.filter(**{f"{field}__lte": query.date_to})
    return queryset
