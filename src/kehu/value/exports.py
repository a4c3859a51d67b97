"""The value reports as .xlsx workbooks, shared by the pages' export buttons and `kehu value …
--out FILE.xlsx`. Each writer takes an open binary file and the report already computed for the
user (so the rows are the ones that user may see) and writes one workbook in constant memory."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

import xlsxwriter
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kehu.value.migration import DIMENSIONS, GONE, NEW, MigrationMatrix, class_label, movement
from kehu.value.models import CustomerValue, PyramidClass, Quadrant, ValueSnapshot
from kehu.value.report_figures import (
    COST_COMPONENTS,
    ConcentrationReport,
    ConcentrationRow,
    MatrixReport,
    PyramidReport,
    loss_reason,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK = 2000


@dataclass(frozen=True)
class Styles:
    bold: Any
    money: Any
    share: Any
    score: Any


def _open(output: BinaryIO) -> tuple[Any, Styles]:
    workbook = xlsxwriter.Workbook(output, {"constant_memory": True})
    styles = Styles(
        bold=workbook.add_format({"bold": True, "bg_color": "#EEF0F4", "bottom": 1}),
        money=workbook.add_format({"num_format": "#,##0.00"}),
        share=workbook.add_format({"num_format": "0.00%"}),
        score=workbook.add_format({"num_format": "0.0000"}),
    )
    return workbook, styles


def _header(sheet: Any, titles: Sequence[Any], style: Any) -> None:
    for column, title in enumerate(titles):
        sheet.write_string(0, column, str(title), style)


def _share(sheet: Any, line: int, column: int, value: float | None, style: Any) -> None:
    if value is not None:
        sheet.write_number(line, column, value, style)


def row_share(row: CustomerValue, measure: str, total: Any) -> float | None:
    value = getattr(row, measure)
    return float(value) / float(total) if total and total > 0 else None


def movement_labels() -> dict[str, str]:
    return {
        "up": _("Moved up"),
        "stay": _("Stayed"),
        "down": _("Moved down"),
        NEW: _("New"),
        GONE: _("Gone"),
    }


def pyramid_workbook(
    output: BinaryIO,
    *,
    snapshot: ValueSnapshot,
    report: PyramidReport,
    rows: QuerySet[CustomerValue],
) -> None:
    """The classes (count, value, shares) and the customers of `rows` with rank and share."""
    workbook, styles = _open(output)
    sheet = workbook.add_worksheet(_("Pyramid"))
    header = [
        _("Class"),
        _("Customers"),
        _("Share of customers"),
        report.measure_label,
        _("Share of value"),
        _("Customers you see"),
    ]
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, len(header), 16)
    _header(sheet, header, styles.bold)
    for line, item in enumerate(report.classes, start=1):
        sheet.write_string(line, 0, item.label)
        sheet.write_number(line, 1, item.count)
        _share(sheet, line, 2, item.customer_share, styles.share)
        sheet.write_number(line, 3, float(item.value), styles.money)
        _share(sheet, line, 4, item.value_share, styles.share)
        sheet.write_number(line, 5, item.visible_count)
    customers = workbook.add_worksheet(_("Customers"))
    customers.set_column(0, 1, 12)
    customers.set_column(2, 2, 16)
    customers.set_column(3, 3, 36)
    customers.set_column(4, 5, 16)
    _header(
        customers,
        [_("Class"), _("Rank"), _("Code"), _("Name"), report.measure_label, _("Share of value")],
        styles.bold,
    )
    customers.freeze_panes(1, 0)
    labels = dict(PyramidClass.choices)
    for line, row in enumerate(rows.iterator(chunk_size=CHUNK), start=1):
        value = getattr(row, snapshot.measure)
        customers.write_string(line, 0, str(labels.get(row.pyramid_class, row.pyramid_class)))
        if row.rank is not None:
            customers.write_number(line, 1, row.rank)
        customers.write_string(line, 2, row.customer.code)
        customers.write_string(line, 3, row.customer.name)
        customers.write_number(line, 4, float(value), styles.money)
        share = row_share(row, snapshot.measure, report.total_value)
        _share(customers, line, 5, share, styles.share)
    workbook.close()


def concentration_workbook(
    output: BinaryIO,
    *,
    snapshot: ValueSnapshot,
    report: ConcentrationReport,
    rows: Iterable[ConcentrationRow],
) -> None:
    """The 80/20 figures (and the whale curve's, for profit), and the customers ranked."""
    workbook, styles = _open(output)
    summary = workbook.add_worksheet(_("Concentration"))
    summary.set_column(0, 0, 44)
    summary.set_column(1, 1, 20)
    figures: list[tuple[str, Any, Any]] = [
        (_("Period"), snapshot.period, None),
        (_("Measure"), str(report.measure_label), None),
        (_("Customers"), report.count, None),
        (_("Total of the values above zero"), float(report.total), styles.money),
        (_("Share of the top fifth of customers (20%)"), report.top_share, styles.share),
        (_("Smallest share of customers giving 80%"), report.customers_for_target, styles.share),
        (_("Gini coefficient"), report.gini, None),
    ]
    if report.whale is not None:
        figures += [
            (_("Peak of the whale curve"), float(report.whale.peak), styles.money),
            (_("Customers up to the peak"), report.whale.peak_customers, None),
            (_("Peak as a share of the total profit"), report.whale.peak_share, styles.share),
            (
                _("What the customers after the peak lose"),
                float(report.whale.tail_loss),
                styles.money,
            ),
        ]
    for line, (label, value, style) in enumerate(figures):
        summary.write_string(line, 0, str(label), styles.bold)
        if value is None:
            continue
        if isinstance(value, str):
            summary.write_string(line, 1, value)
        else:
            summary.write_number(line, 1, value, style)
    customers = workbook.add_worksheet(_("Customers"))
    customers.set_column(0, 0, 10)
    customers.set_column(1, 1, 16)
    customers.set_column(2, 2, 36)
    customers.set_column(3, 6, 16)
    _header(
        customers,
        [
            _("Rank"),
            _("Code"),
            _("Name"),
            report.measure_label,
            _("Running total"),
            _("Share of customers"),
            _("Share of value"),
        ],
        styles.bold,
    )
    customers.freeze_panes(1, 0)
    for line, row in enumerate(rows, start=1):
        customers.write_number(line, 0, row.rank)
        customers.write_string(line, 1, row.code)
        customers.write_string(line, 2, row.name)
        customers.write_number(line, 3, float(row.value), styles.money)
        customers.write_number(line, 4, float(row.cumulative), styles.money)
        customers.write_number(line, 5, row.customer_share, styles.share)
        _share(customers, line, 6, row.value_share, styles.share)
    workbook.close()


def matrix_workbook(
    output: BinaryIO, *, report: MatrixReport, rows: QuerySet[CustomerValue]
) -> None:
    """The four quadrants with their advice and thresholds, and the customers of `rows`."""
    workbook, styles = _open(output)
    sheet = workbook.add_worksheet(_("Quadrants"))
    sheet.set_column(0, 0, 16)
    sheet.set_column(1, 6, 16)
    sheet.set_column(7, 7, 80)
    _header(
        sheet,
        [
            _("Quadrant"),
            _("Customers"),
            _("Share of customers"),
            _("Revenue"),
            _("Share of revenue"),
            _("Gross profit"),
            _("Net profit"),
            _("What to do"),
        ],
        styles.bold,
    )
    for line, item in enumerate(report.quadrants, start=1):
        sheet.write_string(line, 0, item.label)
        sheet.write_number(line, 1, item.count)
        _share(sheet, line, 2, item.customer_share, styles.share)
        sheet.write_number(line, 3, float(item.revenue), styles.money)
        _share(sheet, line, 4, item.revenue_share, styles.share)
        sheet.write_number(line, 5, float(item.gross_profit), styles.money)
        sheet.write_number(line, 6, float(item.net_profit), styles.money)
        sheet.write_string(line, 7, item.advice)
    line = len(report.quadrants) + 2
    sheet.write_string(line, 0, str(_("Volume threshold")))
    if report.volume_threshold is not None:
        sheet.write_number(line, 1, float(report.volume_threshold), styles.money)
    sheet.write_string(line, 2, report.volume_threshold_setting)
    sheet.write_string(line + 1, 0, str(_("Loyalty threshold")))
    sheet.write_number(line + 1, 1, float(report.loyalty_threshold), styles.score)
    customers = workbook.add_worksheet(_("Customers"))
    customers.set_column(0, 1, 14)
    customers.set_column(2, 2, 36)
    customers.set_column(3, 8, 16)
    _header(
        customers,
        [
            _("Quadrant"),
            _("Code"),
            _("Name"),
            _("Region"),
            _("Owner rep"),
            _("Revenue"),
            _("Loyalty"),
            _("Gross profit"),
            _("Net profit"),
        ],
        styles.bold,
    )
    customers.freeze_panes(1, 0)
    labels = dict(Quadrant.choices)
    for line, row in enumerate(rows.iterator(chunk_size=CHUNK), start=1):
        customer = row.customer
        customers.write_string(line, 0, str(labels.get(row.quadrant, row.quadrant)))
        customers.write_string(line, 1, customer.code)
        customers.write_string(line, 2, customer.name)
        customers.write_string(line, 3, customer.region.name if customer.region else "")
        customers.write_string(line, 4, str(customer.owner))
        customers.write_number(line, 5, float(row.revenue), styles.money)
        customers.write_number(line, 6, float(row.loyalty_score), styles.score)
        customers.write_number(line, 7, float(row.gross_profit), styles.money)
        customers.write_number(line, 8, float(row.net_profit), styles.money)
    workbook.close()


def profitability_workbook(output: BinaryIO, *, rows: QuerySet[CustomerValue]) -> None:
    """The customers of `rows` with every part of the cost to serve and the reason of a loss."""
    workbook, styles = _open(output)
    sheet = workbook.add_worksheet(_("Profitability"))
    header = [
        _("Code"),
        _("Name"),
        _("Region"),
        _("Owner rep"),
        _("Revenue"),
        _("Cost of goods"),
        _("Gross profit"),
        *(label for label in COST_COMPONENTS.values()),
        _("Cost to serve"),
        _("Net profit"),
        _("Reason"),
    ]
    sheet.set_column(0, 0, 14)
    sheet.set_column(1, 1, 36)
    sheet.set_column(2, len(header) - 2, 16)
    sheet.set_column(len(header) - 1, len(header) - 1, 40)
    _header(sheet, header, styles.bold)
    sheet.freeze_panes(1, 2)
    for line, row in enumerate(rows.iterator(chunk_size=CHUNK), start=1):
        customer = row.customer
        sheet.write_string(line, 0, customer.code)
        sheet.write_string(line, 1, customer.name)
        sheet.write_string(line, 2, customer.region.name if customer.region else "")
        sheet.write_string(line, 3, str(customer.owner))
        amounts = [
            row.revenue,
            row.cost_of_goods,
            row.gross_profit,
            *(getattr(row, field) for field in COST_COMPONENTS),
            row.cost_to_serve,
            row.net_profit,
        ]
        for offset, amount in enumerate(amounts):
            sheet.write_number(line, 4 + offset, float(amount), styles.money)
        sheet.write_string(line, 4 + len(amounts), loss_reason(row) if row.net_profit < 0 else "")
    workbook.close()


def migration_workbook(
    output: BinaryIO,
    *,
    matrix: MigrationMatrix,
    snapshot_from: ValueSnapshot,
    snapshot_to: ValueSnapshot,
    customers: Iterable[QuerySet[Any]],
) -> None:
    """The transition matrix (customers, and revenue), the movements, and the customers of the
    cells (`customers`: querysets from class_migration_customers)."""
    dimension = matrix.dimension
    workbook, styles = _open(output)
    period_from, period_to = snapshot_from.period, snapshot_to.period
    corner = f"{period_from} → {period_to}"
    for title, value_of, style in (
        (_("Customers"), lambda cell: cell.count, None),
        (_("Revenue"), lambda cell: float(cell.revenue), styles.money),
    ):
        sheet = workbook.add_worksheet(str(title))
        sheet.set_column(0, 0, 30)
        sheet.set_column(1, len(matrix.targets) + 1, 18)
        sheet.write_string(0, 0, corner, styles.bold)
        for column, target in enumerate(matrix.targets, start=1):
            sheet.write_string(0, column, class_label(dimension, target), styles.bold)
        sheet.write_string(0, len(matrix.targets) + 1, _("Total"), styles.bold)
        for line_number, line in enumerate(matrix.rows, start=1):
            sheet.write_string(line_number, 0, class_label(dimension, line.key), styles.bold)
            for column, target in enumerate(matrix.targets, start=1):
                cell = matrix.cell(line.key, target)
                value = value_of(cell) if cell is not None else 0
                sheet.write_number(line_number, column, value, style)
            total = line.count if style is None else float(line.revenue)
            sheet.write_number(line_number, len(matrix.targets) + 1, total, style)
        last = len(matrix.rows) + 1
        sheet.write_string(last, 0, _("Total"), styles.bold)
        for column, column_line in enumerate(matrix.columns, start=1):
            total = column_line.count if style is None else float(column_line.revenue)
            sheet.write_number(last, column, total, style)
        note = _(
            "Rows: class in %(from)s; columns: class in %(to)s. Revenue: in %(to)s, and in"
            " %(from)s for the customers gone."
        ) % {"from": period_from, "to": period_to}
        sheet.write_string(last + 2, 0, note)
    summary = workbook.add_worksheet(_("Movements"))
    summary.set_column(0, 0, 24)
    summary.set_column(1, 3, 18)
    _header(summary, (_("Movement"), _("Customers"), _("Share"), _("Revenue")), styles.bold)
    labels = movement_labels()
    for line_number, item in enumerate(matrix.movements, start=1):
        summary.write_string(line_number, 0, labels[item.key])
        summary.write_number(line_number, 1, item.count)
        _share(summary, line_number, 2, item.share, styles.share)
        summary.write_number(line_number, 3, float(item.revenue), styles.money)
    sheet = workbook.add_worksheet(_("Customers of the cells"))
    sheet.set_column(0, 0, 16)
    sheet.set_column(1, 1, 36)
    sheet.set_column(2, 4, 22)
    sheet.set_column(5, 6, 18)
    _header(
        sheet,
        (
            _("Code"),
            _("Name"),
            _("Class in %(period)s") % {"period": period_from},
            _("Class in %(period)s") % {"period": period_to},
            _("Movement"),
            _("Revenue in %(period)s") % {"period": period_from},
            _("Revenue in %(period)s") % {"period": period_to},
        ),
        styles.bold,
    )
    sheet.freeze_panes(1, 0)
    order = DIMENSIONS[dimension]
    line_number = 0
    for rows in customers:
        for row in rows.iterator(chunk_size=CHUNK):
            line_number += 1
            sheet.write_string(line_number, 0, row.customer.code)
            sheet.write_string(line_number, 1, row.customer.name)
            sheet.write_string(line_number, 2, class_label(dimension, row.source_class))
            sheet.write_string(line_number, 3, class_label(dimension, row.target_class))
            kind = movement(order=order, source=row.source_class, target=row.target_class)
            sheet.write_string(line_number, 4, labels[kind])
            sheet.write_number(line_number, 5, float(row.revenue_from), styles.money)
            sheet.write_number(line_number, 6, float(row.revenue_to), styles.money)
    workbook.close()
