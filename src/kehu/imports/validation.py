"""Checking import files: header mapping, cell parsers and the shape of an error.

Every parser takes the cell's text (already stripped, None when empty) and returns the value
or raises `CellError` with the reason. Parsers cache what they parsed, because the same dates,
prices and codes repeat on thousands of rows.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils.translation import gettext as _

from kehu.imports.columns import COLUMNS, Column, choice_hint, choice_words, header_index, normalise
from kehu.imports.readers import Table


class CellError(Exception):
    """A cell that cannot be used; the message is the reason shown to the user."""


@dataclass(frozen=True)
class RowError:
    """One reason a row (or, with `row` None, the whole file) was refused."""

    row: int | None
    column: str | None
    value: str | None
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "value": self.value, "reason": self.reason}


class RowErrors:
    """The errors of one import, in row order, with the rows they refused."""

    def __init__(self) -> None:
        self.items: list[RowError] = []
        self.refused_rows: set[int] = set()

    def add(self, row: int | None, column: str | None, value: str | None, reason: str) -> None:
        self.items.append(RowError(row, column, value, reason))
        if row is not None:
            self.refused_rows.add(row)

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[RowError]:
        return iter(self.items)

    def sorted(self, headers: Sequence[str] = ()) -> list[RowError]:
        """By row, then by the column's place in the file (errors of a whole row first)."""
        place = {header: index for index, header in reversed(list(enumerate(headers)))}

        def key(error: RowError) -> tuple[int, int, str]:
            column = error.column or ""
            return (error.row or 0, place.get(column, -1 if not column else len(place)), column)

        return sorted(self.items, key=key)


# --- Headers -------------------------------------------------------------------------------


@dataclass
class MappedTable:
    """A table whose headers were matched to one kind's columns."""

    table: Table
    kind: str
    positions: dict[str, int]  # column key → position in the table
    headers: dict[str, str]  # column key → the header as written in the file

    def has(self, key: str) -> bool:
        return key in self.positions

    def values(self, key: str) -> list[str | None]:
        """The cells of one column, or Nones when the file does not have it."""
        position = self.positions.get(key)
        if position is None:
            return [None] * len(self.table)
        return self.table.columns[position]

    def header(self, key: str) -> str:
        if key in self.headers:
            return self.headers[key]
        column = next(column for column in COLUMNS[self.kind] if column.key == key)
        return column.chinese


def header_matcher(kind: str):  # type: ignore[no-untyped-def]
    """A predicate telling a header row (≥ 2 known headers) from a title row."""
    index = header_index(kind)

    def is_header(cells: list[str | None]) -> bool:
        return sum(1 for cell in cells if cell and normalise(cell) in index) >= 2

    return is_header


def map_headers(table: Table, kind: str, errors: RowErrors) -> tuple[MappedTable, list[str], bool]:
    """Match the file's headers to the kind's columns. Missing required columns, and one
    column given twice, are errors of the file (the third value, usable, is then False);
    unknown headers are warnings (ignored)."""
    index = header_index(kind)
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    warnings: list[str] = []
    usable = True
    for position, header in enumerate(table.headers):
        if not header:
            if any(value is not None for value in table.columns[position]):
                warnings.append(
                    _("Column %(number)d has no header; its values were ignored.")
                    % {"number": position + 1}
                )
            continue
        column = index.get(normalise(header))
        if column is None:
            warnings.append(
                _("Column %(header)r is not known; it was ignored.") % {"header": header}
            )
            continue
        if column.key in positions:
            errors.add(
                table.header_row,
                header,
                header,
                _("Columns %(first)r and %(second)r both give %(column)s.")
                % {"first": headers[column.key], "second": header, "column": column.chinese},
            )
            usable = False
            continue
        positions[column.key] = position
        headers[column.key] = header
    missing = [
        column for column in COLUMNS[kind] if column.required and column.key not in positions
    ]
    if missing:
        names = ", ".join(f"{column.chinese} ({column.english})" for column in missing)
        errors.add(
            table.header_row,
            None,
            None,
            _("Required columns are missing: %(names)s.") % {"names": names},
        )
        usable = False
    for row_number, extra in table.overflow.items():
        errors.add(
            row_number,
            None,
            ", ".join(cell or "" for cell in extra),
            _(
                "This row has %(cells)d cells more than the header has columns; a value that "
                "holds a comma must be in quotes."
            )
            % {"cells": len(extra)},
        )
    return MappedTable(table, kind, positions, headers), warnings, usable


def required_columns(kind: str) -> Sequence[Column]:
    return [column for column in COLUMNS[kind] if column.required]


