"""The error report of an import, as .xlsx.

Sheet one holds the refused rows as they were in the file, with the file's own headers, and two
more columns: the reasons and the row number in the original file. The user can correct the
rows there and import the sheet again (the two extra columns are ignored). Sheet two lists every
error as row, column, value and reason, including errors of the file as a whole.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

import xlsxwriter
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from kehu.imports.models import ImportRun
from kehu.imports.services import ImportResult

REASONS_HEADER = "错误原因 Reasons"
ROW_HEADER = "原行号 Row"


def write_error_report(result: ImportResult, target: Path | str | BinaryIO) -> None:
    """Write the report of `result` to a path or a binary file object."""
    destination = str(target) if isinstance(target, Path) else target
    workbook = xlsxwriter.Workbook(destination, {"in_memory": True, "strings_to_numbers": False})
    try:
        _write(workbook, result)
    finally:
        workbook.close()


def _write(workbook: xlsxwriter.Workbook, result: ImportResult) -> None:
    bold = workbook.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1})
    reason_format = workbook.add_format({"font_color": "#C00000", "text_wrap": True})
    reasons_by_row: dict[int, list[str]] = {}
    for error in result.errors:
        if error.row is not None:
            where = f"{error.column}: " if error.column else ""
            reasons_by_row.setdefault(error.row, []).append(where + error.reason)

    rows_sheet = workbook.add_worksheet(_("Refused rows"))
    headers = [*result.headers, REASONS_HEADER, ROW_HEADER]
    for column, header in enumerate(headers):
        rows_sheet.write_string(0, column, header, bold)
    rows_sheet.freeze_panes(1, 0)
    line = 1
    for row_number in sorted(result.refused_rows):
        cells = result.refused_rows[row_number]
        for column, value in enumerate(cells):
            if value is not None:
                rows_sheet.write_string(line, column, value)
        reasons = "\n".join(reasons_by_row.get(row_number, []))
        rows_sheet.write_string(line, len(result.headers), reasons, reason_format)
        rows_sheet.write_number(line, len(result.headers) + 1, row_number)
        line += 1
    rows_sheet.set_column(0, max(len(result.headers) - 1, 0), 14)
    rows_sheet.set_column(len(result.headers), len(result.headers), 60)

    errors_sheet = workbook.add_worksheet(_("Errors"))
    for column, header in enumerate(("行号 Row", "列 Column", "值 Value", "原因 Reason")):
        errors_sheet.write_string(0, column, header, bold)
    errors_sheet.freeze_panes(1, 0)
    for line, error in enumerate(result.errors, start=1):
        if error.row is not None:
            errors_sheet.write_number(line, 0, error.row)
        errors_sheet.write_string(line, 1, error.column or "")
        errors_sheet.write_string(line, 2, error.value or "")
        errors_sheet.write_string(line, 3, error.reason)
    errors_sheet.set_column(0, 0, 8)
    errors_sheet.set_column(1, 2, 18)
    errors_sheet.set_column(3, 3, 80)


def error_report_bytes(result: ImportResult) -> bytes:
    buffer = io.BytesIO()
    write_error_report(result, buffer)
    return buffer.getvalue()


def error_report_store(*, result: ImportResult) -> str | None:
    """Keep the report of an import with errors in the file storage, for the upload page's
    download link; returns its name (also recorded in the ImportRun's summary)."""
    if not result.errors or not result.run_id:
        return None
    name = default_storage.save(
        f"imports/{result.run_id}/errors.xlsx", ContentFile(error_report_bytes(result))
    )
    run = ImportRun.objects.get(pk=result.run_id)
    run.summary = {**run.summary, "error_report": name}
    run.save(update_fields=["summary"])
    return name
