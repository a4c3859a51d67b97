"""What every kind of import shares: the context, the counts, the plan and progress."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.utils.translation import gettext as _

from kehu.imports.validation import CellError, MappedTable, RowErrors

if TYPE_CHECKING:
    from kehu.accounts.models import User

ProgressCallback = Callable[[str, int, "int | None"], None]

# How many rows between two progress reports while checking.
REPORT_EVERY = 5_000


class Progress:
    """Reports (stage, done, total) to a callback, at most every few thousand rows."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self.callback = callback
        self.stage = ""
        self.done = 0
        self.total: int | None = None

    def start(self, stage: str, total: int | None) -> None:
        self.stage, self.done, self.total = stage, 0, total
        self._report()

    def advance(self, amount: int = 1) -> None:
        self.done += amount
        self._report()

    def finish(self) -> None:
        if self.total is not None:
            self.done = self.total
        self._report()

    def _report(self) -> None:
        if self.callback is not None:
            self.callback(self.stage, self.done, self.total)


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "refused": self.refused,
        }


@dataclass
class Context:
    actor: User | None
    progress: Progress
    today: dt.date
    now: dt.datetime
    file_name: str = ""


@dataclass
class Plan:
    """What checking a file found. `write` performs the writes of the good rows; it runs in
    the import's transaction and only when the import may write."""

    counts: dict[str, Counts]
    write: Callable[[], None] = lambda: None
    warnings: list[str] = field(default_factory=list)


def query_chunk_size() -> int:
    """How many values an IN (…) may hold: SQLite allows 32,766 bound values, PostgreSQL more."""
    return 5_000 if connection.vendor == "sqlite" else 20_000


def in_chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    items = list(values)
    size = query_chunk_size()
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Cells:
    """Parses the cells of one row into values, recording each bad cell as an error."""

    def __init__(self, mapped: MappedTable, errors: RowErrors) -> None:
        self.mapped = mapped
        self.errors = errors
        self.row_number = 0
        self.is_bad = False

    def at(self, row_number: int) -> Cells:
        self.row_number = row_number
        self.is_bad = False
        return self

    def parse(
        self, key: str, value: str | None, parse: Callable[[str], Any], *, required: bool = False
    ) -> Any:
        """The parsed value, or None for an empty cell (an error when `required`) or a bad
        one."""
        if value is None:
            if required:
                self.fail(key, None, _("Required; the cell is empty."))
            return None
        try:
            return parse(value)
        except CellError as error:
            self.fail(key, value, str(error))
            return None

    def fail(self, key: str, value: str | None, reason: str) -> None:
        self.errors.add(self.row_number, self.mapped.header(key), value, reason)
        self.is_bad = True


def parse_column(
    mapped: MappedTable,
    errors: RowErrors,
    key: str,
    parse: Callable[[str], Any],
    *,
    required: bool = False,
) -> list[Any]:
    """Parse a whole column: each distinct text once, then one dictionary lookup per row (the
    fast path for large files). Returns the values, None for an empty or a bad cell; bad cells,
    and empty cells of a required column, are recorded as errors."""
    values = mapped.values(key)
    if not mapped.has(key):
        return values
    results: dict[str | None, Any] = {None: None}
    failed: dict[str, str] = {}
    for text in set(values):
        if text is None:
            continue
        try:
            results[text] = parse(text)
        except CellError as error:
            results[text] = None
            failed[text] = str(error)
    parsed = [results[value] for value in values]
    header = mapped.header(key)
    row_numbers = mapped.table.row_numbers
    if failed:
        for index, value in enumerate(values):
            if value in failed:
                errors.add(row_numbers[index], header, value, failed[value])
    if required:
        reason = _("Required; the cell is empty.")
        for index in [index for index, value in enumerate(values) if value is None]:
            errors.add(row_numbers[index], header, None, reason)
    return parsed


def flag_duplicates(
    mapped: MappedTable,
    errors: RowErrors,
    keys: Sequence[Any],
    *,
    column: str,
    label: Callable[[Any], str],
) -> None:
    """Every row whose key occurs on more than one row is refused, naming the other rows."""
    seen: dict[Any, list[int]] = {}
    for key, row_number in zip(keys, mapped.table.row_numbers, strict=True):
        if key is not None:
            seen.setdefault(key, []).append(row_number)
    values = mapped.values(column)
    position = {row: index for index, row in enumerate(mapped.table.row_numbers)}
    for key, rows in seen.items():
        if len(rows) < 2:
            continue
        listed = ", ".join(str(row) for row in rows)
        for row_number in rows:
            errors.add(
                row_number,
                mapped.header(column),
                values[position[row_number]],
                _("%(key)s appears on rows %(rows)s; keep one.")
                % {"key": label(key), "rows": listed},
            )