# --- Cell parsers ----------------------------------------------------------------------------


def parse_text(value: str, *, max_length: int | None) -> str:
    if max_length is not None and len(value) > max_length:
        raise CellError(
            _("Longer than %(max)d characters (%(length)d).")
            % {"max": max_length, "length": len(value)}
        )
    return value


def max_length_of(model: type[models.Model], field_name: str) -> int | None:
    return model._meta.get_field(field_name).max_length  # type: ignore[union-attr]


_NUMBER_JUNK = re.compile(r"[,\s¥￥$]|元$|RMB", re.IGNORECASE)


class DecimalParser:
    """Numbers like 1234.5, 1,234.50, ¥1,234.50, １２３ (full width); cached by text."""

    def __init__(
        self,
        *,
        places: int,
        minimum: Decimal | None = None,
        minimum_exclusive: bool = False,
        maximum: Decimal | None = None,
        round_half_up: bool = False,
    ) -> None:
        self.exponent = Decimal(1).scaleb(-places)
        self.places = places
        self.minimum = minimum
        self.minimum_exclusive = minimum_exclusive
        self.maximum = maximum
        self.round_half_up = round_half_up
        self.cache: dict[str, Decimal | str] = {}

    def __call__(self, value: str) -> Decimal:
        cached = self.cache.get(value)
        if cached is None:
            cached = self._parse(value)
            self.cache[value] = cached
        if isinstance(cached, str):
            raise CellError(cached)
        return cached

    def _parse(self, value: str) -> Decimal | str:
        text = _NUMBER_JUNK.sub("", unicodedata.normalize("NFKC", value))
        try:
            number = Decimal(text)
        except InvalidOperation:
            return _("Not a number.")
        if not number.is_finite():
            return _("Not a number.")
        if self.round_half_up:
            number = number.quantize(self.exponent, rounding=ROUND_HALF_UP)
        elif number != number.quantize(self.exponent, rounding=ROUND_HALF_UP):
            return _("More than %(places)d decimal places.") % {"places": self.places}
        else:
            number = number.quantize(self.exponent)
        if self.minimum is not None:
            if self.minimum_exclusive and number <= self.minimum:
                return _("Must be more than %(minimum)s.") % {"minimum": self.minimum}
            if not self.minimum_exclusive and number < self.minimum:
                return _("Must not be less than %(minimum)s.") % {"minimum": self.minimum}
        if self.maximum is not None and number > self.maximum:
            return _("Must not be more than %(maximum)s.") % {"maximum": self.maximum}
        return number


MONEY_MAXIMUM = Decimal("9999999999999999.99")


def money_parser(*, positive: bool = False) -> DecimalParser:
    """Amounts in yuan, rounded half-up to cents (ADR 0002); ≥ 0, or > 0 when `positive`."""
    return DecimalParser(
        places=2,
        minimum=Decimal(0),
        minimum_exclusive=positive,
        maximum=MONEY_MAXIMUM,
        round_half_up=True,
    )


def parse_whole_number(value: str, *, minimum: int, maximum: int) -> int:
    text = unicodedata.normalize("NFKC", value).replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise CellError(_("Not a whole number.")) from None
    if not number.is_finite() or number != number.to_integral_value():
        raise CellError(_("Not a whole number."))
    if not minimum <= number <= maximum:
        raise CellError(
            _("Must be between %(minimum)d and %(maximum)d.")
            % {"minimum": minimum, "maximum": maximum}
        )
    return int(number)


class ShareParser:
    """A discount: the share taken off, as 0.1, 10% or 9折 (pay 90%, i.e. 10% off)."""

    def __init__(self) -> None:
        self.decimal = DecimalParser(places=4, minimum=Decimal(0), maximum=Decimal(1))
        self.cache: dict[str, Decimal] = {}

    def __call__(self, value: str) -> Decimal:
        cached = self.cache.get(value)
        if cached is not None:
            return cached
        text = unicodedata.normalize("NFKC", value).replace(" ", "")
        try:
            if text.endswith("%"):
                share = self.decimal(str(Decimal(text[:-1]) / 100))
            elif text.endswith("折"):
                paid = Decimal(text[:-1])
                paid = paid / 10 if paid < 10 else paid / 100  # 9折 or 95折
                share = self.decimal(str(1 - paid))
            else:
                share = self.decimal(text)
        except (InvalidOperation, CellError):
            raise CellError(
                # xgettext:no-python-format
                _("A discount is the share taken off, between 0 and 1: 0.1, 10% or 9折.")
            ) from None
        self.cache[value] = share
        return share


