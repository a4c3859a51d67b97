"""Lifetime value in the value snapshot (domain §4.6): "judge a customer by what they buy in ten
years or a lifetime".

From every customer's purchase days up to the period end (the engine's `lifetime` aggregate:
one row per customer and purchase day, orders of a day added up) we make the per-customer
summary the models fit on — frequency (repeat purchase days), recency and T in days, and the
mean value of the repeat purchase days — and fit the purchase model of the value settings
(BG/NBD by default; MBG/NBD or Pareto/NBD) and the Gamma-Gamma spend model by maximum
likelihood (kehu.value.clv). Per customer this gives P(alive), the purchases expected over the
next 12 months, the expected spend per purchase and the discounted lifetime value over the
horizon (monthly periods, a yearly discount rate; see clv/predict.py): lifetime value is
expected *spend* (revenue), discounted, not profit.

A fit that does not converge keeps the last good model: the parameters of the newest earlier
finished snapshot that had one (same model, same time unit), and the snapshot's message says
so. Too little data (fewer than two buyers, no repeat buyer) leaves the columns empty, with a
message — never NaN.

The calibration/holdout check: the last `lifetime_holdout_weeks` of the history are held out,
each of the three purchase models is fitted on the customers who had bought before, and what it
predicts for the holdout weeks is set against what they bought — per calibration-frequency group
and cumulatively over time (Fader, Hardie & Lee 2005, figures 2–4).

The retention what-if (`retention_what_if`) is defined at the end of this module.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from types import ModuleType
from typing import Any

import numpy as np
import pyarrow as pa
from django.db.models import Count, F, QuerySet, Sum

from kehu.core.errors import ValidationFailed
from kehu.customers.selectors import related_visible_to
from kehu.value.clv import PURCHASE_MODELS, gamma_gamma
from kehu.value.clv.fitting import FitResult, compress_rows
from kehu.value.clv.holdout import frequency_groups, tracking
from kehu.value.clv.predict import DAYS_PER_YEAR, discount_schedule
from kehu.value.clv.summary import PurchaseTimeline
from kehu.value.models import CustomerValue, SnapshotStatus, ValueSnapshot
from kehu.value.selectors import customer_values_filtered

EPOCH = dt.date(1970, 1, 1)
UNIT = "day"  # the time unit of recency, T and the purchase-model parameters
MONTHS_PER_YEAR = 12
TRACKING_POINTS = 300  # the over-time series has at most about this many points
FOUR_PLACES = Decimal("0.0001")
CENT = Decimal("0.01")


# --- Per-customer summaries ---------------------------------------------------------------------


@dataclass(frozen=True)
class Histories:
    """Per customer (sorted by id): the summary the models fit on. Times in days."""

    customer_ids: np.ndarray
    first_day: np.ndarray
    frequency: np.ndarray
    recency: np.ndarray
    age: np.ndarray
    monetary_value: np.ndarray  # yuan; the mean of the repeat purchase days, 0 without any

    @property
    def size(self) -> int:
        return int(self.customer_ids.size)


@dataclass(frozen=True)
class PurchaseDays:
    """The engine's purchase days, sorted by customer and day; amounts in cents."""

    customer_ids: np.ndarray
    days: np.ndarray
    amounts: np.ndarray

    @classmethod
    def from_arrow(cls, table: pa.Table) -> PurchaseDays:
        customers = table["customer_id"].to_numpy().astype(np.int64)
        days = table["day"].to_numpy().astype(np.int64)
        amounts = table["amount"].to_numpy().astype(np.float64)
        order = np.lexsort((days, customers))
        return cls(customers[order], days[order], amounts[order])

    def of(self, customer_ids: np.ndarray) -> PurchaseDays:
        """The purchase days of these customers only."""
        keep = np.isin(self.customer_ids, customer_ids)
        return PurchaseDays(self.customer_ids[keep], self.days[keep], self.amounts[keep])

    def until(self, last_day: int) -> PurchaseDays:
        keep = self.days <= last_day
        return PurchaseDays(self.customer_ids[keep], self.days[keep], self.amounts[keep])

    def summarise(self, as_of: int) -> Histories:
        """frequency = purchase days − 1, recency = last − first, T = as_of − first, monetary
        value = mean amount of the purchase days after the first (lifetimes' conventions)."""
        if self.customer_ids.size == 0:
            empty = np.zeros(0)
            return Histories(np.zeros(0, dtype=np.int64), empty, empty, empty, empty, empty)
        starts = np.flatnonzero(np.r_[True, self.customer_ids[1:] != self.customer_ids[:-1]])
        ends = np.r_[starts[1:], self.customer_ids.size]
        first = self.days[starts]
        frequency = (ends - starts - 1).astype(float)
        repeat_amount = np.add.reduceat(self.amounts, starts) - self.amounts[starts]
        monetary = np.divide(
            repeat_amount,
            np.maximum(frequency, 1.0) * 100.0,
            where=frequency > 0,
            out=np.zeros(starts.size),
        )
        return Histories(
            customer_ids=self.customer_ids[starts],
            first_day=first.astype(float),
            frequency=frequency,
            recency=(self.days[ends - 1] - first).astype(float),
            age=(as_of - first).astype(float),
            monetary_value=monetary,
        )


