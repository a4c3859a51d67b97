"""`kehu value segments`: the segment worksheet 市场细分作业单 (§4.7) at the command line — per
product line its best customers, its worst customers (with the reasons) and the open next
actions. A table per line, or with `--json` what the API answers; `--out FILE.xlsx` writes the
same workbook as the page's export button. Like the other `kehu value` reports it sees every
customer unless `--as-user NAME` says whose view to take.
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
    _check_out,
    _fail,
    _print_json,
    _setup,
    _snapshot,
    _viewer,
    _write,
)

LineOption = Annotated[
    str | None,
    typer.Option("--line", help="one product line, by its code or name (e.g. PKG)"),
]


def _line_id(line: str | None) -> int | None:
    if line is None:
        return None
    from django.db.models import Q
    from django.utils.translation import gettext as _

    from kehu.value.segments import segment_lines

    wanted = line.strip()
    found = segment_lines().filter(Q(code__iexact=wanted) | Q(name__iexact=wanted)).first()
    if found is None:
        known = ", ".join(f"{item.code} ({item.name})" for item in segment_lines())
        raise _fail(
            _("No product line %(line)r. The lines: %(known)s") % {"line": line, "known": known}
        )
    return found.pk


def _amount(value: object) -> str:
    return f"{value:,.2f}"


def segments(
    period: PeriodOption = None,
    snapshot: SnapshotOption = None,
    line: LineOption = None,
    as_json: JsonOption = False,
    out: OutOption = None,
    as_user: AsUserOption = None,
) -> None:
    """The segment worksheet: per product line, its best and worst customers and the next
    action."""
    _setup()
    from django.utils.translation import gettext as _

    from kehu.value.schemas import SegmentsOut
    from kehu.value.segments import segment_worksheet, segments_workbook

    _check_out(out)
    user = _viewer(as_user)
    chosen = _snapshot(snapshot, period)
    worksheet = segment_worksheet(user=user, snapshot=chosen, line_id=_line_id(line))
    if as_json:
        _print_json(SegmentsOut, worksheet)
    else:
        console = Console()
        console.print(
            _("Segment worksheet %(period)s (%(start)s – %(end)s)")
            % {
                "period": chosen.period,
                "start": chosen.window_start.isoformat(),
                "end": chosen.window_end.isoformat(),
            },
            highlight=False,
        )
        for segment in worksheet.segments:
            _print_segment(console, segment)
    _write(out, segments_workbook, worksheet=worksheet)


def _print_segment(console: Console, segment) -> None:  # type: ignore[no-untyped-def]
    from django.utils.translation import gettext as _

    table = Table(
        title=_(
            "%(code)s %(name)s: %(customers)s customers, revenue %(revenue)s, "
            "gross profit %(gross)s"
        )
        % {
            "code": segment.code,
            "name": segment.name,
            "customers": f"{segment.customer_count:,}",
            "revenue": _amount(segment.revenue),
            "gross": _amount(segment.gross_profit),
        },
        title_justify="left",
    )
    table.add_column("")
    table.add_column(_("Code"))
    table.add_column(_("Name"), overflow="fold")
    table.add_column(_("Gross profit in the line"), justify="right")
    table.add_column(_("Net profit"), justify="right")
    table.add_column(_("Why"), overflow="fold")
    for row in segment.best:
        table.add_row(
            _("best"),
            row.code,
            row.name,
            _amount(row.line_gross_profit),
            _amount(row.net_profit),
            "; ".join(row.evidence),
        )
    for row in segment.worst:
        table.add_row(
            _("worst"),
            row.code,
            row.name,
            _amount(row.line_gross_profit),
            _amount(row.net_profit),
            "; ".join(reason.text for reason in row.reasons),
            style="red",
        )
    if segment.customer_count:
        console.print(table)
    else:
        console.print(
            f"[bold]{segment.code} {segment.name}[/bold]: "
            + _("no customer bought in this line in the window."),
            highlight=False,
        )
    if segment.actions:
        for action in segment.actions:
            about = f" ({action.customer.code})" if action.customer else ""
            console.print(
                f"  → {action.due_on.isoformat()} {action.owner}: {action.text}{about}",
                highlight=False,
            )
    else:
        console.print(
            "  → " + _("No open next action. Suggested: %(text)s") % {"text": segment.suggestion},
            highlight=False,
        )
