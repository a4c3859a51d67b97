"""`kehu value lifetime`: the customer lifetime value of a stored snapshot (§4.6) — the key
figures, the purchase models compared on the holdout weeks, and optionally a retention what-if.
With `--json` it prints what GET /api/value/lifetime answers; with `--out FILE.xlsx` it writes
the page's export. Registered by `kehu.cli.value_reports.register`.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kehu.cli.value_reports import (
    AsUserOption,
    JsonOption,
    OutOption,
    PeriodOption,
    SnapshotOption,
    _fail,
    _print_json,
    _setup,
    _snapshot,
    _viewer,
    _write,
)


def _number(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def lifetime(
    snapshot: SnapshotOption = None,
    period: PeriodOption = None,
    retention_change: Annotated[
        float | None,
        typer.Option(
            "--retention-change",
            help="what a change in yearly retention is worth, in percentage points (e.g. 5)",
        ),
    ] = None,
    as_json: JsonOption = False,
    out: OutOption = None,
    as_user: AsUserOption = None,
) -> None:
    """Customer lifetime value: total and average, customers likely lost, and the purchase
    models (BG/NBD, MBG/NBD, Pareto/NBD) compared on the holdout weeks."""
    _setup()
    from django.utils.translation import gettext as _

    from kehu.core.errors import KehuError
    from kehu.value.exports_lifetime import lifetime_workbook
    from kehu.value.lifetime import (
        LifetimeFilters,
        lifetime_customers,
        lifetime_figures,
        lifetime_report,
        retention_change_parse,
        retention_what_if,
    )
    from kehu.value.schemas import LifetimeOut

    user = _viewer(as_user)
    chosen = _snapshot(snapshot, period)
    report = lifetime_report(user=user, snapshot=chosen)
    what_if = None
    if retention_change is not None:
        try:
            what_if = retention_what_if(
                chosen.parameters.get("lifetime"), retention_change_parse(retention_change)
            )
        except KehuError as error:
            raise _fail(str(error)) from error
    if as_json:
        _print_json(LifetimeOut, lifetime_figures(report, what_if))
    else:
        console = Console()
        figures = Table(title=_("Customer lifetime value %(period)s") % {"period": chosen.period})
        figures.add_column("")
        figures.add_column("", justify="right")
        if report.is_estimated:
            figures.add_row(_("Purchase model"), report.model_label)
            figures.add_row(
                _("Horizon, discount rate"),
                f"{report.horizon_years} · {report.discount_rate * 100:.1f}%",
            )
            figures.add_row(_("Total lifetime value"), f"{report.total_value:,.2f}")
            figures.add_row(_("Average lifetime value"), f"{report.average_value:,.2f}")
            figures.add_row(_("Customers with a lifetime value"), f"{report.customers_valued:,}")
            figures.add_row(
                _("Customers likely lost (P(alive) < 50%)"), f"{report.likely_lost or 0:,}"
            )
            figures.add_row(
                _("Expected purchases, next 12 months"), _number(report.expected_purchases, 0)
            )
            if report.retention_implied is not None:
                figures.add_row(
                    _("Yearly retention the model implies"),
                    f"{report.retention_implied * 100:.1f}%",
                )
        else:
            figures.add_row(_("Lifetime value"), _("not estimated"))
        console.print(figures)
        if report.message:
            console.print(report.message, highlight=False)
        if report.models:
            models = Table(
                title=_("Purchase models on the last %(weeks)s weeks held out")
                % {"weeks": report.holdout_weeks}
            )
            models.add_column(_("Model"))
            for title in (
                _("Log-likelihood"),
                _("BIC"),
                _("Holdout RMSE"),
                _("Predicted"),
                _("Actual"),
            ):
                models.add_column(title, justify="right")
            models.add_column(_("Parameters (days)"))
            for item in report.models:
                label = item.label + (" *" if item.is_in_use else "")
                if not item.converged:
                    label += " " + _("(did not converge)")
                models.add_row(
                    label,
                    _number(item.log_likelihood),
                    _number(item.bic),
                    _number(item.holdout_customer_rmse, 3),
                    _number(item.holdout_predicted_total, 0),
                    _number(item.holdout_actual_total, 0),
                    ", ".join(f"{name}={value:.4g}" for name, value in item.parameters),
                )
            console.print(models)
            console.print(_("* the model in use"), highlight=False)
        elif report.holdout.get("skipped"):
            console.print(
                _("No holdout check: %(reason)s") % {"reason": report.holdout["skipped"]},
                highlight=False,
            )
        if what_if is not None:
            console.print(
                _(
                    "Retention %(before).1f%% → %(after).1f%%: lifetime value %(without)s → "
                    "%(with)s (%(change)+.1f%%)"
                )
                % {
                    "before": what_if.retention * 100,
                    "after": what_if.retention_with * 100,
                    "without": f"{what_if.value_without:,.2f}",
                    "with": f"{what_if.value_with:,.2f}",
                    "change": (what_if.relative_change or 0) * 100,
                },
                highlight=False,
            )
    rows = lifetime_customers(user=user, snapshot=chosen, filters=LifetimeFilters())
    _write(out, lifetime_workbook, report=report, rows=rows)