# --- Fits and the last good model ---------------------------------------------------------------


class NotEnoughData(ValueError):
    """Too little purchase history to fit the models on."""


def _check_enough(histories: Histories, what: str) -> None:
    if histories.size == 0:
        raise NotEnoughData(f"no customer has bought {what}")
    if histories.size < 2:
        raise NotEnoughData(f"only one customer has bought {what}: too few to fit the models")
    if not np.any(histories.frequency > 0):
        raise NotEnoughData(f"no customer has bought on two different days {what}")


class FitTooSlow(ArithmeticError):
    """A fit ran past its time budget (FIT_SECONDS)."""


# Each fit gets this many seconds. On well-behaved data a fit takes well under a second; on
# small or odd data Pareto/NBD can run towards s, β → ∞, where every evaluation of its
# hypergeometric series needs thousands of terms and a fit minutes. Past the budget the fit
# counts as not converged (the last good model is kept).
FIT_SECONDS = 30.0
# The holdout check fits every purchase model on at most this many customers' histories, and
# on no fewer than HOLDOUT_MIN_CUSTOMERS: below that a comparison of models says nothing, and
# Pareto/NBD on a handful of histories tends to run off to s, β → ∞ (slow, and meaningless).
# Its fits get a budget that grows with the sample, up to FIT_SECONDS.
HOLDOUT_SAMPLE = 5_000
HOLDOUT_MIN_CUSTOMERS = 20


def _holdout_fit_seconds(customers: int) -> float:
    return min(FIT_SECONDS, 5.0 + customers / 200)


_FIT_LOCK = threading.Lock()


def _fit_safely(
    model: ModuleType, *args: np.ndarray, seconds: float | None = None
) -> tuple[FitResult | None, str]:
    """`model.fit(*args)`, or None and why not: the models raise ValueError on data they cannot
    fit, and a fit past FIT_SECONDS is stopped.

    The budget is checked at every evaluation of the likelihood: for the length of the fit the
    model module's `maximise_likelihood` is replaced by one whose objective checks the clock
    (a lock keeps two threads from swapping it at once).
    """
    seconds = FIT_SECONDS if seconds is None else seconds
    deadline = time.monotonic() + seconds
    original = model.maximise_likelihood

    def budgeted(*, objective: Any, **arguments: Any) -> FitResult:
        def checked(log_params: np.ndarray) -> tuple[float, np.ndarray]:
            if time.monotonic() > deadline:
                raise FitTooSlow(f"stopped after {seconds:g} seconds")
            return objective(log_params)

        return original(objective=checked, **arguments)

    try:
        with _FIT_LOCK, np.errstate(all="ignore"):
            model.maximise_likelihood = budgeted  # type: ignore[attr-defined]
            try:
                return model.fit(*args), ""
            finally:
                model.maximise_likelihood = original  # type: ignore[attr-defined]
    except (ValueError, ArithmeticError, np.linalg.LinAlgError) as error:
        return None, str(error)


