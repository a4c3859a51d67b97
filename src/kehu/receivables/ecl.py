"""Expected credit loss 预期信用损失: the provision matrix of IFRS 9's simplified approach
(CAS 22 follows it), from the company's own history (issue 4 point 6).

How the rates come from the history (a roll-rate, or migration, analysis):

1. Take the month-ends of the lookback (`months` month-to-month steps, the last one the latest
   month-end on or before `as_of`) and rebuild every invoice's open balance at each of them
   from the ledger's dates (amount − allocations made by then and not reversed by then − credit
   notes by then − write-offs by then and not reversed by then).
2. Put each balance in its aging bucket at that month-end (not yet due, then the past-due edges
   of KEHU["AGING_BUCKETS"], then "over the last edge").
3. For each step and each bucket b, follow the balance that was in b at the first month-end to
   the next one: it *stayed* in b, *rolled* into a later bucket (its balance there), was
   *written off* during the month, or was *collected* (paid or credited: the rest).
4. The balance that left b (opening − stayed) is what the rates are shares of: with buckets a
   month wide nothing stays and this is the classic roll rate (next bucket's balance / this
   bucket's balance); with wider buckets the balance that stays is waiting, not yet decided.
   roll rate_b = rolled / left, write-off rate_b = written off / left.
5. Cumulative loss rate, from the last bucket back: loss_b = (written off_b + Σ_c rolled_b→c ×
   loss_c) / left_b — the share of a unit in bucket b that ends written off.
6. Provision = balance in the bucket as of `as_of` × loss rate × the forward-looking factor
   (the adjusted rate never exceeds 100%).

The as-of rebuild (`invoice_balances_on`) is the aging module's: one rule for the whole app
(receivables/aging.py `_balances_sql`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.money import CENT, ZERO
from kehu.receivables.aging import entry_is_live, invoice_open_amounts_as_of
from kehu.receivables.models import Invoice, WriteOff

DEFAULT_BUCKET_EDGES = (30, 60, 90, 180, 365)
DEFAULT_LOOKBACK_MONTHS = 12
RATE_PLACES = Decimal("0.000001")
ONE = Decimal(1)


@dataclass(frozen=True)
class Bucket:
    index: int
    label: str
    low: int | None  # days past due, inclusive; None for "not yet due"
    high: int | None  # inclusive; None for the last bucket


def bucket_edges() -> tuple[int, ...]:
    configured = settings.KEHU.get("AGING_BUCKETS") or DEFAULT_BUCKET_EDGES
    return tuple(int(edge) for edge in configured)


def aging_buckets(edges: Sequence[int] | None = None) -> list[Bucket]:
    edges = tuple(edges or bucket_edges())
    buckets = [Bucket(index=0, label=_("Not yet due"), low=None, high=0)]
    low = 1
    for index, edge in enumerate(edges, start=1):
        buckets.append(Bucket(index=index, label=f"{low}–{edge}", low=low, high=edge))
        low = edge + 1
    buckets.append(
        Bucket(
            index=len(edges) + 1,
            label=_("over %(days)s") % {"days": edges[-1]},
            low=edges[-1] + 1,
            high=None,
        )
    )
    return buckets


def bucket_index(days_past_due: int, edges: Sequence[int]) -> int:
    if days_past_due <= 0:
        return 0
    for index, edge in enumerate(edges, start=1):
        if days_past_due <= edge:
            return index
    return len(edges) + 1


def latest_month_end(on: dt.date) -> dt.date:
    """`on` when it is the last day of its month, else the last day of the month before."""
    if (on + dt.timedelta(days=1)).day == 1:
        return on
    return on.replace(day=1) - dt.timedelta(days=1)


def month_ends(*, as_of: dt.date, months: int) -> list[dt.date]:
    """`months` + 1 month-ends, oldest first, the last the latest one on or before `as_of`."""
    ends = [latest_month_end(as_of)]
    for _step in range(months):
        ends.append(ends[-1].replace(day=1) - dt.timedelta(days=1))
    return ends[::-1]


# --- The as-of rebuild ----------------------------------------------------------------------


@dataclass
class InvoiceHistory:
    customer_id: int
    issue_date: dt.date
    due_date: dt.date
    balances: list[Decimal | None]  # per date; None before the invoice was issued
    written_off_between: list[Decimal]  # per step: write-offs in (d[i], d[i+1]], live at d[i+1]


def invoice_balances_on(dates: Sequence[dt.date]) -> dict[int, InvoiceHistory]:
    """The open balance of every invoice at each of `dates` (ascending), rebuilt by the aging's
    as-of rule (`aging.invoice_open_amounts_as_of`, one statement per date). Only invoices that
    can be open at one of the dates are read: open now, or changed since the first date
    (entries are never dated in the future, and every entry saves its invoice's `updated_at`,
    so an invoice settled and untouched before the first date was settled at every date)."""
    first, last = dates[0], dates[-1]
    since = timezone.make_aware(dt.datetime.combine(first, dt.time.min))
    candidates = " AND (i.open_amount > 0 OR i.updated_at >= %s)"
    histories: dict[int, InvoiceHistory] = {}
    for index, day in enumerate(dates):
        for invoice_id, customer_id, issue_date, due_date, balance in invoice_open_amounts_as_of(
            as_of=day, where=candidates, where_params=[since]
        ):
            history = histories.get(invoice_id)
            if history is None:
                history = histories[invoice_id] = InvoiceHistory(
                    customer_id=customer_id,
                    issue_date=issue_date,
                    due_date=due_date,
                    balances=[None] * len(dates),
                    written_off_between=[ZERO] * (len(dates) - 1),
                )
            history.balances[index] = balance
    selected = Invoice.objects.filter(is_cancelled=False, issue_date__lte=last).filter(
        Q(open_amount__gt=0) | Q(updated_at__gte=since)
    )
    for invoice_id, amount, on, reversed_on in (
        WriteOff.objects.filter(invoice__in=selected.values("pk"), written_off_on__lte=last)
        .values_list("invoice_id", "amount", "written_off_on", "reversed_on")
        .iterator(chunk_size=5000)
    ):
        history = histories[invoice_id]
        for step in range(len(dates) - 1):
            start, end = dates[step], dates[step + 1]
            # written off in (start, end] and still live at the end
            if start < on and entry_is_live(on=on, reversed_on=reversed_on, as_of=end):
                history.written_off_between[step] += amount
    return histories


# --- The matrix -----------------------------------------------------------------------------


@dataclass
class BucketFlow:
    """What became, over the lookback, of the balances that were in one bucket at month-ends."""

    opening: Decimal = ZERO
    stayed: Decimal = ZERO
    rolled: Decimal = ZERO
    rolled_to: dict[int, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    written_off: Decimal = ZERO

    @property
    def left(self) -> Decimal:
        return self.opening - self.stayed

    @property
    def collected(self) -> Decimal:
        return self.left - self.rolled - self.written_off


@dataclass
class CustomerProvision:
    customer_id: int
    balance: Decimal
    provision: Decimal
    by_bucket: list[Decimal]


@dataclass
class ProvisionMatrix:
    as_of: dt.date
    lookback_months: int
    forward_factor: Decimal
    buckets: list[Bucket]
    month_ends: list[dt.date]
    history: list[list[Decimal]]  # per month-end, per bucket: open balance
    flows: list[BucketFlow]
    roll_rates: list[Decimal]
    write_off_rates: list[Decimal]
    loss_rates: list[Decimal]
    adjusted_rates: list[Decimal]
    balances: list[Decimal]  # as of `as_of`, per bucket
    provisions: list[Decimal]
    customers: list[CustomerProvision]

    @property
    def total_balance(self) -> Decimal:
        return sum(self.balances, ZERO)

    @property
    def total_provision(self) -> Decimal:
        return sum(self.provisions, ZERO)

    @property
    def has_history(self) -> bool:
        return any(flow.opening for flow in self.flows)

    def rows(self) -> list[dict[str, object]]:
        """One row per bucket for a table: rates, balance and provision."""
        return [
            {
                "bucket": bucket,
                "flow": self.flows[bucket.index],
                "roll_rate": self.roll_rates[bucket.index],
                "write_off_rate": self.write_off_rates[bucket.index],
                "loss_rate": self.loss_rates[bucket.index],
                "adjusted_rate": self.adjusted_rates[bucket.index],
                "balance": self.balances[bucket.index],
                "provision": self.provisions[bucket.index],
            }
            for bucket in self.buckets
        ]


def _rate(part: Decimal, whole: Decimal) -> Decimal:
    if whole <= 0:
        return Decimal(0).quantize(RATE_PLACES)
    share = min(ONE, max(Decimal(0), part / whole))
    return share.quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def provision_matrix(
    *,
    as_of: dt.date | None = None,
    months: int = DEFAULT_LOOKBACK_MONTHS,
    forward_factor: Decimal = ONE,
    edges: Sequence[int] | None = None,
) -> ProvisionMatrix:
    """The provision matrix as of `as_of` over `months` month-to-month steps of history.

    Company-wide (the rates are the company's): callers decide who may read it."""
    as_of = as_of or timezone.localdate()
    if months < 1:
        raise ValueError("the lookback needs at least one month")
    if forward_factor < 0:
        raise ValueError("the forward-looking factor cannot be negative")
    edges = tuple(edges or bucket_edges())
    buckets = aging_buckets(edges)
    ends = month_ends(as_of=as_of, months=months)
    dates = sorted({*ends, as_of})
    histories = invoice_balances_on(dates)
    position = {day: index for index, day in enumerate(dates)}
    count = len(buckets)

    history = [[ZERO] * count for _day in ends]
    flows = [BucketFlow() for _bucket in buckets]
    balances = [ZERO] * count
    per_customer: dict[int, list[Decimal]] = {}
    as_of_index = position[as_of]
    for invoice in histories.values():
        indexes = []
        for end_number, day in enumerate(ends):
            balance = invoice.balances[position[day]]
            if balance is not None and balance > 0:
                bucket = bucket_index((day - invoice.due_date).days, edges)
                history[end_number][bucket] += balance
                indexes.append((bucket, balance))
            else:
                indexes.append((None, ZERO))
        for step in range(len(ends) - 1):
            bucket, opening = indexes[step]
            if bucket is None:
                continue
            later_bucket, later_balance = indexes[step + 1]
            flow = flows[bucket]
            flow.opening += opening
            start, end = position[ends[step]], position[ends[step + 1]]
            flow.written_off += sum(invoice.written_off_between[start:end], ZERO)
            if later_bucket is None:
                continue
            if later_bucket <= bucket:
                flow.stayed += later_balance
            else:
                flow.rolled += later_balance
                flow.rolled_to[later_bucket] += later_balance
        now = invoice.balances[as_of_index]
        if now is not None and now > 0:
            bucket = bucket_index((as_of - invoice.due_date).days, edges)
            balances[bucket] += now
            per_customer.setdefault(invoice.customer_id, [ZERO] * count)[bucket] += now

    roll_rates = [_rate(flow.rolled, flow.left) for flow in flows]
    write_off_rates = [_rate(flow.written_off, flow.left) for flow in flows]
    loss_rates = [ZERO] * count
    for index in range(count - 1, -1, -1):
        flow = flows[index]
        expected = flow.written_off + sum(
            (amount * loss_rates[target] for target, amount in flow.rolled_to.items()), ZERO
        )
        loss_rates[index] = _rate(expected, flow.left)
    adjusted = [min(ONE, rate * forward_factor).quantize(RATE_PLACES) for rate in loss_rates]
    provisions = [
        (balance * rate).quantize(CENT, rounding=ROUND_HALF_UP)
        for balance, rate in zip(balances, adjusted, strict=True)
    ]
    customers = [
        CustomerProvision(
            customer_id=customer_id,
            balance=sum(by_bucket, ZERO),
            provision=sum(
                (amount * rate for amount, rate in zip(by_bucket, adjusted, strict=True)), ZERO
            ).quantize(CENT, rounding=ROUND_HALF_UP),
            by_bucket=by_bucket,
        )
        for customer_id, by_bucket in per_customer.items()
    ]
    customers.sort(key=lambda row: (-row.provision, -row.balance, row.customer_id))
    return ProvisionMatrix(
        as_of=as_of,
        lookback_months=months,
        forward_factor=forward_factor,
        buckets=buckets,
        month_ends=ends,
        history=history,
        flows=flows,
        roll_rates=roll_rates,
        write_off_rates=write_off_rates,
        loss_rates=loss_rates,
        adjusted_rates=adjusted,
        balances=balances,
        provisions=provisions,
        customers=customers,
    )
