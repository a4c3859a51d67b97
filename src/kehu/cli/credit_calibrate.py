"""`kehu credit calibrate`: learn a scorecard from past customers (a file or the ledger).

Bad input (a missing or unreadable file, an unknown column, a bad value that never occurs,
too few rows or bads, an empty column) prints what is wrong and exits with code 2.

With --from-history --propose it proposes points for the rating template's indicators instead
(credit/calibration/proposal.py); --accept --as-user USERNAME then stores them as a new template
version in force (finance, top management or an administrator; a refusal is logged and exits 2).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from kehu.credit.calibration.proposal import Proposal
    from kehu.credit.calibration.scorecard import Calibration

BAD_INPUT = 2


def _fail(message: str) -> typer.Exit:
    Console(stderr=True).print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code=BAD_INPUT)


def calibrate(
    data: Annotated[
        Path | None, typer.Option("--data", help="a .csv or .xlsx of past customers")
    ] = None,
    target: Annotated[str | None, typer.Option("--target", help="the outcome column")] = None,
    bad: Annotated[
        str | None, typer.Option("--bad", help="the target's value for a bad customer")
    ] = None,
    from_history: Annotated[
        bool, typer.Option("--from-history", help="learn from the company's own ledger instead")
    ] = False,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="with --from-history: end of the outcome year, YYYY-MM-DD"),
    ] = None,
    exclude: Annotated[
        str, typer.Option("--exclude", help="columns to leave out, comma separated")
    ] = "",
    min_iv: Annotated[
        float, typer.Option("--min-iv", help="drop attributes with a lower IV")
    ] = 0.02,
    seed: Annotated[int, typer.Option("--seed", help="seed of the splits")] = 0,
    test_share: Annotated[float, typer.Option("--test-share", help="share of rows held out")] = 0.3,
    pdo: Annotated[float, typer.Option("--pdo", help="points to double the odds")] = 20.0,
    base_score: Annotated[
        float, typer.Option("--base-score", help="score at the base odds")
    ] = 600.0,
    base_odds: Annotated[
        float, typer.Option("--base-odds", help="good:bad odds at the base score")
    ] = 50.0,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of tables")] = False,
    propose: Annotated[
        bool,
        typer.Option(
            "--propose", help="with --from-history: propose points for the template's indicators"
        ),
    ] = False,
    accept: Annotated[
        bool,
        typer.Option("--accept", help="with --propose: put the proposal in force as a new version"),
    ] = False,
    as_user: Annotated[
        str | None, typer.Option("--as-user", help="with --accept: the user accepting (USERNAME)")
    ] = None,
) -> None:
    """Learn a scorecard: bins, weight of evidence, IV, logistic fit, points, AUC/KS/Gini.

    Points: factor = pdo / ln 2, offset = base score − factor · ln(base odds); a bin earns
    −(β·WoE + α/n)·factor + offset/n, with WoE = ln(%good / %bad): more points, less risk.
    """
    from kehu.cli.main import setup_django

    setup_django()
    from kehu.credit.calibration.scorecard import CalibrationRefused, Scaling
    from kehu.credit.calibration.scorecard import calibrate as learn

    if propose or accept:
        _propose(
            from_history=from_history,
            data=data,
            as_of=as_of,
            min_iv=min_iv,
            accept=accept,
            propose=propose,
            as_user=as_user,
            as_json=as_json,
        )
        return
    try:
        frame, is_bad, source = _training_data(
            data=data,
            target=target,
            bad=bad,
            from_history=from_history,
            as_of=as_of,
            exclude=tuple(name.strip() for name in exclude.split(",") if name.strip()),
        )
        scaling = Scaling(pdo=pdo, base_score=base_score, base_odds=base_odds)
        result = learn(
            frame, is_bad, scaling=scaling, min_iv=min_iv, test_share=test_share, seed=seed
        )
    except CalibrationRefused as error:
        raise _fail(error.message) from error
    payload = {**result.as_dict(), "source": source}
    if as_json:
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    _print_report(result, source)


def _training_data(
    *,
    data: Path | None,
    target: str | None,
    bad: str | None,
    from_history: bool,
    as_of: str | None,
    exclude: tuple[str, ...],
) -> tuple[Any, Any, dict[str, Any]]:
    from django.utils.translation import gettext as _

    from kehu.credit.calibration.scorecard import CalibrationRefused

    if from_history == (data is not None):
        raise CalibrationRefused(
            _("Give either --data FILE (with --target and --bad) or --from-history.")
        )
    if data is not None:
        from kehu.credit.calibration.files import training_data_from_file

        if not target or bad is None:
            raise CalibrationRefused(_("--data needs --target COLUMN and --bad VALUE."))
        loaded = training_data_from_file(data, target=target, bad=bad, exclude=exclude)
        source = {
            "file": str(data),
            "target": target,
            "bad": bad,
            "excluded": list(exclude),
            "rows_without_target": loaded.rows_without_target,
            "identifiers_left_out": loaded.identifiers,
        }
        return loaded.frame, loaded.is_bad, source
    return _history_data(as_of)


def _history_data(as_of: str | None) -> tuple[Any, Any, dict[str, Any]]:
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from kehu.credit.calibration.history import (
        IDENTIFIERS,
        TARGET,
        HistoryWindows,
        history_training_table,
    )
    from kehu.credit.calibration.scorecard import CalibrationRefused

    try:
        date = dt.date.fromisoformat(as_of) if as_of else timezone.localdate()
    except ValueError as error:
        raise CalibrationRefused(
            _("--as-of %(date)r is not a date (YYYY-MM-DD)") % {"date": as_of}
        ) from error
    windows = HistoryWindows.ending(date)
    table = history_training_table(as_of=date)
    # What the ledger does not hold (no orders, no industry on any card) is left out, not refused.
    empty = [
        name for name in table.columns if table.height and table[name].null_count() == table.height
    ]
    source = {
        "history": {
            "as_of": date.isoformat(),
            "observed_on": windows.observed_on.isoformat(),
            "customers": table.height,
        },
        "empty_attributes_left_out": empty,
    }
    attributes = table.drop(*IDENTIFIERS, TARGET, *empty)
    return attributes, table.get_column(TARGET).to_numpy(), source


def _propose(
    *,
    from_history: bool,
    data: Path | None,
    as_of: str | None,
    min_iv: float,
    propose: bool,
    accept: bool,
    as_user: str | None,
    as_json: bool,
) -> None:
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from kehu.accounts.models import User
    from kehu.core.errors import KehuError
    from kehu.credit.calibration.proposal import (
        scorecard_proposal_accept,
        scorecard_proposal_from_history,
    )
    from kehu.credit.events import refusals_logged

    if not propose:
        raise _fail(_("--accept needs --propose."))
    if not from_history or data is not None:
        raise _fail(_("--propose needs --from-history (and no --data)."))
    if accept and not as_user:
        raise _fail(_("--accept needs --as-user USERNAME: the user accepting the proposal."))
    actor = None
    if accept:
        actor = User.objects.filter(username=as_user).first()
        if actor is None:
            raise _fail(_("No user with the username %(name)r.") % {"name": as_user})
    try:
        date = dt.date.fromisoformat(as_of) if as_of else timezone.localdate()
    except ValueError as error:
        raise _fail(_("--as-of %(date)r is not a date (YYYY-MM-DD)") % {"date": as_of}) from error
    try:
        proposal = scorecard_proposal_from_history(as_of=date, min_iv=min_iv)
    except KehuError as error:
        raise _fail(error.message) from error
    accepted: dict[str, Any] | None = None
    if accept:
        try:
            with refusals_logged(action="scorecard_proposal_accept", actor=actor):
                template = scorecard_proposal_accept(definition=proposal.definition, actor=actor)
        except KehuError as error:
            raise _fail(error.message) from error
        accepted = {"template": template.pk, "code": template.code, "version": template.version}
    if as_json:
        payload = {"proposal": proposal.as_dict(), "accepted": accepted}
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    _print_proposal(proposal, accepted)


def _bands_text(mapping: dict[str, Any]) -> str:
    from kehu.credit.scorecard import mapping_in_words

    return "\n".join(mapping_in_words(mapping))


def _print_proposal(proposal: Proposal, accepted: dict[str, Any] | None) -> None:
    console = Console()
    console.print(
        f"[bold]Proposal[/bold] from the ledger as of {proposal.as_of:%Y-%m-%d} (observed on "
        f"{proposal.observed_on:%Y-%m-%d}): {proposal.rows:,} customers, {proposal.bads:,} bad "
        f"({proposal.bad_rate:.1%}); held out AUC {proposal.holdout_auc:.3f}, KS "
        f"{proposal.holdout_ks:.3f}, Gini {proposal.holdout_gini:.3f}; 5-fold CV AUC "
        f"{proposal.cv_auc_mean:.3f} ± {proposal.cv_auc_std:.3f}. Base template: "
        f"{proposal.base_template or 'Kehu default'}.",
        highlight=False,
    )
    table = Table(title="Indicators (points unchanged; mapping proposed)")
    for column in ("indicator", "points", "now", "proposed", "IV", "IV share"):
        table.add_column(
            column, justify="right" if column in ("points", "IV", "IV share") else "left"
        )
    for item in proposal.indicators:
        table.add_row(
            f"{item.code}\n{item.name_en or item.name}",
            str(item.points),
            _bands_text(item.current_mapping),
            _bands_text(item.proposed_mapping),
            f"{item.iv:.3f}",
            f"{item.iv_share:.1%}",
        )
    console.print(table)
    for left in proposal.left_out:
        iv = "–" if left.iv is None else f"{left.iv:.3f}"
        console.print(f"Left out {left.attribute} (IV {iv}): {left.reason}", highlight=False)
    for warning in proposal.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    if accepted is not None:
        console.print(
            f"[green]Accepted:[/green] {accepted['code']} v{accepted['version']} is now in force.",
            highlight=False,
        )
    else:
        console.print("Nothing changed: add --accept --as-user USERNAME to put it in force.")


def _print_report(result: Calibration, source: dict[str, Any]) -> None:
    console = Console()
    scaling = result.scaling
    console.print(
        f"[bold]Scorecard[/bold] from {source.get('file') or 'the ledger'}: {result.rows:,} rows, "
        f"{result.bads:,} bad ({result.bad_rate:.1%}); fitted on {result.train_rows:,}, "
        f"held out {result.holdout_rows:,}. Points: {scaling.base_score:g} at odds "
        f"{scaling.base_odds:g}:1, +{scaling.pdo:g} each time the odds double.",
        highlight=False,
    )
    for attribute in result.attributes:
        table = Table(
            title=f"{attribute.name} ({attribute.kind}) "
            f"IV {attribute.iv:.3f}, β {attribute.coefficient:.3f}"
        )
        for column in ("bin", "count", "bad rate", "WoE", "points"):
            table.add_column(column, justify="left" if column == "bin" else "right")
        for item in attribute.bins:
            rate = "–" if item.bad_rate is None else f"{item.bad_rate:.1%}"
            table.add_row(
                item.label, f"{item.count:,}", rate, f"{item.woe:.3f}", f"{item.points:.1f}"
            )
        console.print(table)
    for dropped in result.dropped:
        console.print(
            f"Dropped {dropped.name}: IV {dropped.iv:.4f} ({dropped.reason}).", highlight=False
        )
    for name in source.get("empty_attributes_left_out", []):
        console.print(f"Left out {name}: empty for every customer.", highlight=False)
    for name in source.get("identifiers_left_out", []):
        console.print(f"Left out {name}: every value differs (an identifier?).", highlight=False)
    metrics = Table(title="Discrimination")
    for column in ("", "AUC", "KS", "Gini"):
        metrics.add_column(column, justify="right")
    holdout, folds = result.holdout, result.cross_validation
    metrics.add_row("held out", f"{holdout.auc:.3f}", f"{holdout.ks:.3f}", f"{holdout.gini:.3f}")
    metrics.add_row(
        "5-fold CV",
        f"{folds.auc_mean:.3f} ± {folds.auc_std:.3f}",
        f"{folds.ks_mean:.3f}",
        f"{folds.gini_mean:.3f}",
    )
    console.print(metrics)
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)


def register_calibrate(credit_app: typer.Typer) -> None:
    """Add `calibrate` to a `credit` command group."""
    credit_app.command("calibrate")(calibrate)