def _fit_summary(result: FitResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {
        "parameters": result.params,
        "standard_errors": {
            name: (value if math.isfinite(value) else None)
            for name, value in result.standard_errors.items()
        },
        "log_likelihood": result.log_likelihood if math.isfinite(result.log_likelihood) else None,
        "converged": result.converged,
        "iterations": result.iterations,
        "message": result.message,
        "customers": result.customers,
    }


def lifetime_previous(*, before: ValueSnapshot | None = None, limit: int = 50) -> list[Any]:
    """The newest earlier finished snapshots' lifetime parameters, newest first, as
    (snapshot id, parameters["lifetime"]) — where the last good model is looked for."""
    # "superseded": a finished snapshot replaced by a newer run of its period (rows deleted, its
    # parameters kept) — its model is as good as it was.
    snapshots = ValueSnapshot.objects.filter(
        status__in=(SnapshotStatus.DONE, SnapshotStatus.EMPTY, "superseded")
    )
    if before is not None and before.pk is not None:
        snapshots = snapshots.filter(pk__lt=before.pk)
    found = []
    for pk, parameters in snapshots.order_by("-started_at", "-id").values_list("pk", "parameters")[
        :limit
    ]:
        lifetime = (parameters or {}).get("lifetime")
        if isinstance(lifetime, dict):
            found.append((pk, lifetime))
    return found


def _last_good(
    previous: list[Any], *, model: str, part: str
) -> tuple[int, dict[str, float]] | None:
    """The newest earlier snapshot's usable parameters of `part` ("purchase" or "spend")."""
    for pk, lifetime in previous:
        used = lifetime.get(part) or {}
        if lifetime.get("unit") != UNIT or used.get("model") != model:
            continue
        # the parameters in use: those kept from further back when this fit failed too
        parameters = used.get("kept_parameters") or used.get("parameters")
        if isinstance(parameters, dict) and parameters and used.get("usable"):
            return pk, {name: float(value) for name, value in parameters.items()}
    return None


# --- The computation ----------------------------------------------------------------------------


@dataclass
class LifetimeResult:
    """What a snapshot stores: per customer (NaN = left empty), the summary for
    snapshot.parameters["lifetime"], and the message (empty when all went well)."""

    customer_ids: np.ndarray
    probability_alive: np.ndarray
    expected_purchases: np.ndarray
    expected_spend: np.ndarray
    lifetime_value: np.ndarray
    parameters: dict[str, Any]
    messages: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        return " ".join(self.messages)

    def fill(self, rows: list[CustomerValue]) -> None:
        """Set the four lifetime columns of the snapshot's rows (None where not estimated)."""
        if not self.customer_ids.size:
            return
        position = {int(customer): index for index, customer in enumerate(self.customer_ids)}
        for row in rows:
            index = position.get(row.customer_id)
            if index is None:
                continue
            row.probability_alive = _decimal(self.probability_alive[index], FOUR_PLACES)
            row.expected_purchases = _decimal(self.expected_purchases[index], FOUR_PLACES)
            row.expected_spend = _decimal(self.expected_spend[index], CENT)
            row.lifetime_value = _decimal(self.lifetime_value[index], CENT)


def _decimal(value: float, places: Decimal) -> Decimal | None:
    if not math.isfinite(value):
        return None
    return Decimal(f"{value:.{-places.as_tuple().exponent}f}")  # type: ignore[operator]


@dataclass(frozen=True)
class LifetimeSettings:
    model: str
    horizon_years: int
    discount_rate: float
    holdout_weeks: int

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> LifetimeSettings:
        return cls(
            model=str(values["lifetime_model"]),
            horizon_years=int(values["lifetime_horizon_years"]),
            discount_rate=float(Decimal(str(values["lifetime_discount_rate"]))),
            holdout_weeks=int(values["lifetime_holdout_weeks"]),
        )


def lifetime_compute(
    *,
    purchase_days: pa.Table,
    as_of: dt.date,
    values: dict[str, Any],
    previous: list[Any] | None = None,
) -> LifetimeResult:
    """Lifetime figures of every customer who bought up to `as_of` (the period's last day).

    `previous` is `lifetime_previous(...)`: where a fit that does not converge takes the last
    good model from."""
    with _one_blas_thread():
        return _compute(purchase_days=purchase_days, as_of=as_of, values=values, previous=previous)


def _one_blas_thread() -> contextlib.AbstractContextManager[Any]:
    """The fits make many tiny BLAS calls (L-BFGS-B's, on four parameters); on a busy machine
    OpenBLAS's threads spin between them and a fit takes several times longer. One thread is
    faster here, and the limit holds only while the lifetime figures are computed."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scipy's usual stack
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _compute(
    *,
    purchase_days: pa.Table,
    as_of: dt.date,
    values: dict[str, Any],
    previous: list[Any] | None,
) -> LifetimeResult:
    began = time.perf_counter()
    settings = LifetimeSettings.from_values(values)
    as_of_day = (as_of - EPOCH).days
    days = PurchaseDays.from_arrow(purchase_days).until(as_of_day)
    histories = days.summarise(as_of_day)
    nan = np.full(histories.size, np.nan)
    result = LifetimeResult(
        customer_ids=histories.customer_ids,
        probability_alive=nan.copy(),
        expected_purchases=nan.copy(),
        expected_spend=nan.copy(),
        lifetime_value=nan.copy(),
        parameters={
            "model": settings.model,
            "unit": UNIT,
            "as_of": as_of.isoformat(),
            "horizon_years": settings.horizon_years,
            "discount_rate": settings.discount_rate,
            "holdout_weeks": settings.holdout_weeks,
            "customers": histories.size,
            "repeat_customers": int(np.count_nonzero(histories.frequency > 0)),
            "purchase": None,
            "spend": None,
            "totals": None,
            "retention": None,
            "holdout": None,
        },
    )
    try:
        _check_enough(histories, f"by {as_of}")
    except NotEnoughData as error:
        result.messages.append(f"Lifetime value not estimated: {error}.")
        result.parameters["holdout"] = {"skipped": str(error)}
        result.parameters["seconds"] = round(time.perf_counter() - began, 3)
        return result
    model = PURCHASE_MODELS[settings.model]
    purchase = _purchase_parameters(model, settings.model, histories, previous or [], result)
    spend = _spend_parameters(histories, previous or [], result)
    if purchase is not None:
        _estimate(model, purchase, spend, histories, settings, result)
    result.parameters["holdout"] = _holdout_check(days, as_of_day, settings)
    result.parameters["seconds"] = round(time.perf_counter() - began, 3)
    result.parameters = _finite(result.parameters)
    return result


def _purchase_parameters(
    model: ModuleType,
    name: str,
    histories: Histories,
    previous: list[Any],
    result: LifetimeResult,
) -> dict[str, float] | None:
    fit, error = _fit_safely(model, histories.frequency, histories.recency, histories.age)
    summary = _fit_summary(fit) or {"parameters": None, "converged": False, "message": error}
    summary.update(model=name, usable=bool(fit and fit.converged), source="fit")
    result.parameters["purchase"] = summary
    if fit is not None and fit.converged:
        return fit.params
    reason = error or (fit.message if fit else "")
    kept = _last_good(previous, model=name, part="purchase")
    if kept is None:
        result.messages.append(
            f"The {name} purchase model did not converge ({reason}) and no earlier snapshot "
            "has a good one: lifetime value not estimated."
        )
        return None
    snapshot_id, parameters = kept
    summary.update(usable=True, source=f"snapshot {snapshot_id}", kept_parameters=parameters)
    result.messages.append(
        f"The {name} purchase model did not converge ({reason}); the model of snapshot "
        f"{snapshot_id} was kept."
    )
    return parameters


def _spend_parameters(
    histories: Histories, previous: list[Any], result: LifetimeResult
) -> dict[str, float] | None:
    fit, error = _fit_safely(gamma_gamma, histories.frequency, histories.monetary_value)
    summary = _fit_summary(fit) or {"parameters": None, "converged": False, "message": error}
    usable = bool(fit and fit.converged and fit.params["q"] > 1)
    if fit is not None and fit.converged and not usable:
        error = f"q = {fit.params['q']:.4g} ≤ 1: the spend distribution has no finite mean"
    summary.update(model=gamma_gamma.MODEL, usable=usable, source="fit")
    result.parameters["spend"] = summary
    if usable and fit is not None:
        return fit.params
    reason = error or (fit.message if fit else "")
    kept = _last_good(previous, model=gamma_gamma.MODEL, part="spend")
    if kept is None:
        result.messages.append(
            f"The Gamma-Gamma spend model could not be used ({reason}): expected spend and "
            "lifetime value not estimated."
        )
        return None
    snapshot_id, parameters = kept
    summary.update(usable=True, source=f"snapshot {snapshot_id}", kept_parameters=parameters)
    result.messages.append(
        f"The Gamma-Gamma spend model could not be used ({reason}); the model of snapshot "
        f"{snapshot_id} was kept."
    )
    return parameters


def _estimate(
    model: ModuleType,
    purchase: dict[str, float],
    spend: dict[str, float] | None,
    histories: Histories,
    settings: LifetimeSettings,
    result: LifetimeResult,
) -> None:
    """P(alive) per distinct (x, t_x, T); the alive-purchase curve per distinct (x, T), over the
    horizon's months (and at least two years, for the retention the model implies)."""
    x, t_x, age = histories.frequency, histories.recency, histories.age
    with np.errstate(all="ignore"):
        rows = compress_rows(x, t_x, age)
        alive = model.probability_alive(purchase, *rows.columns)[rows.inverse]
        schedule = discount_schedule(
            horizon=settings.horizon_years * DAYS_PER_YEAR,
            annual_discount_rate=settings.discount_rate,
            unit=UNIT,
        )
        months = max(schedule.times.size, 2 * MONTHS_PER_YEAR)
        times = np.arange(1, months + 1) * (DAYS_PER_YEAR / MONTHS_PER_YEAR)
        curves = compress_rows(x, age)
        cumulative = model.alive_expected_purchases_at(purchase, *curves.columns, times)
        next_year = cumulative[:, MONTHS_PER_YEAR - 1][curves.inverse]
        result.probability_alive = _clean(alive, low=0.0, high=1.0)
        result.expected_purchases = _clean(alive * next_year, low=0.0)
        if spend is None:
            return
        spend_values = gamma_gamma.expected_spend(
            spend, np.where(histories.monetary_value > 0, x, 0.0), histories.monetary_value
        )
        count = schedule.times.size
        weights = schedule.factors - np.append(schedule.factors[1:], 0.0)
        discounted = np.einsum("rk,k->r", cumulative[:, :count], weights)[curves.inverse]
        result.expected_spend = _clean(spend_values)
        result.lifetime_value = _clean(alive * discounted * spend_values)
        # Company-wide expected spend per month: Σ_customers P(alive) × spend × purchases in
        # the month given alive (customers grouped by their purchase curve).
        weight = np.bincount(
            curves.inverse,
            weights=np.nan_to_num(alive * spend_values),
            minlength=curves.counts.size,
        )
        per_month = np.diff(np.einsum("r,rk->k", weight, cumulative), prepend=0.0)
    total = float(np.nansum(result.lifetime_value))
    valued = int(np.count_nonzero(np.isfinite(result.lifetime_value)))
    result.parameters["totals"] = {
        "lifetime_value": round(total, 2),
        "average_lifetime_value": round(total / valued, 2) if valued else None,
        "customers_valued": valued,
        "expected_purchases": float(np.nansum(result.expected_purchases)),
        "likely_lost": int(np.count_nonzero(result.probability_alive < 0.5)),
    }
    year_one = float(per_month[:MONTHS_PER_YEAR].sum())
    year_two = float(per_month[MONTHS_PER_YEAR : 2 * MONTHS_PER_YEAR].sum())
    result.parameters["retention"] = {
        "implied": year_two / year_one if year_one > 0 else None,
        "month_days": DAYS_PER_YEAR / MONTHS_PER_YEAR,
        "spend_by_month": [float(value) for value in per_month[: schedule.times.size]],
        "discount_factors": [float(value) for value in schedule.factors],
    }


def _clean(values: np.ndarray, *, low: float | None = None, high: float | None = None):  # type: ignore[no-untyped-def]
    """Finite values clipped to the range; NaN (left empty) where the arithmetic failed."""
    values = np.asarray(values, dtype=float)
    cleaned = np.where(np.isfinite(values), values, np.nan)
    if low is not None or high is not None:
        cleaned = np.clip(cleaned, low, high)
    return cleaned


# --- The calibration/holdout check --------------------------------------------------------------


def _holdout_check(days: PurchaseDays, as_of_day: int, settings: LifetimeSettings) -> dict:
    """Every purchase model fitted on the history before the holdout weeks, and set against
    what the same customers bought in them."""
    cut = as_of_day - 7 * settings.holdout_weeks
    calibration = days.until(cut).summarise(cut)
    sampled = calibration.size > HOLDOUT_SAMPLE
    if sampled:
        # The check compares the models; a random sample of customers (the same one for the
        # same data) does that as well as all of them, at a bounded cost: three fits and their
        # tracking curves over a few thousand histories, not over millions.
        generator = np.random.default_rng(as_of_day)
        chosen = np.sort(generator.choice(calibration.customer_ids, HOLDOUT_SAMPLE, replace=False))
        days = days.of(chosen)
        calibration = days.until(cut).summarise(cut)
    check: dict[str, Any] = {
        "calibration_end": (EPOCH + dt.timedelta(days=cut)).isoformat(),
        "holdout_end": (EPOCH + dt.timedelta(days=as_of_day)).isoformat(),
        "weeks": settings.holdout_weeks,
        "skipped": None,
        "models": [],
        "sampled": sampled,
    }
    try:
        _check_enough(
            calibration, f"by the start of the holdout weeks ({check['calibration_end']})"
        )
    except NotEnoughData as error:
        check["skipped"] = str(error)
        return check
    if calibration.age.max() <= 0:
        check["skipped"] = "the calibration period is a single day"
        return check
    if calibration.size < HOLDOUT_MIN_CUSTOMERS:
        check["skipped"] = (
            f"only {calibration.size} customers had bought by the start of the holdout weeks: "
            f"a holdout check needs at least {HOLDOUT_MIN_CUSTOMERS}"
        )
        return check
    cohort = np.isin(days.customer_ids, calibration.customer_ids)
    in_holdout = cohort & (days.days > cut)
    holdout_counts = np.zeros(calibration.size)
    positions = np.searchsorted(calibration.customer_ids, days.customer_ids[in_holdout])
    np.add.at(holdout_counts, positions, 1.0)
    origin = int(calibration.first_day.min())
    first_of_customer = np.zeros(days.customer_ids.size, dtype=bool)
    first_of_customer[
        np.r_[0, np.flatnonzero(days.customer_ids[1:] != days.customer_ids[:-1]) + 1]
    ] = True
    repeats = days.days[cohort & ~first_of_customer] - origin
    timeline = PurchaseTimeline(
        origin=EPOCH + dt.timedelta(days=origin),
        first_purchase=calibration.first_day - origin,
        repeat_purchases=repeats.astype(float),
        calibration_end=float(cut - origin),
        holdout_end=float(as_of_day - origin),
    )
    step = max(7.0, math.ceil(timeline.holdout_end / TRACKING_POINTS / 7) * 7.0)
    check["origin"] = timeline.origin.isoformat()
    check["customers"] = calibration.size
    check["tracking_step_days"] = step
    actual_series: list[float] | None = None
    for name, model in PURCHASE_MODELS.items():
        fit, reason = _fit_safely(
            model,
            calibration.frequency,
            calibration.recency,
            calibration.age,
            seconds=_holdout_fit_seconds(calibration.size),
        )
        row: dict[str, Any] = {"model": name, "in_use": name == settings.model}
        if fit is None:
            row.update(converged=False, message=reason)
            check["models"].append(row)
            continue
        parameters = len(fit.params)
        with np.errstate(all="ignore"):
            groups = frequency_groups(
                model,
                fit.params,
                frequency=calibration.frequency,
                recency=calibration.recency,
                age=calibration.age,
                frequency_holdout=holdout_counts,
                duration_holdout=float(as_of_day - cut),
            )
            series = tracking(model, fit.params, timeline, step=step)
        if actual_series is None:
            actual_series = series["actual"]
            check["times"] = series["times"]
            check["actual"] = actual_series
        row.update(
            converged=fit.converged,
            message=fit.message,
            parameters=fit.params,
            log_likelihood=fit.log_likelihood,
            aic=2 * parameters - 2 * fit.log_likelihood,
            bic=parameters * math.log(calibration.size) - 2 * fit.log_likelihood,
            holdout_customer_rmse=groups["customer_rmse"],
            holdout_customer_mae=groups["customer_mae"],
            holdout_group_mae=groups["group_mae"],
            holdout_actual_total=groups["actual_total"],
            holdout_predicted_total=groups["predicted_total"],
            tracking_holdout_mape=series["holdout_mape"],
            groups=groups["groups"],
            predicted=series["predicted"],
        )
        check["models"].append(_finite(row))
    return check


def _finite(value: Any) -> Any:
    """JSON-safe: NaN and infinities become None, numpy numbers plain floats."""
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    return value


# --- The retention what-if ----------------------------------------------------------------------
#
# "A 5% rise in retention can lift profit by 25–85%" (§4.6). The method, stated on the page:
#
# 1. The snapshot keeps the company-wide expected spend of every month of the horizon:
#    S_k = Σ_customers P(alive) × expected spend per purchase × purchases expected in month k
#    if alive. In these models a customer who is alive buys at a constant rate, so S_k falls
#    from month to month only because customers drop out.
# 2. The yearly retention the model implies is R = (expected spend in the second year) /
#    (expected spend in the first year): the share of a year's spend that the next year keeps.
# 3. A retention change of Δ percentage points makes it R' = R + Δ/100 (0 < R' ≤ 1) and
#    multiplies the spend expected t years ahead by (R'/R)^t — the customers alive at t are
#    (R'/R)^t as many — and the months are discounted as the lifetime value is:
#    value = Σ_k discount_k × S_k × (R'/R)^(t_k / year). With Δ = 0 this is the total
#    lifetime value of the snapshot.

RETENTION_CHANGE_LIMIT = 50.0  # percentage points either way
RETENTION_CURVE_POINTS = tuple(range(-10, 11))


@dataclass(frozen=True)
class RetentionWhatIf:
    change_points: float
    retention: float  # R, the yearly retention the model implies
    retention_with: float  # R + Δ/100
    value_without: Decimal
    value_with: Decimal
    difference: Decimal
    relative_change: float | None
    curve: list[tuple[float, float]]  # (Δ, value) for the chart


def retention_change_parse(raw: str | float | None) -> float:
    """A retention change in percentage points ("5", "-2.5", "+3"); 0 when empty.
    ValidationFailed names what is wrong."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return 0.0
    text = str(raw).strip().replace("%", "").replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        raise ValidationFailed(
            f"retention change {str(raw)[:40]!r} is not a number of percentage points",
            detail={"field": "retention_change"},
        ) from None
    if not math.isfinite(value) or abs(value) > RETENTION_CHANGE_LIMIT:
        raise ValidationFailed(
            f"retention change {str(raw)[:40]!r} must be between −{RETENTION_CHANGE_LIMIT:g} "
            f"and +{RETENTION_CHANGE_LIMIT:g} percentage points",
            detail={"field": "retention_change"},
        )
    return value


def _retention_value(retention: dict[str, Any], implied: float, with_retention: float) -> float:
    spend = np.asarray(retention["spend_by_month"], dtype=float)
    factors = np.asarray(retention["discount_factors"], dtype=float)
    years = np.arange(1, spend.size + 1) / MONTHS_PER_YEAR
    return float(np.sum(factors * spend * (with_retention / implied) ** years))


def _retention_after(implied: float, change_points: float) -> float:
    """R + Δ/100, with 100% reached exactly when the sum is a rounding error above it."""
    value = implied + change_points / 100
    return 1.0 if 1.0 < value <= 1.0 + 1e-9 else value


def retention_what_if(lifetime: dict[str, Any] | None, change_points: float) -> RetentionWhatIf:
    """What the company's lifetime value is with yearly retention `change_points` percentage
    points higher (or lower), by the method above. ValidationFailed when the snapshot has no
    lifetime figures or when the retention would leave 0–100%."""
    retention = (lifetime or {}).get("retention") or {}
    implied = retention.get("implied")
    if not implied or not retention.get("spend_by_month"):
        raise ValidationFailed(
            "this snapshot has no lifetime value to change the retention of",
            detail={"field": "retention_change"},
        )
    with_retention = _retention_after(implied, change_points)
    if not 0 < with_retention <= 1:
        low, high = -implied * 100, (1 - implied) * 100
        raise ValidationFailed(
            f"a retention change of {change_points:+g} points would make the yearly retention "
            f"{with_retention:.1%}; with the {implied:.1%} the model implies, choose a change "
            f"above {low:+.1f} and at most {high:+.1f} points",
            detail={"field": "retention_change"},
        )
    without = _retention_value(retention, implied, implied)
    value = _retention_value(retention, implied, with_retention)
    curve = [
        (float(points), _retention_value(retention, implied, _retention_after(implied, points)))
        for points in RETENTION_CURVE_POINTS
        if 0 < _retention_after(implied, points) <= 1
    ]
    return RetentionWhatIf(
        change_points=change_points,
        retention=implied,
        retention_with=with_retention,
        value_without=_money(without),
        value_with=_money(value),
        difference=_money(value) - _money(without),
        relative_change=(value / without - 1) if without > 0 else None,
        curve=curve,
    )


def _money(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


# --- Reading: the lifetime report of a snapshot -------------------------------------------------
#
# Company-wide figures (totals, the models, the holdout check, the what-if) are the snapshot's
# and name no customer; the customer list holds only the customers the user may see.

MODEL_LABELS = {
    "bgnbd": "BG/NBD",
    "mbgnbd": "MBG/NBD",
    "pareto_nbd": "Pareto/NBD",
    "gamma_gamma": "Gamma-Gamma",
}
ALIVE_BANDS: dict[str, tuple[float | None, float | None]] = {
    "lost": (None, 0.5),  # likely lost
    "at_risk": (0.5, 0.8),
    "alive": (0.8, None),
    "none": (None, None),  # not estimated (never bought, or the models could not be fitted)
}
LIFETIME_SORTS: dict[str, str] = {
    "code": "customer__code",
    "name": "customer__name",
    "class": "pyramid_class",
    "lifetime_value": "lifetime_value",
    "probability_alive": "probability_alive",
    "expected_purchases": "expected_purchases",
    "expected_spend": "expected_spend",
}
DEFAULT_SORT = "-lifetime_value"


@dataclass(frozen=True)
class ModelComparison:
    """One purchase model fitted on the calibration weeks and scored on the holdout weeks."""

    key: str
    label: str
    is_in_use: bool
    converged: bool
    message: str
    log_likelihood: float | None
    aic: float | None
    bic: float | None
    parameters: list[tuple[str, float]]
    holdout_customer_rmse: float | None
    holdout_group_mae: float | None
    tracking_holdout_mape: float | None
    holdout_actual_total: float | None
    holdout_predicted_total: float | None


@dataclass(frozen=True)
class LifetimeReport:
    snapshot: ValueSnapshot
    has_figures: bool  # the snapshot holds lifetime figures at all (older ones do not)
    is_estimated: bool  # lifetime values were estimated (False: too little data, no model)
    model: str
    model_label: str
    model_source: str  # "fit" or "snapshot N" (the last good model, kept)
    purchase_parameters: list[tuple[str, float, float | None]]  # name, value, standard error
    purchase_log_likelihood: float | None
    spend_parameters: list[tuple[str, float, float | None]]
    horizon_years: int
    discount_rate: float
    holdout_weeks: int
    customers: int  # customers who had bought by the period end
    repeat_customers: int
    customers_valued: int
    total_value: Decimal | None
    average_value: Decimal | None
    expected_purchases: float | None
    likely_lost: int | None
    visible_count: int  # customers the user may see who have a lifetime value
    visible_value: Decimal | None
    retention_implied: float | None
    models: list[ModelComparison]
    holdout: dict[str, Any]
    message: str
    seconds: float | None


def _parameter_rows(fit: dict[str, Any] | None) -> list[tuple[str, float, float | None]]:
    if not fit:
        return []
    parameters = fit.get("kept_parameters") or fit.get("parameters") or {}
    errors = {} if fit.get("kept_parameters") else fit.get("standard_errors") or {}
    return [(name, float(value), errors.get(name)) for name, value in parameters.items()]


def _comparison(row: dict[str, Any]) -> ModelComparison:
    return ModelComparison(
        key=row["model"],
        label=MODEL_LABELS.get(row["model"], row["model"]),
        is_in_use=bool(row.get("in_use")),
        converged=bool(row.get("converged")),
        message=str(row.get("message") or ""),
        log_likelihood=row.get("log_likelihood"),
        aic=row.get("aic"),
        bic=row.get("bic"),
        parameters=[(name, float(value)) for name, value in (row.get("parameters") or {}).items()],
        holdout_customer_rmse=row.get("holdout_customer_rmse"),
        holdout_group_mae=row.get("holdout_group_mae"),
        tracking_holdout_mape=row.get("tracking_holdout_mape"),
        holdout_actual_total=row.get("holdout_actual_total"),
        holdout_predicted_total=row.get("holdout_predicted_total"),
    )


def lifetime_report(*, user: Any, snapshot: ValueSnapshot) -> LifetimeReport:
    """The lifetime figures of a snapshot: company-wide as computed, and how many customers
    (and how much lifetime value) of them the user may see."""
    lifetime = (snapshot.parameters or {}).get("lifetime") or {}
    totals = lifetime.get("totals") or {}
    purchase = lifetime.get("purchase") or {}
    visible = related_visible_to(
        user, CustomerValue.objects.filter(snapshot=snapshot, lifetime_value__isnull=False)
    ).aggregate(count=Count("id"), value=Sum("lifetime_value"))
    total = totals.get("lifetime_value")
    average = totals.get("average_lifetime_value")
    model = str(lifetime.get("model") or "")
    return LifetimeReport(
        snapshot=snapshot,
        has_figures=bool(lifetime),
        is_estimated=bool(totals),
        model=model,
        model_label=MODEL_LABELS.get(model, model),
        model_source=str(purchase.get("source") or ""),
        purchase_parameters=_parameter_rows(purchase),
        purchase_log_likelihood=(
            purchase.get("log_likelihood") if not purchase.get("kept_parameters") else None
        ),
        spend_parameters=_parameter_rows(lifetime.get("spend")),
        horizon_years=int(lifetime.get("horizon_years") or 0),
        discount_rate=float(lifetime.get("discount_rate") or 0),
        holdout_weeks=int(lifetime.get("holdout_weeks") or 0),
        customers=int(lifetime.get("customers") or 0),
        repeat_customers=int(lifetime.get("repeat_customers") or 0),
        customers_valued=int(totals.get("customers_valued") or 0),
        total_value=_money(total) if total is not None else None,
        average_value=_money(average) if average is not None else None,
        expected_purchases=totals.get("expected_purchases"),
        likely_lost=totals.get("likely_lost"),
        visible_count=int(visible["count"] or 0),
        visible_value=visible["value"],
        retention_implied=(lifetime.get("retention") or {}).get("implied"),
        models=[_comparison(row) for row in (lifetime.get("holdout") or {}).get("models", [])],
        holdout=lifetime.get("holdout") or {},
        message=snapshot.message,
        seconds=lifetime.get("seconds"),
    )


@dataclass(frozen=True)
class LifetimeFilters:
    pyramid_class: str = ""
    band: str = ""  # a key of ALIVE_BANDS
    search: str = ""


def lifetime_customers(
    *, user: Any, snapshot: ValueSnapshot, filters: LifetimeFilters, sort: str = DEFAULT_SORT
) -> QuerySet[CustomerValue]:
    """The snapshot's customers the user may see, filtered and sorted (customers without a
    lifetime value last, whatever the direction)."""
    rows = customer_values_filtered(user=user, snapshot=snapshot, search=filters.search)
    if filters.pyramid_class:
        rows = rows.filter(pyramid_class=filters.pyramid_class)
    if filters.band == "none":
        rows = rows.filter(probability_alive__isnull=True)
    elif filters.band:
        low, high = ALIVE_BANDS[filters.band]
        if low is not None:
            rows = rows.filter(probability_alive__gte=Decimal(str(low)))
        if high is not None:
            rows = rows.filter(probability_alive__lt=Decimal(str(high)))
    key = sort.lstrip("-")
    column = LIFETIME_SORTS.get(key, "lifetime_value")
    descending = sort.startswith("-") if key in LIFETIME_SORTS else True
    order = F(column).desc(nulls_last=True) if descending else F(column).asc(nulls_last=True)
    return rows.select_related("customer").order_by(order, "customer__code", "customer_id")


def lifetime_figures(report: LifetimeReport, what_if: RetentionWhatIf | None) -> dict[str, Any]:
    """The report as the API answers it (schemas.LifetimeOut), shared with `kehu value lifetime
    --json`: figures, models with their holdout series, and the what-if."""
    holdout = report.holdout
    origin = holdout.get("origin")
    dates = (
        [
            (dt.date.fromisoformat(origin) + dt.timedelta(days=round(value))).isoformat()
            for value in holdout.get("times") or []
        ]
        if origin
        else []
    )
    by_key = {row["model"]: row for row in holdout.get("models", [])}

    def parameters(rows: list[tuple[str, float, float | None]]) -> list[dict[str, Any]]:
        return [
            {"name": name, "value": value, "standard_error": error} for name, value, error in rows
        ]

    return {
        **{
            name: getattr(report, name)
            for name in (
                "snapshot",
                "has_figures",
                "is_estimated",
                "message",
                "model",
                "model_label",
                "model_source",
                "purchase_log_likelihood",
                "horizon_years",
                "discount_rate",
                "holdout_weeks",
                "customers",
                "repeat_customers",
                "customers_valued",
                "total_value",
                "average_value",
                "expected_purchases",
                "likely_lost",
                "visible_count",
                "visible_value",
                "retention_implied",
            )
        },
        "purchase_parameters": parameters(report.purchase_parameters),
        "spend_parameters": parameters(report.spend_parameters),
        "retention": what_if.__dict__ if what_if else None,
        "models": [
            {
                **item.__dict__,
                "parameters": dict(item.parameters),
                "groups": by_key.get(item.key, {}).get("groups") or [],
                "cumulative_predicted": by_key.get(item.key, {}).get("predicted") or [],
            }
            for item in report.models
        ],
        "holdout": {
            "calibration_end": holdout.get("calibration_end"),
            "holdout_end": holdout.get("holdout_end"),
            "weeks": holdout.get("weeks") or report.holdout_weeks,
            "skipped": holdout.get("skipped"),
            "dates": dates,
            "cumulative_actual": holdout.get("actual") or [],
        },
    }
