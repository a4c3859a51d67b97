"""`kehu clv` commands: lifetime-value summaries, model fits, predictions and comparisons.

These work on files (transactions or per-customer summaries), not on the ledger: they are how
our models are checked against published work (CDNOW) and against the `lifetimes` package.
"""

from __future__ import annotations

import datetime
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import numpy as np
import polars as pl
import typer
from rich.console import Console

clv_app = typer.Typer(
    help="Customer lifetime value: summaries, BG/NBD, MBG/NBD, Pareto/NBD and Gamma-Gamma.",
    no_args_is_help=True,
)
_console = Console(stderr=True)


class TransactionFormat(StrEnum):
    cdnow = "cdnow"
    csv = "csv"


class Unit(StrEnum):
    day = "day"
    week = "week"


class Model(StrEnum):
    bgnbd = "bgnbd"
    mbgnbd = "mbgnbd"
    pareto_nbd = "pareto_nbd"
    gamma_gamma = "gamma_gamma"


class PurchaseModel(StrEnum):
    bgnbd = "bgnbd"
    mbgnbd = "mbgnbd"
    pareto_nbd = "pareto_nbd"


class SpendModel(StrEnum):
    gamma_gamma = "gamma_gamma"


def register(app: typer.Typer) -> None:
    """Add the `clv` commands to the main app."""
    app.add_typer(clv_app, name="clv")


