"""Reading import files into a table of text cells, with the row numbers the user sees.

.xlsx (and .xls) go through fastexcel into polars with every column read as text; .csv is
decoded as UTF-8 (with or without a byte-order mark), UTF-16 with a byte-order mark, or
GB18030 (which covers GBK and GB2312), and split by the standard csv module so that quoted
fields, blank lines and ragged rows are seen as the user wrote them. Every cell comes out as a
stripped string or None; parsing the text into dates, amounts and choices is the row parsers'
job (validation.py), so that every mistake can be reported with its row, column and value.

The header is the first row, among the first ten, that holds at least two known headers (a
title row above the header is common in Chinese spreadsheets); row numbers count from the top
of the sheet or file, header included, as Excel shows them.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from django.utils.translation import gettext as _

HEADER_SEARCH_ROWS = 10
_SPACE = " \t\r\n\u3000\u00a0\ufeff"


class FileRefused(Exception):
    """The file as a whole cannot be read; the message says why, for the user."""


@dataclass
class Table:
    """A sheet as text. `columns[i][k]` is the cell of header `headers[i]` on `row_numbers[k]`."""

    headers: list[str]
    columns: list[list[str | None]]
    row_numbers: list[int]
    header_row: int = 1
    encoding: str = ""
    format: str = ""
    # CSV rows with more cells than the header has names: row number → the extra cells.
    overflow: dict[int, list[str | None]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.row_numbers)

    def row(self, index: int) -> list[str | None]:
        return [column[index] for column in self.columns]


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip(_SPACE)
    return text or None


def read_table(path: Path, *, is_header: Callable[[list[str | None]], bool]) -> Table:
    """Read a .xlsx/.xls or .csv file. `is_header` tells a header row from a title row."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            start = handle.read(8)
    except OSError as error:
        raise FileRefused(_("The file cannot be opened: %(error)s") % {"error": error}) from error
    if start.startswith(b"PK\x03\x04") or start.startswith(b"\xd0\xcf\x11\xe0"):
        return _read_excel(path, is_header=is_header)
    if path.suffix.lower() in {".xlsx", ".xlsm", ".xls"}:
        raise FileRefused(_("The file is named like an Excel workbook but is not one."))
    return _read_csv(path, is_header=is_header)


def _pick_header(
    rows: list[list[str | None]], is_header: Callable[[list[str | None]], bool]
) -> int:
    """Index of the header among the first rows: the first that `is_header` accepts, else the
    first non-empty row (so that missing columns are reported against what the user wrote)."""
    first_filled = None
    for index, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if not any(cells):
            continue
        if first_filled is None:
            first_filled = index
        if is_header(cells):
            return index
    if first_filled is None:
        raise FileRefused(_("The file holds no rows."))
    return first_filled


def _headers(cells: list[str | None]) -> list[str]:
    return [cell or "" for cell in cells]


# --- Excel -------------------------------------------------------------------------------


def _read_excel(path: Path, *, is_header: Callable[[list[str | None]], bool]) -> Table:
    import fastexcel

    try:
        reader = fastexcel.read_excel(str(path))
        sheet_name = reader.sheet_names[0]
        sheet = reader.load_sheet(0, header_row=None, dtypes="string")
        frame = sheet.to_polars()
    except Exception as error:  # fastexcel raises its own hierarchy for broken workbooks
        raise FileRefused(
            _("The workbook cannot be read: %(error)s") % {"error": str(error).splitlines()[0]}
        ) from error
    if frame.height == 0:
        raise FileRefused(_("The first sheet holds no rows."))
    raw_columns = [frame.get_column(name).to_list() for name in frame.columns]
    head = [
        [_clean(column[index]) for column in raw_columns]
        for index in range(min(frame.height, HEADER_SEARCH_ROWS))
    ]
    header_at = _pick_header(head, is_header)
    first_row = _first_row_number(path, sheet_name)
    headers = _headers(head[header_at])
    cleaned = [_clean_column(raw[header_at + 1 :]) for raw in raw_columns]
    keep = [index for index, cells in enumerate(zip(*cleaned, strict=True)) if any(cells)]
    width = len(headers)
    while width and not headers[width - 1] and not any(cleaned[width - 1]):
        width -= 1
    columns = [[values[index] for index in keep] for values in cleaned[:width]]
    return Table(
        headers=headers[:width],
        columns=columns,
        row_numbers=[first_row + header_at + 1 + index for index in keep],
        header_row=first_row + header_at,
        format="xlsx",
    )


