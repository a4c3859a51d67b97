# SQL below is built from model table names and fixed expressions; values are parameters.
# ruff: noqa: S608
"""The indicators Kehu computes from its own records (domain §5.2), for many customers at once,
as of a date D — set-based: four SQL statements for the whole company, the same on SQLite and
PostgreSQL. No access check: the rating services rate for the company.

The window is the year up to D: W = D − 1 year + 1 day … D (four quarters when D ends a quarter).

- on_time_share 按期付款率: of the amount due in the window (invoices not cancelled whose due date
  falls in it, less their credit notes issued by D), the share paid by its due date (allocations
  made on or before the due date and not reversed by D). None when nothing fell due.
- avg_days_beyond_terms 平均逾期天数, weighted by amount, as receivables/figures.py defines it:
  over the money allocated in the window (days from the due date to the allocation, 0 when on
  time) and the invoices still open and overdue at D (days from the due date to D). None when
  nothing was paid in the window and nothing is overdue.
- oldest_overdue_days 最长逾期天数: days past due at D of the oldest invoice still open at D
  (rebuilt from the ledger as of D, like the aging); 0 when nothing is overdue.
- bad_debts: invoices with a write-off made in the three years up to D and not reversed by D
  (the rating adds the disputes entered in the survey: default_template.py).
- years_trading 合作年限: years from the first purchase (Customer.first_purchase_on, else the
  first invoice) to D, two decimals. None when neither is known or both are after D.
- purchase_growth 进货增长率: invoiced (not cancelled) in the window against the year before it,
  less 1. None when nothing was invoiced the year before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection

from kehu.accounts.models import Role, User
from kehu.credit.models import CreditSurvey
from kehu.receivables.aging import OPEN_THRESHOLD, _balances_sql
from kehu.receivables.models import CreditNote, Invoice, PaymentAllocation, WriteOff

ONE_DAY = dt.timedelta(days=1)
SHARE = Decimal("0.0001")
DAYS = Decimal("0.1")
YEARS = Decimal("0.01")
RATIO = Decimal("0.000001")
ZERO = Decimal("0")
LEDGER_MEASURES = (
    "on_time_share",
    "avg_days_beyond_terms",
    "oldest_overdue_days",
    "bad_debts",
    "years_trading",
    "purchase_growth",
)


def years_before(day: dt.date, years: int) -> dt.date:
    """The same day `years` earlier (29 February becomes the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def window_start(as_of: dt.date) -> dt.date:
    return years_before(as_of, 1) + ONE_DAY


def _number(value: Any) -> Decimal:
    """A database number (Decimal on PostgreSQL, float or int on SQLite) as a Decimal."""
    if value is None:
        return ZERO
    if isinstance(value, Decimal):
        return value
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def _cents(value: Any) -> Decimal:
    return _number(value).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _days_sql(later: str, earlier: str) -> str:
    """Whole days from `earlier` to `later`, never below 0 (names `later` twice)."""
    if connection.vendor == "postgresql":
        difference = f"(CAST({later} AS DATE) - CAST({earlier} AS DATE))"
    else:
        difference = f"(julianday({later}) - julianday({earlier}))"
    return f"(CASE WHEN {difference} > 0 THEN {difference} ELSE 0 END)"


def _customer_filter(column: str, customer_ids: list[int] | None) -> tuple[str, list[Any]]:
    if customer_ids is None:
        return "", []
    if not customer_ids:
        return " AND 1 = 0", []
    return f" AND {column} IN ({', '.join(['%s'] * len(customer_ids))})", list(customer_ids)


def _fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _operator() -> User:
    """Sees the whole company (not saved): the measures are the company's, not a user's."""
    return User(username="rating", role=Role.FINANCE, is_active=True)


def _invoice_figures(
    as_of: dt.date, customer_ids: list[int] | None
) -> dict[int, tuple[Decimal, Decimal, Decimal, dt.date | None]]:
    """customer → (amount due in the window less credit notes, invoiced in the window,
    invoiced the year before, first invoice date)."""
    start = window_start(as_of)
    before_start = years_before(start, 1)
    where, params = _customer_filter("i.customer_id", customer_ids)
    sql = f"""
        SELECT i.customer_id,
               SUM(CASE WHEN i.due_date >= %s AND i.due_date <= %s THEN
                   i.amount - COALESCE((SELECT SUM(n.amount) FROM {CreditNote._meta.db_table} n
                                        WHERE n.invoice_id = i.id AND n.issue_date <= %s), 0)
                   ELSE 0 END),
               SUM(CASE WHEN i.issue_date >= %s THEN i.amount ELSE 0 END),
               SUM(CASE WHEN i.issue_date >= %s AND i.issue_date < %s THEN i.amount ELSE 0 END),
               MIN(i.issue_date)
        FROM {Invoice._meta.db_table} i
        WHERE i.is_cancelled = %s AND i.issue_date <= %s{where}
        GROUP BY i.customer_id
    """
    rows = _fetch(sql, [start, as_of, as_of, start, before_start, start, False, as_of, *params])
    return {row[0]: (_cents(row[1]), _cents(row[2]), _cents(row[3]), _date(row[4])) for row in rows}


def _allocation_figures(
    as_of: dt.date, customer_ids: list[int] | None
) -> dict[int, tuple[Decimal, Decimal, Decimal]]:
    """customer → (amount × days beyond terms over allocations in the window, amount allocated
    in the window, amount due in the window and paid by its due date)."""
    start = window_start(as_of)
    where, params = _customer_filter("i.customer_id", customer_ids)
    sql = f"""
        SELECT i.customer_id,
               SUM(CASE WHEN a.allocated_on >= %s
                   THEN a.amount * {_days_sql("a.allocated_on", "i.due_date")} ELSE 0 END),
               SUM(CASE WHEN a.allocated_on >= %s THEN a.amount ELSE 0 END),
               SUM(CASE WHEN i.due_date >= %s AND i.due_date <= %s
                        AND a.allocated_on <= i.due_date THEN a.amount ELSE 0 END)
        FROM {PaymentAllocation._meta.db_table} a
        JOIN {Invoice._meta.db_table} i ON i.id = a.invoice_id
        WHERE a.allocated_on <= %s AND (a.reversed_on IS NULL OR a.reversed_on > %s)
          AND i.is_cancelled = %s AND (a.allocated_on >= %s OR i.due_date >= %s){where}
        GROUP BY i.customer_id
    """
    rows = _fetch(sql, [start, start, start, as_of, as_of, as_of, False, start, start, *params])
    return {row[0]: (_number(row[1]), _cents(row[2]), _cents(row[3])) for row in rows}


def _overdue_figures(
    as_of: dt.date, customer_ids: list[int] | None
) -> dict[int, tuple[int, Decimal, Decimal]]:
    """customer → (days past due of the oldest open invoice, open × days past due, open and
    overdue amount), from the ledger rebuilt as of D (receivables/aging.py)."""
    if customer_ids is None:
        balances, params = _balances_sql(
            user=_operator(), as_of=as_of, group_sql="i.customer_id", joins="", join_params=[]
        )
    elif not customer_ids:
        return {}
    else:
        balances, params = _few_customers_balances_sql(as_of, customer_ids)
    days = _days_sql("%s", "due_date")
    sql = f"""{balances}
        SELECT group_key, MAX({days}), SUM(open_amount * {days}), SUM(open_amount)
        FROM balances
        WHERE open_amount >= {OPEN_THRESHOLD} AND due_date < %s
        GROUP BY group_key
    """
    rows = _fetch(sql, [*params, as_of, as_of, as_of, as_of, as_of])
    return {row[0]: (int(_number(row[1])), _number(row[2]), _cents(row[3])) for row in rows}


def _few_customers_balances_sql(as_of: dt.date, customer_ids: list[int]) -> tuple[str, list[Any]]:
    """The aging's `balances` (receivables/aging.py) for a few customers: each invoice's live
    entries summed through the ledger's covering indexes, on both databases (the aging's
    PostgreSQL form sums the whole ledger first, which suits the whole company, not one)."""
    marks = ", ".join(["%s"] * len(customer_ids))
    live = "{alias}.{date} <= %s AND ({alias}.reversed_on IS NULL OR {alias}.reversed_on > %s)"
    sql = f"""WITH balances AS (
        SELECT i.customer_id AS group_key, i.due_date AS due_date,
               i.amount
               - COALESCE((SELECT SUM(a.amount) FROM {PaymentAllocation._meta.db_table} a
                           WHERE a.invoice_id = i.id
                             AND {live.format(alias="a", date="allocated_on")}), 0)
               - COALESCE((SELECT SUM(n.amount) FROM {CreditNote._meta.db_table} n
                           WHERE n.invoice_id = i.id AND n.issue_date <= %s), 0)
               - COALESCE((SELECT SUM(w.amount) FROM {WriteOff._meta.db_table} w
                           WHERE w.invoice_id = i.id
                             AND {live.format(alias="w", date="written_off_on")}), 0)
                 AS open_amount
        FROM {Invoice._meta.db_table} i
        WHERE i.customer_id IN ({marks}) AND i.issue_date <= %s AND i.is_cancelled = %s
    )"""
    return sql, [as_of, as_of, as_of, as_of, as_of, *customer_ids, as_of, False]


def _bad_debts(as_of: dt.date, customer_ids: list[int] | None) -> dict[int, int]:
    where, params = _customer_filter("i.customer_id", customer_ids)
    sql = f"""
        SELECT i.customer_id, COUNT(DISTINCT w.invoice_id)
        FROM {WriteOff._meta.db_table} w
        JOIN {Invoice._meta.db_table} i ON i.id = w.invoice_id
        WHERE w.written_off_on > %s AND w.written_off_on <= %s
          AND (w.reversed_on IS NULL OR w.reversed_on > %s){where}
        GROUP BY i.customer_id
    """
    rows = _fetch(sql, [years_before(as_of, 3), as_of, as_of, *params])
    return {row[0]: int(row[1]) for row in rows}


def ledger_measures(
    *, as_of: dt.date, customers: Iterable[tuple[int, dt.date | None]], all_customers: bool
) -> dict[int, dict[str, Decimal | None]]:
    """The computed measures of the customers given as (id, first_purchase_on) as of D.

    `all_customers`: the customers are the whole register (the statements then read every
    row without an id list); otherwise only these customers' rows are read.
    """
    people = list(customers)
    ids = None if all_customers else [customer_id for customer_id, _first in people]
    invoices = _invoice_figures(as_of, ids)
    allocations = _allocation_figures(as_of, ids)
    overdue = _overdue_figures(as_of, ids)
    bad_debts = _bad_debts(as_of, ids)
    result: dict[int, dict[str, Decimal | None]] = {}
    for customer_id, first_purchase_on in people:
        due, recent, earlier, first_invoice = invoices.get(customer_id, (ZERO, ZERO, ZERO, None))
        weighted_paid, paid, on_time = allocations.get(customer_id, (ZERO, ZERO, ZERO))
        oldest, weighted_open, overdue_amount = overdue.get(customer_id, (0, ZERO, ZERO))
        on_time_share = (
            min(on_time / due, Decimal(1)).quantize(SHARE, ROUND_HALF_UP) if due > 0 else None
        )
        basis = paid + overdue_amount
        days_beyond = (
            ((weighted_paid + weighted_open) / basis).quantize(DAYS, ROUND_HALF_UP)
            if basis > 0
            else None
        )
        first = first_purchase_on or first_invoice
        years = (
            (Decimal((as_of - first).days) / Decimal("365.25")).quantize(YEARS, ROUND_HALF_UP)
            if first is not None and first <= as_of
            else None
        )
        growth = (recent / earlier - 1).quantize(RATIO, ROUND_HALF_UP) if earlier > 0 else None
        result[customer_id] = {
            "on_time_share": on_time_share,
            "avg_days_beyond_terms": days_beyond,
            "oldest_overdue_days": Decimal(oldest),
            "bad_debts": Decimal(bad_debts.get(customer_id, 0)),
            "years_trading": years,
            "purchase_growth": growth,
        }
    return result


# --- Figures from the survey's statements ------------------------------------------------------


def survey_figure(survey: CreditSurvey | None, measure: str) -> Decimal | None:
    """A ratio of the survey (scorecard.SURVEY_FIGURES); None when a figure is missing."""
    if survey is None:
        return None
    if measure == "profitable_years":
        profits = (survey.profit_year_1, survey.profit_year_2, survey.profit_year_3)
        if any(profit is None for profit in profits):
            return None
        return Decimal(sum(1 for profit in profits if profit is not None and profit > 0))
    value = getattr(survey, measure)
    return None if value is None else Decimal(value).quantize(RATIO, ROUND_HALF_UP)