# Excel's day zero for serial dates (1900 system, after its leap-year bug).
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_DATE_PATTERNS = (
    re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)
_SERIAL = re.compile(r"(\d{5})(?:\.0+)?")


class DateParser:
    """Dates as 2024-03-05, 2024/3/5, 2024.3.5, 2024年3月5日, 20240305, an Excel date cell
    (2024-03-05 00:00:00) or an Excel serial number (45356). Cached by text."""

    def __init__(self, *, not_after: dt.date | None = None) -> None:
        self.not_after = not_after
        self.cache: dict[str, dt.date | str] = {}

    def __call__(self, value: str) -> dt.date:
        cached = self.cache.get(value)
        if cached is None:
            cached = self._parse(value)
            self.cache[value] = cached
        if isinstance(cached, str):
            raise CellError(cached)
        return cached

    def _parse(self, value: str) -> dt.date | str:
        text = unicodedata.normalize("NFKC", value).strip()
        date: dt.date | None = None
        for pattern in _DATE_PATTERNS:
            match = pattern.fullmatch(text)
            if match:
                year, month, day = (int(part) for part in match.groups())
                try:
                    date = dt.date(year, month, day)
                except ValueError:
                    return _("Not a date in the calendar.")
                break
        else:
            match = _SERIAL.fullmatch(text)
            if match:
                date = _EXCEL_EPOCH + dt.timedelta(days=int(match.group(1)))
        if date is None:
            return _("Not a date; write it as 2024-03-05.")
        if self.not_after is not None and date > self.not_after:
            return _("The date is in the future.")
        return date


class ChoiceParser:
    """One of a TextChoices: its stored value, its Chinese or English label, or a common word."""

    def __init__(
        self, choices: type[models.TextChoices], *, exclude: frozenset[str] = frozenset()
    ) -> None:
        self.words = {
            word: value for word, value in choice_words(choices).items() if value not in exclude
        }
        self.choices = choices
        self.exclude = exclude

    def __call__(self, value: str) -> str:
        found = self.words.get(normalise(value))
        if found is None:
            hint = choice_hint(self.choices, exclude=self.exclude)
            raise CellError(_("Not one of: %(choices)s.") % {"choices": hint})
        return found


_TRUE = {"是", "yes", "y", "true", "1", "√", "✓", "对", "t"}
_FALSE = {"否", "no", "n", "false", "0", "×", "x", "不", "f"}


def parse_boolean(value: str) -> bool:
    word = normalise(value)
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise CellError(_("Not yes or no (是/否)."))


def parse_email(value: str) -> str:
    try:
        validate_email(value)
    except ValidationError:
        raise CellError(_("Not an e-mail address.")) from None
    return value


_TAG_SEPARATORS = re.compile(r"[,，、;；|]")


def parse_tags(value: str, *, max_length: int) -> list[str]:
    tags = []
    for part in _TAG_SEPARATORS.split(value):
        name = part.strip()
        if not name:
            continue
        if len(name) > max_length:
            raise CellError(
                _("The tag %(tag)r is longer than %(max)d characters.")
                % {"tag": name, "max": max_length}
            )
        if name not in tags:
            tags.append(name)
    return tags


_MONTH_DAY = (
    re.compile(r"(\d{1,2})[-/.](\d{1,2})"),
    re.compile(r"(\d{1,2})月(\d{1,2})日?"),
)


def parse_birthday(value: str) -> tuple[int | None, int, int]:
    """(year or None, month, day) from a full date or a month and day."""
    text = unicodedata.normalize("NFKC", value).strip()
    for pattern in _MONTH_DAY:
        match = pattern.fullmatch(text)
        if match:
            month, day = int(match.group(1)), int(match.group(2))
            if not (1 <= month <= 12 and 1 <= day <= 31):
                raise CellError(_("Not a month and day."))
            return None, month, day
    date = DateParser()(text)
    return date.year, date.month, date.day


def duplicates(keys: Sequence[object], row_numbers: Sequence[int]) -> dict[object, list[int]]:
    """Keys that occur on more than one row → the rows."""
    seen: dict[object, list[int]] = {}
    for key, row_number in zip(keys, row_numbers, strict=True):
        if key is None:
            continue
        seen.setdefault(key, []).append(row_number)
    return {key: rows for key, rows in seen.items() if len(rows) > 1}


def chunks(items: Sequence, size: int) -> Iterator[Sequence]:  # type: ignore[type-arg]
    for start in range(0, len(items), size):
        yield items[start : start + size]
