# SQL below is built from model table names and fixed expressions; values are parameters.
# ruff: noqa: S608
"""The figures of receivables for a period (domain §6) — read only, from the visible ledger.

- Days sales outstanding (应收账款周转天数): receivables open at the end of the period ÷ credit
  sales (invoices issued) in the period × the days of the period.
- Collection effectiveness index: (receivables at the start + credit sales − receivables at the
  end) ÷ (receivables at the start + credit sales − receivables not yet due at the end) × 100.
- Average days beyond terms per customer, weighted by amount: over the money allocated in the
  period (days from the due date to the allocation, 0 when on time) and the invoices still open
  and overdue at the end (days from the due date to the end).
- The share of receivables in total assets, when KEHU["TOTAL_ASSETS"] is entered.
- Cash collected against sales per month: "goods turned into cash, not into claims".
- For every bad debt written off in the period, the sales it takes to earn it back at the net
  margin KEHU["NET_MARGIN"] (0.05: one unit of bad debt takes 20 of sales).

"Receivables at a date" is the aging's open amount as of that date (see aging.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Q, Sum
from django.db.models.functions import TruncMonth

from kehu.accounts.models import User
from kehu.core.errors import ValidationFailed
from kehu.core.money import CENT, ZERO
from kehu.customers.models import Customer
from kehu.customers.selectors import month_starts, related_visible_to
from kehu.receivables.aging import (
    OPEN_THRESHOLD,
    _balances_sql,
    _money,
    _visible_customer_sql,
    aging_as_of,
)
from kehu.receivables.models import Invoice, Payment, PaymentAllocation, WriteOff

ONE_DECIMAL = Decimal("0.1")


def _setting_decimal(name: str) -> Decimal | None:
    raw = settings.KEHU.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = Decimal(str(raw))
    except ArithmeticError as error:
        raise ValidationFailed(
            f"KEHU[{name!r}] must be a number, not {raw!r}", detail={"field": name}
        ) from error
    if value <= 0:
        raise ValidationFailed(
            f"KEHU[{name!r}] must be above 0, not {raw!r}", detail={"field": name}
        )
    return value


def net_margin() -> Decimal:
    return _setting_decimal("NET_MARGIN") or Decimal("0.05")


def total_assets() -> Decimal | None:
    return _setting_decimal("TOTAL_ASSETS")


def check_period(date_from: dt.date, date_to: dt.date) -> None:
    if date_to < date_from:
        raise ValidationFailed(
            f"the period ends ({date_to}) before it starts ({date_from})",
            detail={"field": "to"},
        )


@dataclass(frozen=True)
class ReceivablesFigures:
    date_from: dt.date
    date_to: dt.date
    days: int  # days in the period, both ends included
    receivables_at_start: Decimal  # open as of the day before the period
    receivables_at_end: Decimal
    not_yet_due_at_end: Decimal
    overdue_at_end: Decimal
    credit_sales: Decimal  # invoices issued in the period
    cash_collected: Decimal  # payments received in the period
    days_sales_outstanding: Decimal | None  # None without sales in the period
    collection_effectiveness_index: Decimal | None  # percent; None when undefined
    total_assets: Decimal | None  # None: not entered
    receivables_share_of_assets: Decimal | None  # 0..1; None without total assets
    written_off: Decimal  # live write-offs made in the period
    net_margin: Decimal
    sales_to_recover_write_offs: Decimal


def receivables_figures(*, user: User, date_from: dt.date, date_to: dt.date) -> ReceivablesFigures:
    """The figures of the visible ledger for the period: a handful of set-based queries."""
    check_period(date_from, date_to)
    start = aging_as_of(user=user, as_of=date_from - dt.timedelta(days=1))
    end = aging_as_of(user=user, as_of=date_to)
    in_period = Q(issue_date__gte=date_from, issue_date__lte=date_to)
    credit_sales = _money(
        related_visible_to(user, Invoice.objects.filter(in_period, is_cancelled=False)).aggregate(
            total=Sum("amount")
        )["total"]
    )
    cash = _money(
        related_visible_to(
            user, Payment.objects.filter(received_on__gte=date_from, received_on__lte=date_to)
        ).aggregate(total=Sum("amount"))["total"]
    )
    written_off = _money(
        _write_offs(user=user, date_from=date_from, date_to=date_to).aggregate(total=Sum("amount"))[
            "total"
        ]
    )
    days = (date_to - date_from).days + 1
    dso = (
        (end.total / credit_sales * days).quantize(ONE_DECIMAL, ROUND_HALF_UP)
        if credit_sales > 0
        else None
    )
    collectible = start.total + credit_sales - end.totals[0]
    cei = (
        ((start.total + credit_sales - end.total) / collectible * 100).quantize(
            ONE_DECIMAL, ROUND_HALF_UP
        )
        if collectible > 0
        else None
    )
    assets = total_assets()
    margin = net_margin()
    return ReceivablesFigures(
        date_from=date_from,
        date_to=date_to,
        days=days,
        receivables_at_start=start.total,
        receivables_at_end=end.total,
        not_yet_due_at_end=end.totals[0],
        overdue_at_end=end.overdue,
        credit_sales=credit_sales,
        cash_collected=cash,
        days_sales_outstanding=dso,
        collection_effectiveness_index=cei,
        total_assets=assets,
        receivables_share_of_assets=(
            (end.total / assets).quantize(Decimal("0.0001"), ROUND_HALF_UP) if assets else None
        ),
        written_off=written_off,
        net_margin=margin,
        sales_to_recover_write_offs=(written_off / margin).quantize(CENT, ROUND_HALF_UP),
    )


# --- Bad debts and the sales to earn them back ------------------------------------------------


@dataclass(frozen=True)
class BadDebtRecovery:
    write_off: WriteOff
    sales_needed: Decimal  # amount ÷ net margin


def _write_offs(*, user: User, date_from: dt.date, date_to: dt.date) -> Any:
    """Write-offs made in the period and not reversed by its end."""
    return WriteOff.objects.filter(
        Q(reversed_on__isnull=True) | Q(reversed_on__gt=date_to),
        written_off_on__gte=date_from,
        written_off_on__lte=date_to,
        invoice__in=related_visible_to(user, Invoice.objects.all()).values("pk"),
    )


def bad_debt_recoveries(
    *, user: User, date_from: dt.date, date_to: dt.date
) -> list[BadDebtRecovery]:
    """Every bad debt written off in the period with the sales it takes to earn it back."""
    check_period(date_from, date_to)
    margin = net_margin()
    write_offs = (
        _write_offs(user=user, date_from=date_from, date_to=date_to)
        .select_related("invoice", "invoice__customer", "decided_by")
        .order_by("-written_off_on", "-pk")
    )
    return [
        BadDebtRecovery(
            write_off=write_off,
            sales_needed=(write_off.amount / margin).quantize(CENT, ROUND_HALF_UP),
        )
        for write_off in write_offs
    ]


# --- Cash against sales per month --------------------------------------------------------------


@dataclass(frozen=True)
class MonthlyCashAndSales:
    month: dt.date  # first day
    sales: Decimal  # invoiced
    cash: Decimal  # received

    @property
    def cash_share(self) -> Decimal | None:
        return (self.cash / self.sales).quantize(Decimal("0.001")) if self.sales > 0 else None


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def cash_against_sales_by_month(
    *, user: User, date_from: dt.date, date_to: dt.date
) -> list[MonthlyCashAndSales]:
    """Invoiced sales and cash received per month of the period (empty months as zero)."""
    check_period(date_from, date_to)
    months = (date_to.year - date_from.year) * 12 + date_to.month - date_from.month + 1
    if months > 240:
        raise ValidationFailed(
            "a period of more than 20 years is too long for a monthly chart",
            detail={"field": "from"},
        )
    starts = month_starts(today=date_to, months=months)
    sales = (
        related_visible_to(
            user,
            Invoice.objects.filter(
                issue_date__gte=date_from, issue_date__lte=date_to, is_cancelled=False
            ),
        )
        .annotate(month=TruncMonth("issue_date"))
        .order_by()
        .values("month")
        .annotate(total=Sum("amount"))
        .values_list("month", "total")
    )
    cash = (
        related_visible_to(
            user, Payment.objects.filter(received_on__gte=date_from, received_on__lte=date_to)
        )
        .annotate(month=TruncMonth("received_on"))
        .order_by()
        .values("month")
        .annotate(total=Sum("amount"))
        .values_list("month", "total")
    )
    sales_by_month = {_as_date(month): _money(total) for month, total in sales}
    cash_by_month = {_as_date(month): _money(total) for month, total in cash}
    return [
        MonthlyCashAndSales(
            month=start, sales=sales_by_month.get(start, ZERO), cash=cash_by_month.get(start, ZERO)
        )
        for start in starts
    ]


# --- Days beyond terms per customer -------------------------------------------------------------


@dataclass(frozen=True)
class CustomerDaysBeyondTerms:
    customer_id: int
    code: str
    name: str
    days_beyond_terms: Decimal  # amount-weighted average
    paid_amount: Decimal  # allocated in the period
    overdue_amount: Decimal  # open and overdue at the end


def _days_sql(later: str, earlier: str) -> str:
    """Whole days from `earlier` to `later` (dates or date parameters), never below 0."""
    if connection.vendor == "postgresql":
        difference = f"(CAST({later} AS DATE) - CAST({earlier} AS DATE))"
    else:
        difference = f"(julianday({later}) - julianday({earlier}))"
    return f"(CASE WHEN {difference} > 0 THEN {difference} ELSE 0 END)"


def days_beyond_terms_by_customer(
    *, user: User, date_from: dt.date, date_to: dt.date, limit: int = 50
) -> list[CustomerDaysBeyondTerms]:
    """Average days beyond terms per visible customer, slowest payers first (two queries)."""
    check_period(date_from, date_to)
    visibility, visibility_params = _visible_customer_sql(user)
    paid_sql = f"""
        SELECT i.customer_id AS customer_id,
               SUM(a.amount * {_days_sql("a.allocated_on", "i.due_date")}) AS weighted,
               SUM(a.amount) AS paid, 0 AS overdue
        FROM {PaymentAllocation._meta.db_table} a
        JOIN {Invoice._meta.db_table} i ON i.id = a.invoice_id
        JOIN {Customer._meta.db_table} c ON c.id = i.customer_id
        WHERE a.allocated_on >= %s AND a.allocated_on <= %s
          AND (a.reversed_on IS NULL OR a.reversed_on > %s){visibility}
        GROUP BY i.customer_id
    """
    balances, balance_params = _balances_sql(
        user=user, as_of=date_to, group_sql="i.customer_id", joins="", join_params=[]
    )
    open_sql = f"""
        SELECT group_key AS customer_id,
               SUM(open_amount * {_days_sql("%s", "due_date")}) AS weighted,
               0 AS paid, SUM(open_amount) AS overdue
        FROM balances
        WHERE open_amount >= {OPEN_THRESHOLD} AND due_date < %s
        GROUP BY group_key
    """
    sql = f"""{balances}
        SELECT customer_id, SUM(weighted), SUM(paid), SUM(overdue)
        FROM ({paid_sql} UNION ALL {open_sql}) parts
        GROUP BY customer_id
    """
    # The day difference names its later date twice (in the CASE), hence date_to twice.
    params = [
        *balance_params, date_from, date_to, date_to, *visibility_params,
        date_to, date_to, date_to,
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    figures = []
    for customer_id, weighted, paid, overdue in found:
        basis = _money(paid) + _money(overdue)
        if basis <= 0:
            continue
        average = Decimal(repr(weighted)) if not isinstance(weighted, Decimal) else weighted
        figures.append((customer_id, (average / basis).quantize(ONE_DECIMAL, ROUND_HALF_UP),
                        _money(paid), _money(overdue)))  # fmt: skip
    figures.sort(key=lambda item: (-item[1], -(item[2] + item[3]), item[0]))
    figures = figures[:limit]
    names = Customer.objects.in_bulk([item[0] for item in figures])
    return [
        CustomerDaysBeyondTerms(
            customer_id=customer_id,
            code=names[customer_id].code,
            name=names[customer_id].name,
            days_beyond_terms=days,
            paid_amount=paid,
            overdue_amount=overdue,
        )
        for customer_id, days, paid, overdue in figures
        if customer_id in names
    ]