_CELL_ROW = re.compile(r"[A-Z]+(\d+)$")
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELATIONSHIP = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def _first_row_number(path: Path, sheet_name: str) -> int:
    """The sheet row (1-based) of the first cell with a value: fastexcel starts its table
    there, so this turns table positions into the row numbers Excel shows. 1 when unknown
    (.xls, or an unusual workbook)."""
    try:
        with zipfile.ZipFile(path) as archive:
            target = _sheet_part(archive, sheet_name)
            if target is None:
                return 1
            with archive.open(target) as part:
                # Python's expat (≥ 2.4) refuses entity expansion bombs and ElementTree never
                # fetches external entities, so the stdlib parser is safe for workbooks.
                for _event, element in ElementTree.iterparse(part):  # noqa: S314
                    if element.tag == f"{_MAIN}c" and (
                        element.find(f"{_MAIN}v") is not None
                        or element.find(f"{_MAIN}is") is not None
                    ):
                        match = _CELL_ROW.match(element.get("r", ""))
                        return int(match.group(1)) if match else 1
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError):
        return 1
    return 1


def _sheet_part(archive: zipfile.ZipFile, sheet_name: str) -> str | None:
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))  # noqa: S314
    relationships = ElementTree.fromstring(  # noqa: S314
        archive.read("xl/_rels/workbook.xml.rels")
    )
    targets = {item.get("Id"): item.get("Target", "") for item in relationships}
    for sheet in workbook.iter(f"{_MAIN}sheet"):
        if sheet.get("name") == sheet_name:
            target = targets.get(sheet.get(_RELATIONSHIP), "")
            target = target.lstrip("/")
            return target if target.startswith("xl/") else f"xl/{target}"
    return None


# --- CSV ---------------------------------------------------------------------------------


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode a text file: UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as error:
            raise FileRefused(
                _("The file starts as UTF-8 but is not valid UTF-8 at byte %(position)d.")
                % {"position": error.start + len(codecs.BOM_UTF8)}
            ) from error
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as error:
            raise FileRefused(_("The file is not valid UTF-16 text.")) from error
    if b"\x00" in data[:4096]:
        raise FileRefused(_("The file is not a text (CSV) file nor an Excel workbook."))
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as error:
        raise FileRefused(
            _(
                "The file's encoding is neither UTF-8 nor GB18030 (GBK); save it as "
                '"CSV UTF-8" or as .xlsx.'
            )
        ) from error


def _delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    counts = {delimiter: first_line.count(delimiter) for delimiter in (",", "\t", ";")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _read_csv(path: Path, *, is_header: Callable[[list[str | None]], bool]) -> Table:
    text, encoding = decode_text(path.read_bytes())
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        # The csv reader counts records, which is what Excel shows as rows (a quoted line
        # break stays in its cell, a blank line is a blank row).
        records = list(reader)
    except csv.Error as error:
        raise FileRefused(
            _("The CSV file is malformed near row %(row)d: %(error)s")
            % {"row": reader.line_num, "error": error}
        ) from error
    del text
    head = [[_clean(cell) for cell in cells] for cells in records[:HEADER_SEARCH_ROWS]]
    header_at = _pick_header(head, is_header)
    headers = _headers(head[header_at])
    width = len(headers)
    while width and not headers[width - 1]:
        width -= 1
    headers = headers[:width]
    body = records[header_at + 1 :]
    del records
    first_row = header_at + 2
    raw_columns = list(itertools.zip_longest(*body, fillvalue="")) if body else []
    del body
    height = len(raw_columns[0]) if raw_columns else 0
    columns = [_clean_column(column) for column in raw_columns[:width]]
    columns += [[None] * height for _ in range(width - len(columns))]
    overflow: dict[int, list[str | None]] = {}
    extra = [_clean_column(column) for column in raw_columns[width:]]
    del raw_columns
    if extra:
        for index, cells in enumerate(zip(*extra, strict=True)):
            if any(cells):
                overflow[first_row + index] = list(cells)
    row_numbers = list(range(first_row, first_row + height))
    keep = [index for index, cells in enumerate(zip(*columns, strict=True)) if any(cells)]
    if len(keep) != len(row_numbers):
        columns = [[column[index] for index in keep] for column in columns]
        row_numbers = [row_numbers[index] for index in keep]
    return Table(
        headers=headers,
        columns=columns,
        row_numbers=row_numbers,
        header_row=header_at + 1,
        encoding=encoding,
        format="csv",
        overflow=overflow,
    )


def _clean_column(values: Sequence[str | None]) -> list[str | None]:
    """Strip every cell, empty → None; equal texts become one string object (memory)."""
    cleaned = {value: _clean(value) for value in set(values)}
    return [cleaned[value] for value in values]