def _fail(message: str) -> typer.Exit:
    _console.print(f"[red]Error:[/red] {message}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(code=1)


def _date(option: str, value: str | None) -> datetime.date | None:
    if value is None:
        return None
    try:
        return datetime.date.fromisoformat(value.strip())
    except ValueError:
        raise _fail(f"{option}: {value!r} is not a date (YYYY-MM-DD)") from None


def _read_summary(path: Path, *, needs_monetary_value: bool) -> pl.DataFrame:
    from kehu.value.clv.summary import TransactionError, read_summary

    try:
        return read_summary(path, needs_monetary_value=needs_monetary_value)
    except TransactionError as error:
        raise _fail(str(error)) from None


@clv_app.command()
def summarize(
    transactions: Annotated[Path, typer.Option(help="Transactions file.")],
    calibration_end: Annotated[str, typer.Option(help="Last day of the calibration period.")],
    out: Annotated[Path, typer.Option(help="Where to write the summary CSV.")],
    format: Annotated[TransactionFormat, typer.Option(help="cdnow or csv.")] = (
        TransactionFormat.csv
    ),
    holdout_end: Annotated[
        str | None, typer.Option(help="Last day of the holdout period (adds holdout columns).")
    ] = None,
    unit: Annotated[Unit, typer.Option(help="Time unit of recency and T.")] = Unit.day,
    columns: Annotated[
        str, typer.Option(help="CSV columns holding customer id, date and amount, in that order.")
    ] = "customer_id,date,amount",
) -> None:
    """Per-customer frequency, recency, T and monetary value (and holdout frequency)."""
    from kehu.value.clv import summary as summaries

    calibration = _date("--calibration-end", calibration_end)
    holdout = _date("--holdout-end", holdout_end)
    names = tuple(name.strip() for name in columns.split(","))
    if len(names) != 3 or not all(names):
        raise _fail(f"--columns: expected three column names (id, date, amount), got {columns!r}")
    if not transactions.is_file():
        raise _fail(f"--transactions: {transactions} does not exist")
    try:
        with _console.status("Reading transactions…"):
            if format is TransactionFormat.cdnow:
                frame = summaries.read_cdnow(transactions)
            else:
                frame = summaries.read_csv(transactions, columns=names)  # type: ignore[arg-type]
        with _console.status(f"Summarising {frame.height:,} transactions…"):
            assert calibration is not None
            result = summaries.summarize(
                frame, calibration_end=calibration, holdout_end=holdout, unit=unit.value
            )
    except summaries.TransactionError as error:
        raise _fail(str(error)) from None
    result.write_csv(out)
    _console.print(f"{result.height:,} customers written to {out}")


def _fit(model: Model, frame: pl.DataFrame):
    from kehu.value.clv import gamma_gamma, purchase_model

    if model is Model.gamma_gamma:
        return gamma_gamma.fit(frame["frequency"].to_numpy(), frame["monetary_value"].to_numpy())
    return purchase_model(model.value).fit(
        frame["frequency"].to_numpy(), frame["recency"].to_numpy(), frame["T"].to_numpy()
    )


@clv_app.command()
def fit(
    summary: Annotated[Path, typer.Option(help="Per-customer summary CSV.")],
    model: Annotated[Model, typer.Option(help="Which model to fit.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Fit a model by maximum likelihood: parameters, standard errors, log-likelihood."""
    frame = _read_summary(summary, needs_monetary_value=model is Model.gamma_gamma)
    try:
        with _console.status(f"Fitting {model.value} to {frame.height:,} customers…"):
            result = _fit(model, frame)
    except ValueError as error:
        raise _fail(str(error)) from None
    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=2))
    else:
        from rich.table import Table

        table = Table(title=f"{model.value}: log-likelihood {result.log_likelihood:,.4f}")
        table.add_column("parameter")
        table.add_column("estimate", justify="right")
        table.add_column("standard error", justify="right")
        for name, value in result.params.items():
            table.add_row(name, f"{value:.6g}", f"{result.standard_errors[name]:.4g}")
        Console().print(table)
        Console().print(("converged: " if result.converged else "NOT converged: ") + result.message)
    if not result.converged:
        _console.print(f"[yellow]Warning:[/yellow] the fit did not converge: {result.message}")


@clv_app.command()
def predict(
    summary: Annotated[Path, typer.Option(help="Per-customer summary CSV.")],
    model: Annotated[PurchaseModel, typer.Option(help="Purchase model.")],
    out: Annotated[Path, typer.Option(help="Where to write the predictions CSV.")],
    spend_model: Annotated[SpendModel, typer.Option(help="Spend model.")] = (
        SpendModel.gamma_gamma
    ),
    horizon: Annotated[float, typer.Option(help="Horizon in days.", min=1)] = 3650,
    discount_rate: Annotated[float, typer.Option(help="Annual discount rate, e.g. 0.1.")] = 0.10,
    unit: Annotated[Unit, typer.Option(help="Time unit of the summary's recency and T.")] = (
        Unit.day
    ),
) -> None:
    """Fit both models, then per customer: expected purchases over the horizon, P(alive),
    expected spend per purchase and discounted lifetime value (monthly discounting)."""
    from kehu.value.clv import gamma_gamma, purchase_model
    from kehu.value.clv.predict import customer_values, discount_schedule
    from kehu.value.clv.summary import days_per_unit

    if discount_rate <= -1:
        raise _fail(f"--discount-rate: {discount_rate} must be above -1")
    frame = _read_summary(summary, needs_monetary_value=True)
    purchases = purchase_model(model.value)
    frequency = frame["frequency"].to_numpy()
    recency = frame["recency"].to_numpy()
    age = frame["T"].to_numpy()
    monetary_value = frame["monetary_value"].to_numpy()
    try:
        with _console.status(f"Fitting {model.value} to {frame.height:,} customers…"):
            purchase_fit = purchases.fit(frequency, recency, age)
        with _console.status("Fitting gamma_gamma…"):
            spend_fit = gamma_gamma.fit(frequency, monetary_value)
        for result in (purchase_fit, spend_fit):
            if not result.converged:
                _console.print(f"[yellow]Warning:[/yellow] {result.model}: {result.message}")
        with _console.status("Predicting…"):
            schedule = discount_schedule(
                horizon=horizon / days_per_unit(unit.value),
                annual_discount_rate=discount_rate,
                unit=unit.value,
            )
            values = customer_values(
                purchase_model=purchases,
                purchase_params=purchase_fit.params,
                spend_params=spend_fit.params,
                frequency=frequency,
                recency=recency,
                age=age,
                monetary_value=monetary_value,
                schedule=schedule,
            )
    except ValueError as error:
        raise _fail(str(error)) from None
    pl.DataFrame(
        {
            "customer_id": frame["customer_id"],
            "expected_purchases": values.expected_purchases,
            "probability_alive": values.probability_alive,
            "expected_spend": values.expected_spend,
            "lifetime_value": values.lifetime_value,
        }
    ).write_csv(out)
    _console.print(
        f"{frame.height:,} customers written to {out}; total lifetime value "
        f"{float(np.sum(values.lifetime_value)):,.2f}"
    )


@clv_app.command()
def compare(
    summary: Annotated[Path, typer.Option(help="Summary CSV with holdout columns.")],
) -> None:
    """Fit every purchase model and compare log-likelihood and holdout error (JSON)."""
    from kehu.value.clv.holdout import compare_models

    frame = _read_summary(summary, needs_monetary_value=False)
    missing = [
        name for name in ("frequency_holdout", "duration_holdout") if name not in frame.columns
    ]
    if missing:
        raise _fail(
            f"{summary}: missing column(s) {', '.join(missing)} (summarise with --holdout-end)"
        )
    try:
        with _console.status("Fitting and scoring the models…"):
            rows = compare_models(
                frequency=frame["frequency"].to_numpy(),
                recency=frame["recency"].to_numpy(),
                age=frame["T"].to_numpy(),
                frequency_holdout=frame["frequency_holdout"].to_numpy(),
                duration_holdout=float(frame["duration_holdout"][0]),
            )
    except ValueError as error:
        raise _fail(str(error)) from None
    typer.echo(json.dumps(rows, indent=2))
