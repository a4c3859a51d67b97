"""The lifetime-value report (§4.6) as an .xlsx workbook, shared by the page's export button
and `kehu value lifetime --out FILE.xlsx`: the figures, the purchase models compared on the
holdout weeks, and the customers given (those the user may see), in constant memory."""

from __future__ import annotations

from typing import Any, BinaryIO

import xlsxwriter
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kehu.value.lifetime import LifetimeReport
from kehu.value.models import CustomerValue, PyramidClass

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def lifetime_workbook(
    output: BinaryIO, *, report: LifetimeReport, rows: QuerySet[CustomerValue]
) -> None:
    """Three sheets: the figures, the models compared, the customers (as given)."""
    workbook = xlsxwriter.Workbook(output, {"constant_memory": True})
    bold = workbook.add_format({"bold": True, "bg_color": "#EEF0F4", "bottom": 1})
    money = workbook.add_format({"num_format": "#,##0.00"})
    share = workbook.add_format({"num_format": "0.00%"})
    number = workbook.add_format({"num_format": "0.0000"})
    plain = workbook.add_format({"num_format": "#,##0.00"})
    sheet = workbook.add_worksheet(_("Lifetime value"))
    sheet.set_column(0, 0, 44)
    sheet.set_column(1, 1, 24)
    figures: list[tuple[str, Any, Any]] = [
        (_("Period"), report.snapshot.period, None),
        (_("Purchase model"), report.model_label, None),
        (_("Model from"), report.model_source, None),
        (_("Horizon (years)"), report.horizon_years, None),
        (_("Yearly discount rate"), report.discount_rate, share),
        (_("Customers who have bought"), report.customers, None),
        (_("Of them, bought again"), report.repeat_customers, None),
        (_("Customers with a lifetime value"), report.customers_valued, None),
        (_("Total lifetime value"), report.total_value, money),
        (_("Average lifetime value"), report.average_value, money),
        (_("Customers likely lost (P(alive) < 50%)"), report.likely_lost, None),
        (_("Expected purchases, next 12 months"), report.expected_purchases, plain),
        (_("Yearly retention the model implies"), report.retention_implied, share),
        (_("Message"), report.message, None),
    ]
    for line, (label, value, style) in enumerate(figures):
        sheet.write_string(line, 0, str(label), bold)
        if value is None or value == "":
            continue
        if isinstance(value, str):
            sheet.write_string(line, 1, value)
        else:
            sheet.write_number(line, 1, float(value), style)
    models = workbook.add_worksheet(_("Models"))
    header = [
        _("Model"),
        _("In use"),
        _("Converged"),
        _("Log-likelihood"),
        _("AIC"),
        _("BIC"),
        _("Holdout error per customer (RMSE)"),
        _("Holdout error per group (MAE)"),
        _("Holdout purchases, actual"),
        _("Holdout purchases, predicted"),
        _("Parameters"),
    ]
    models.set_column(0, 2, 12)
    models.set_column(3, 9, 18)
    models.set_column(10, 10, 60)
    for column, title in enumerate(header):
        models.write_string(0, column, str(title), bold)
    for line, item in enumerate(report.models, start=1):
        models.write_string(line, 0, item.label)
        models.write_string(line, 1, _("yes") if item.is_in_use else "")
        models.write_string(line, 2, _("yes") if item.converged else _("no"))
        for column, value in enumerate(
            (
                item.log_likelihood,
                item.aic,
                item.bic,
                item.holdout_customer_rmse,
                item.holdout_group_mae,
                item.holdout_actual_total,
                item.holdout_predicted_total,
            ),
            start=3,
        ):
            if value is not None:
                models.write_number(line, column, value, number)
        models.write_string(
            line, 10, ", ".join(f"{name} = {value:.6g}" for name, value in item.parameters)
        )
    customers = workbook.add_worksheet(_("Customers"))
    header = [
        _("Code"),
        _("Name"),
        _("Class"),
        _("Lifetime value"),
        _("Probability alive"),
        _("Expected purchases, next 12 months"),
        _("Expected spend per purchase"),
    ]
    customers.set_column(0, 0, 16)
    customers.set_column(1, 1, 36)
    customers.set_column(2, 6, 18)
    for column, title in enumerate(header):
        customers.write_string(0, column, str(title), bold)
    customers.freeze_panes(1, 2)
    labels = dict(PyramidClass.choices)
    for line, row in enumerate(rows.iterator(chunk_size=2000), start=1):
        customers.write_string(line, 0, row.customer.code)
        customers.write_string(line, 1, row.customer.name)
        customers.write_string(line, 2, str(labels.get(row.pyramid_class, row.pyramid_class)))
        for column, value, style in (
            (3, row.lifetime_value, money),
            (4, row.probability_alive, share),
            (5, row.expected_purchases, number),
            (6, row.expected_spend, money),
        ):
            if value is not None:
                customers.write_number(line, column, float(value), style)
    workbook.close()
