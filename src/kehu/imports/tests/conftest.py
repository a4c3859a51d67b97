"""Helpers for the import tests: files written on the spot (CSV in any encoding, .xlsx through
xlsxwriter), messages in English whatever the default language, and the database's counts."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path

import pytest
import xlsxwriter
from django.utils import translation

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def write_csv(path: Path, rows: Sequence[Sequence[object]], *, encoding: str = "utf-8") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: Sequence[Sequence[object]], *, first_row: int = 0) -> Path:
    """Rows from sheet row `first_row` (0-based); dates become real Excel date cells."""
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("数据")
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for offset, row in enumerate(rows):
        for column, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, dt.date):
                sheet.write_datetime(
                    first_row + offset,
                    column,
                    dt.datetime(value.year, value.month, value.day),
                    date_format,
                )
            else:
                sheet.write(first_row + offset, column, value)
    workbook.close()
    return path


@pytest.fixture
def csv_file(tmp_path):
    counter = iter(range(1000))

    def make(rows, *, encoding="utf-8", name=None):
        return write_csv(tmp_path / (name or f"file{next(counter)}.csv"), rows, encoding=encoding)

    return make


@pytest.fixture
def xlsx_file(tmp_path):
    counter = iter(range(1000))

    def make(rows, *, first_row=0, name=None):
        return write_xlsx(
            tmp_path / (name or f"file{next(counter)}.xlsx"), rows, first_row=first_row
        )

    return make


def error_tuples(result) -> list[tuple[object, ...]]:
    return [(error.row, error.column, error.value, error.reason) for error in result.errors]


def counts(result) -> dict[str, dict[str, int]]:
    return {name: value.as_dict() for name, value in result.counts.items()}
