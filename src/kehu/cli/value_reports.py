"""`kehu value …`: the value reports of a stored snapshot at the command line — the pyramid, the
concentration of value (80/20, Gini, whale curve), the value matrix, the loss-makers and the class
migration between two periods. Each prints a table, or with `--json` what the API answers, and
with `--out FILE.xlsx` writes the same workbook as the page's export button.

Who is asking: the command line runs on the server, for someone who can read the database anyway,
so it sees every customer. `--as-user NAME` shows a report as that user would see it (a rep's
own customers, a manager's subtree).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from kehu.accounts.models import User
    from kehu.value.models import ValueSnapshot

value_app = typer.Typer(
    help="Value reports of a stored snapshot: pyramid, concentration, matrix, loss-makers, "
    "migration.",
    no_args_is_help=True,
)

SnapshotOption = Annotated[
    int | None, typer.Option("--snapshot", help="the snapshot's number; default: the latest")
]
PeriodOption = Annotated[
    str | None,
    typer.Option("--period", help="the latest finished snapshot of this period, e.g. 2026Q3"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="print what the API answers, as JSON")]
OutOption = Annotated[
    Path | None, typer.Option("--out", help="also write the report as .xlsx to this file")
]
AsUserOption = Annotated[
    str | None,
    typer.Option("--as-user", help="show only what this user may see (USERNAME)"),
]


def _fail(message: str) -> typer.Exit:
    Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code=1)


def _setup() -> None:
    from kehu.cli.main import setup_django

    setup_django()


def _viewer(as_user: str | None) -> User:
    """The user the report is made for: the named one, or an unsaved administrator that sees
    every customer (the command line's own view)."""
    from django.utils.translation import gettext as _

    from kehu.accounts.models import Role, User

    if as_user is None:
        return User(
            username="command-line", role=Role.ADMINISTRATOR, is_superuser=True, is_active=True
        )
    user = User.objects.filter(username=as_user).first()
    if user is None:
        raise _fail(_("No user with the username %(name)r.") % {"name": as_user})
    if not user.is_active:
        raise _fail(_("The user %(name)r is not active.") % {"name": as_user})
    return user


def _snapshot(snapshot_id: int | None, period: str | None) -> ValueSnapshot:
    from django.utils.translation import gettext as _

    from kehu.core.errors import NotFound
    from kehu.value.report_figures import snapshot_choices, snapshot_for_report

    if snapshot_id is not None and period is not None:
        raise _fail(_("Give --snapshot or --period, not both."))
    if period is not None:
        snapshot = snapshot_choices().filter(period=period.strip().upper()).first()
        if snapshot is None:
            raise _fail(
                _("No finished value snapshot of %(period)s: compute it with “%(command)s”.")
                % {"period": period, "command": f"kehu analyze --period {period}"}
            )
        return snapshot
    try:
        return snapshot_for_report(snapshot_id)
    except NotFound as error:
        raise _fail(str(error)) from error


def _check_out(out: Path | None) -> None:
    """Refuse a bad --out before any work is done."""
    if out is None:
        return
    from django.utils.translation import gettext as _

    if out.suffix.lower() != ".xlsx":
        raise _fail(_("--out must name an .xlsx file, not %(name)s") % {"name": out.name})
    if not out.parent.is_dir():
        raise _fail(_("The folder %(name)s does not exist.") % {"name": out.parent})


def _write(out: Path | None, writer: Any, **arguments: Any) -> None:
    """Write the workbook through `writer` into `out`, whole or not at all."""
    if out is None:
        return
    from django.utils.translation import gettext as _

    partial = out.with_name(f".{out.name}.part")
    try:
        with partial.open("wb") as output:
            writer(output, **arguments)
        partial.replace(out)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise _fail(
            _("Cannot write %(name)s: %(reason)s") % {"name": out, "reason": error.strerror}
        ) from error
    Console(stderr=True).print(_("Written: %(name)s") % {"name": out}, highlight=False)


def _print_json(schema: Any, report: Any) -> None:
    """The report as the API answers it: the same schema and the same JSON encoder."""
    from ninja.responses import NinjaJSONEncoder

    payload = schema.model_validate(report).model_dump()
    typer.echo(json.dumps(payload, cls=NinjaJSONEncoder, ensure_ascii=False, indent=2))


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _amount(value: Any) -> str:
    return f"{value:,.2f}"


def pyramid(
    snapshot: SnapshotOption = None,
    period: PeriodOption = None,
    as_json: JsonOption = False,
    out: OutOption = None,
    as_user: AsUserOption = None,
) -> None:
    """The customer pyramid: customers, value and shares per class (VIP, major, ordinary, small,
    inactive, prospects)."""
    _setup()
    from django.utils.translation import gettext as _

    from kehu.value.exports import pyramid_workbook
    from kehu.value.report_figures import pyramid_customers, pyramid_report
    from kehu.value.schemas import PyramidOut

    _check_out(out)
    user = _viewer(as_user)
    chosen = _snapshot(snapshot, period)
    report = pyramid_report(user=user, snapshot=chosen)
    if as_json:
        _print_json(PyramidOut, report)
    else:
        table = Table(title=_("Customer pyramid %(period)s") % {"period": chosen.period})
        for title in (_("Class"), _("Customers"), _("Share of customers")):
            table.add_column(title, justify="left" if title == _("Class") else "right")
        table.add_column(report.measure_label, justify="right")
        table.add_column(_("Share of value"), justify="right")
        for item in report.classes:
            table.add_row(
                item.label,
                f"{item.count:,}",
                _percent(item.customer_share),
                _amount(item.value),
                _percent(item.value_share),
            )
        Console().print(table)
    rows = pyramid_customers(user=user, snapshot=chosen).select_related("customer")
    _write(out, pyramid_workbook, snapshot=chosen, report=report, rows=rows)


def concentration(
    snapshot: SnapshotOption = None,
    period: PeriodOption = None,
    measure: Annotated[
        str | None,
        typer.Option(
            "--measure", help="revenue, gross_profit or net_profit; default: the snapshot's"
        ),
    ] = None,
    as_json: JsonOption = False,
    out: OutOption = None,
    as_user: AsUserOption = None,
) -> None:
    """The concentration of value: the top 20%'s share, the smallest share of customers giving
    80%, the Gini coefficient and, for profit, the whale curve's peak and the tail's loss."""
    _setup()
    from django.utils.translation import gettext as _

    from kehu.core.errors import KehuError
    from kehu.value.exports import concentration_workbook
    from kehu.value.report_figures import concentration_report, concentration_rows
    from kehu.value.schemas import ConcentrationOut

    _check_out(out)
    user = _viewer(as_user)
    chosen = _snapshot(snapshot, period)
    try:
        report = concentration_report(snapshot=chosen, measure=measure or chosen.measure)
    except KehuError as error:
        raise _fail(str(error)) from error
    if as_json:
        _print_json(ConcentrationOut, report)
    else:
        table = Table(
            title=_("Concentration of %(measure)s, %(period)s")
            % {"measure": report.measure_label, "period": chosen.period}
        )
        table.add_column("")
        table.add_column("", justify="right")
        table.add_row(_("Customers"), f"{report.count:,}")
        table.add_row(_("Share of the top fifth of customers (20%)"), _percent(report.top_share))
        table.add_row(
            _("Smallest share of customers giving 80%"), _percent(report.customers_for_target)
        )
        table.add_row(_("Gini coefficient"), "–" if report.gini is None else f"{report.gini:.3f}")
        if report.whale is not None:
            table.add_row(_("Peak of the whale curve"), _amount(report.whale.peak))
            table.add_row(
                _("Peak as a share of the total profit"), _percent(report.whale.peak_share)
            )
            table.add_row(_("Customers up to the peak"), f"{report.whale.peak_customers:,}")
            table.add_row(
                _("What the customers after the peak lose"), _amount(report.whale.tail_loss)
            )
        Console().print(table)
    if out is not None:
        rows = concentration_rows(
            user=user, snapshot=chosen, measure=report.measure, total=report.total
        )
        _write(out, concentration_workbook, snapshot=chosen, report=report, rows=rows)


def matrix(
    snapshot: SnapshotOption = None,
    period: PeriodOption = None,
    quadrant: Annotated[
        str, typer.Option("--quadrant", help="core, risk, growth or marginal (for --out)")
    ] = "",
    as_json: JsonOption = False,
    out: OutOption = None,
    as_user: AsUserOption = None,
) -> None:
    """The value matrix (volume × loyalty): customers, revenue and profit per quadrant, with what
    to do about each."""
    _setup()
    from django.utils.translation import gettext as _

    from kehu.core.errors import KehuError
    from kehu.value.exports import matrix_workbook
    from kehu.value.report_figures import matrix_customers, matrix_report
    from kehu.value.schemas import MatrixOut

    _check_out(out)
    user = _viewer(as_user)
    chosen = _snapshot(snapshot, period)
    report = matrix_report(user=user, snapshot=chosen)
    try:
        rows = matrix_customers(user=user, snapshot=chosen, quadrant=quadrant)
    except KehuError as error:
        raise _fail(str(error)) from error
    if as_json:
        _print_json(
            MatrixOut, {**report.__dict__, "customers_total": rows.count(), "customers": []}
        )
    else:
        table = Table(title=_("Value matrix %(period)s") % {"period": chosen.period})
        for title in (_("Quadrant"), _("Customers"), _("Revenue"), _("Net profit")):
            table.add_column(title, justify="left" if title == _("Quadrant") else "right")
        table.add_column(_("What to do"), overflow="fold")
        for item in report.quadrants:
            table.add_row(
                item.label,
                f"{item.count:,}",
                _amount(item.revenue),
                _amount(item.net_profit),
                item.advice,
            )
        Console().print(table)
    _write(out, matrix_workbook, report=report, rows=rows)


def loss_makers(
    snapshot: SnapshotOption = None,
    period: PeriodOption = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="how many customers to print, worst first")
    ] = 20,
    as_json: JsonOption = False,
    out: OutOption = None,
    as_user: AsUserOption = None,
) -> None:
    """The customers who lose money after the cost to serve, worst first, with the reason."""
    _setup()
    from django.utils.translation import gettext as _

    from kehu.value.exports import profitability_workbook
    from kehu.value.report_figures import (
        loss_reason,
        profitability_customers,
        profitability_report,
    )

    _check_out(out)
    user = _viewer(as_user)
    chosen = _snapshot(snapshot, period)
    report = profitability_report(user=user, snapshot=chosen)
    rows = profitability_customers(user=user, snapshot=chosen)
    worst = list(rows[:limit])
    if as_json:
        payload = {
            "snapshot": chosen.pk,
            "period": chosen.period,
            "customer_count": report.customer_count,
            "loss_count": report.loss_count,
            "loss_total": str(report.loss_total),
            "loss_revenue_share": report.loss_revenue_share,
            "components": {field: str(total) for field, _label, total in report.components},
            "customers": [
                {
                    "code": row.customer.code,
                    "name": row.customer.name,
                    "revenue": str(row.revenue),
                    "gross_profit": str(row.gross_profit),
                    "cost_to_serve": str(row.cost_to_serve),
                    "net_profit": str(row.net_profit),
                    "reason": loss_reason(row),
                }
                for row in worst
            ],
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        console = Console()
        console.print(
            _(
                "%(count)s of %(total)s customers lose money after the cost to serve: "
                "%(loss)s together, %(share)s of the revenue."
            )
            % {
                "count": f"{report.loss_count:,}",
                "total": f"{report.customer_count:,}",
                "loss": _amount(report.loss_total),
                "share": _percent(report.loss_revenue_share),
            },
            highlight=False,
        )
        table = Table(title=_("Loss-makers %(period)s") % {"period": chosen.period})
        table.add_column(_("Code"))
        table.add_column(_("Name"), overflow="fold")
        for title in (_("Revenue"), _("Gross profit"), _("Cost to serve"), _("Net profit")):
            table.add_column(title, justify="right")
        table.add_column(_("Reason"), overflow="fold")
        for row in worst:
            table.add_row(
                row.customer.code,
                row.customer.name,
                _amount(row.revenue),
                _amount(row.gross_profit),
                _amount(row.cost_to_serve),
                _amount(row.net_profit),
                loss_reason(row),
            )
        console.print(table)
    _write(out, profitability_workbook, rows=rows)


def migration(
    source: Annotated[
        int | None, typer.Option("--from", help="the earlier snapshot's number")
    ] = None,
    target: Annotated[int | None, typer.Option("--to", help="the later snapshot's number")] = None,
    dimension: Annotated[
        str,
        typer.Option("--dimension", help="money_class, pyramid_class or quadrant"),
    ] = "money_class",
    as_json: JsonOption = False,
    out: OutOption = None,
    as_user: AsUserOption = None,
) -> None:
    """Who moved between classes from one snapshot to another (default: the latest two periods):
    the transition matrix and the movements up, down, new and gone."""
    _setup()
    from django.utils.translation import gettext as _

    from kehu.core.errors import KehuError
    from kehu.value.exports import migration_workbook, movement_labels
    from kehu.value.migration import (
        class_label,
        class_migration,
        class_migration_customers,
        default_snapshot_pair,
    )
    from kehu.value.report_figures import snapshot_choices

    _check_out(out)
    user = _viewer(as_user)
    if (source is None) != (target is None):
        raise _fail(_("Give both --from and --to, or neither."))
    if source is not None and target is not None:
        pair = [snapshot_choices().filter(pk=number).first() for number in (source, target)]
        for number, found in zip((source, target), pair, strict=True):
            if found is None:
                raise _fail(
                    _("Value snapshot %(number)s does not exist or did not finish.")
                    % {"number": number}
                )
        snapshot_from, snapshot_to = pair[0], pair[1]
    else:
        default = default_snapshot_pair()
        if default is None:
            raise _fail(
                _("Two finished value snapshots are needed: run “kehu analyze” for two periods.")
            )
        snapshot_from, snapshot_to = default
    assert snapshot_from is not None
    assert snapshot_to is not None
    try:
        result = class_migration(
            user=user, snapshot_from=snapshot_from, snapshot_to=snapshot_to, dimension=dimension
        )
    except KehuError as error:
        raise _fail(str(error)) from error
    labels = movement_labels()
    if as_json:
        payload = {
            "from": {"snapshot": snapshot_from.pk, "period": snapshot_from.period},
            "to": {"snapshot": snapshot_to.pk, "period": snapshot_to.period},
            "dimension": dimension,
            "cells": [
                {
                    "from": line.key,
                    "to": target_key,
                    "count": cell.count,
                    "revenue": str(cell.revenue),
                }
                for line in result.rows
                for target_key in result.targets
                if (cell := result.cell(line.key, target_key)) is not None
            ],
            "movements": [
                {
                    "movement": item.key,
                    "count": item.count,
                    "share": item.share,
                    "revenue": str(item.revenue),
                }
                for item in result.movements
            ],
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        console = Console()
        table = Table(title=f"{snapshot_from.period} → {snapshot_to.period}")
        table.add_column("")
        for target_key in result.targets:
            table.add_column(class_label(dimension, target_key), justify="right")
        for line in result.rows:
            cells = [result.cell(line.key, target_key) for target_key in result.targets]
            table.add_row(
                class_label(dimension, line.key),
                *(f"{cell.count:,}" if cell is not None else "0" for cell in cells),
            )
        console.print(table)
        moves = Table(title=_("Movements"))
        for title in (_("Movement"), _("Customers"), _("Share"), _("Revenue")):
            moves.add_column(title, justify="left" if title == _("Movement") else "right")
        for item in result.movements:
            moves.add_row(
                labels[item.key], f"{item.count:,}", _percent(item.share), _amount(item.revenue)
            )
        console.print(moves)
    if out is not None:
        customers = class_migration_customers(
            user=user, snapshot_from=snapshot_from, snapshot_to=snapshot_to, dimension=dimension
        )
        _write(
            out,
            migration_workbook,
            matrix=result,
            snapshot_from=snapshot_from,
            snapshot_to=snapshot_to,
            customers=customers,
        )


def register(app: typer.Typer) -> None:
    value_app.command("pyramid")(pyramid)
    value_app.command("concentration")(concentration)
    value_app.command("matrix")(matrix)
    value_app.command("loss-makers")(loss_makers)
    value_app.command("migration")(migration)
    from kehu.cli.value_lifetime import lifetime

    value_app.command("lifetime")(lifetime)
    from kehu.cli.value_segments import segments

    value_app.command("segments")(segments)
    app.add_typer(value_app, name="value")
