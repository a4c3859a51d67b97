"""The segment worksheet 市场细分作业单 (domain §4.7): per product line, its best customers, its
worst customers and the next action. Reads only.

A product line is a `catalog.ProductCategory`. For a value snapshot, a customer's figures in a
line are the order lines of that category in the snapshot's window, of orders in a purchase
state (confirmed, delivered, invoiced: drafts, held and cancelled orders do not count, as in the
snapshot), less the return lines of returns dated in the window (their cost at the order line's
unit cost). These are joined with the customer's snapshot figures (net profit, cost to serve,
complaints, returns, payment discipline, classes) over the same window.

- **Worst customers** are those the worksheet gives a reason for: a loss after the cost to
  serve (net profit below zero: the cost to serve is above the gross profit), selling below
  cost in the line, complaints or returns out of proportion (more per 100,000 of revenue than
  the setting), paying late (more days beyond terms on average than the setting). Ranked by net
  profit ascending; the first `segment_top_n` are listed.
- **Best customers** are the first `segment_top_n` by gross profit in the line among the
  customers with a positive net profit, a positive gross profit in the line and no reason to be
  among the worst (a customer is in one list only), each with the evidence why.

Access (decided here, as on the matrix and profitability pages): everything — the line's
totals, the shares, the lists and the actions about one customer — is over the customers the
user may see (`customers_visible_to`); a rep's worksheet is that of their own customers. The
command line, which acts without a user, sees every customer.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import xlsxwriter
from django.db.models import DecimalField, F, Q, QuerySet, Sum
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from kehu.accounts.models import User
from kehu.catalog.models import ProductCategory
from kehu.core.errors import NotFound
from kehu.core.money import CENT
from kehu.customers.models import Customer
from kehu.customers.selectors import customers_visible_to
from kehu.sales.models import PURCHASE_STATES, OrderLine, ReturnLine
from kehu.value.models import (
    CustomerValue,
    PyramidClass,
    Quadrant,
    SegmentAction,
    SegmentActionStatus,
    ValueSnapshot,
)
from kehu.value.report_figures import snapshot_for_report
from kehu.value.selectors import value_settings_current, value_snapshot_latest

HUNDRED_THOUSAND = Decimal(100_000)
VALUE_FIELDS = (
    "revenue",
    "gross_profit",
    "cost_to_serve",
    "net_profit",
    "complaint_count",
    "return_count",
    "paid_on_time_share",
    "days_beyond_terms",
    "pyramid_class",
    "quadrant",
)
MATCH_LIMIT = 50  # customers listed per line for a search

# Why a customer is among the worst, in the order the first one gives the suggestion.
REASON_KEYS = ("loss", "below_cost", "late", "complaints", "returns")
SUGGESTIONS: dict[str, Promise] = {
    "best": _(
        "Build a strategic partnership: a manager who knows them, joint plans, first call on "
        "new products."
    ),
    "loss": _(
        "Raise the price or change the terms (charge for small orders and special "
        "services), or let them go."
    ),
    "below_cost": _("Review the prices and discounts of this line for them: they buy below cost."),
    "late": _("Tighten credit: shorter terms, a lower credit line or payment before delivery."),
    "complaints": _(
        "Find out what goes wrong with them; agree on the service they pay for, or serve them at "
        "the least cost."
    ),
    "returns": _("Find the cause of the returns and agree on terms for returns."),
    "segment": _(
        "Keep the best customers close, and turn the worst into good customers or give them up."
    ),
}
SORTS = {
    "code": lambda row: (row.code,),
    "name": lambda row: (row.name, row.code),
    "line_revenue": lambda row: (row.line_revenue, row.code),
    "line_gross_profit": lambda row: (row.line_gross_profit, row.code),
    "net_profit": lambda row: (row.net_profit, row.code),
}


@dataclass(frozen=True)
class SegmentSettings:
    top_n: int
    complaints_per_100k: Decimal
    returns_per_100k: Decimal
    late_days: Decimal


@dataclass(frozen=True)
class Reason:
    """One reason a customer is among the worst, with its numbers."""

    key: str
    text: str


@dataclass
class SegmentCustomer:
    customer_id: int
    code: str
    name: str
    # In the line, over the window.
    line_revenue: Decimal
    line_gross_profit: Decimal
    line_share: float | None  # of the line's gross profit (None when that is not positive)
    line_margin: float | None  # line gross profit over line revenue
    # The snapshot's, over the same window, all lines together.
    revenue: Decimal
    gross_profit: Decimal
    cost_to_serve: Decimal
    net_profit: Decimal
    complaint_count: int
    return_count: int
    paid_on_time_share: float | None
    days_beyond_terms: float | None
    pyramid_class: str
    quadrant: str
    reasons: tuple[Reason, ...] = ()
    evidence: tuple[str, ...] = ()
    standing: str = ""  # "best", "worst" or "" (neither)
    suggestion_key: str = ""

    @property
    def pyramid_label(self) -> str:
        return str(PyramidClass(self.pyramid_class).label) if self.pyramid_class else ""

    @property
    def quadrant_label(self) -> str:
        return str(Quadrant(self.quadrant).label) if self.quadrant else ""

    @property
    def suggestion(self) -> str:
        return str(SUGGESTIONS[self.suggestion_key]) if self.suggestion_key else ""


@dataclass
class Segment:
    """One product line of the worksheet."""

    line_id: int
    code: str
    name: str
    customer_count: int
    revenue: Decimal
    gross_profit: Decimal
    best: list[SegmentCustomer]
    worst: list[SegmentCustomer]
    worst_total: int  # how many customers have a reason, of which `worst` lists the first
    best_gross_profit: Decimal  # the line gross profit of the listed best customers
    worst_gross_profit: Decimal  # … of the listed worst customers
    actions: list[SegmentAction] = field(default_factory=list)
    matches: list[SegmentCustomer] = field(default_factory=list)  # for a search

    @property
    def rest_gross_profit(self) -> Decimal:
        return self.gross_profit - self.best_gross_profit - self.worst_gross_profit

    @property
    def suggestion(self) -> str:
        return str(SUGGESTIONS["segment"] if self.worst else SUGGESTIONS["best"])


@dataclass
class Worksheet:
    snapshot: ValueSnapshot
    settings: SegmentSettings
    segments: list[Segment]
    line_id: int | None
    search: str

    @property
    def open_action_count(self) -> int:
        return sum(len(segment.actions) for segment in self.segments)


def segment_snapshot(*, snapshot_id: int | None = None, period: str | None = None) -> ValueSnapshot:
    """The snapshot the worksheet reads: the one of `snapshot_id`, else the newest finished
    one of `period`, else the newest finished one. NotFound names what is missing."""
    if snapshot_id is None and period:
        snapshot = value_snapshot_latest(period=period)
        if snapshot is None:
            raise NotFound(f"there is no finished value snapshot of the period {period}")
        return snapshot
    return snapshot_for_report(snapshot_id)


def segment_settings(values: dict[str, Any] | None = None) -> SegmentSettings:
    """The worksheet's thresholds from the value settings in force (or from `values`)."""
    values = values if values is not None else value_settings_current()
    return SegmentSettings(
        top_n=int(values["segment_top_n"]),
        complaints_per_100k=Decimal(str(values["segment_complaints_per_100k"])),
        returns_per_100k=Decimal(str(values["segment_returns_per_100k"])),
        late_days=Decimal(str(values["segment_late_days"])),
    )


def _visible(user: User | None) -> QuerySet[Customer]:
    return Customer.objects.all() if user is None else customers_visible_to(user)


def segment_lines() -> QuerySet[ProductCategory]:
    """The product lines, by code."""
    return ProductCategory.objects.order_by("code", "id")


def _money(value: Any) -> Decimal:
    """A database sum as money to the cent (SQLite sums through floats)."""
    return Decimal(0).quantize(CENT) if value is None else Decimal(str(value)).quantize(CENT)


def _amount(value: Decimal) -> str:
    return f"{value:,.2f}"


def _ratio(part: Decimal, whole: Decimal) -> float | None:
    return float(part) / float(whole) if whole > 0 else None


def _line_figures(
    *, snapshot: ValueSnapshot, customers: QuerySet[Customer], line_id: int | None
) -> dict[tuple[int, int], tuple[Decimal, Decimal]]:
    """(customer, line) → (revenue, cost of goods) in the line over the snapshot's window."""
    window = (snapshot.window_start, snapshot.window_end)
    sold = OrderLine.objects.filter(
        order__state__in=PURCHASE_STATES,
        order__order_date__range=window,
        order__customer__in=customers.values("pk"),
    )
    returned = ReturnLine.objects.filter(
        sales_return__returned_on__range=window,
        sales_return__customer__in=customers.values("pk"),
    )
    if line_id is not None:
        sold = sold.filter(product__category_id=line_id)
        returned = returned.filter(order_line__product__category_id=line_id)
    figures: dict[tuple[int, int], tuple[Decimal, Decimal]] = {}
    for item in (
        sold.values("order__customer_id", "product__category_id")
        .annotate(revenue=Sum("amount"), cost=Sum("cost"))
        .order_by()
    ):
        key = (item["order__customer_id"], item["product__category_id"])
        figures[key] = (_money(item["revenue"]), _money(item["cost"]))
    return_cost = Sum(
        F("quantity") * F("order_line__unit_cost"),
        output_field=DecimalField(max_digits=24, decimal_places=5),
    )
    for back in (
        returned.values("sales_return__customer_id", "order_line__product__category_id")
        .annotate(amount=Sum("amount"), cost=return_cost)
        .order_by()
    ):
        key = (back["sales_return__customer_id"], back["order_line__product__category_id"])
        revenue, cost = figures.get(key, (Decimal("0.00"), Decimal("0.00")))
        figures[key] = (revenue - _money(back["amount"]), cost - _money(back["cost"]))
    return figures


def _reasons(row: SegmentCustomer, settings: SegmentSettings) -> tuple[Reason, ...]:
    reasons: dict[str, str] = {}
    if row.net_profit < 0 and row.gross_profit < 0:
        reasons["loss"] = gettext(
            "net profit %(net)s: sold below cost (gross profit %(gross)s), and a cost to serve "
            "of %(cost)s"
        ) % {
            "net": _amount(row.net_profit),
            "cost": _amount(row.cost_to_serve),
            "gross": _amount(row.gross_profit),
        }
    elif row.net_profit < 0:
        reasons["loss"] = gettext(
            "net profit %(net)s: cost to serve %(cost)s > gross profit %(gross)s"
        ) % {
            "net": _amount(row.net_profit),
            "cost": _amount(row.cost_to_serve),
            "gross": _amount(row.gross_profit),
        }
    if row.line_gross_profit < 0:
        reasons["below_cost"] = gettext("gross profit %(gross)s in this line: sold below cost") % {
            "gross": _amount(row.line_gross_profit)
        }
    if row.days_beyond_terms is not None and Decimal(str(row.days_beyond_terms)) > (
        settings.late_days
    ):
        days = round(row.days_beyond_terms)
        reasons["late"] = ngettext(
            "pays %(days)s day late on average", "pays %(days)s days late on average", days
        ) % {"days": days}
    for key, count, limit in (
        ("complaints", row.complaint_count, settings.complaints_per_100k),
        ("returns", row.return_count, settings.returns_per_100k),
    ):
        if not count:
            continue
        if key == "complaints":
            text = ngettext("%(count)s complaint", "%(count)s complaints", count)
        else:
            text = ngettext("%(count)s return", "%(count)s returns", count)
        if row.revenue <= 0:
            reasons[key] = (text % {"count": count}) + " " + gettext("on no revenue")
            continue
        rate = Decimal(count) * HUNDRED_THOUSAND / row.revenue
        if rate > limit:
            reasons[key] = (
                (text % {"count": count})
                + " "
                + gettext("(%(rate)s per 100,000 of revenue, more than %(limit)s)")
                % {"rate": f"{rate:,.1f}", "limit": f"{limit.normalize():,}"}
            )
    return tuple(Reason(key=key, text=reasons[key]) for key in REASON_KEYS if key in reasons)


def _evidence(row: SegmentCustomer) -> tuple[str, ...]:
    evidence = []
    if row.line_share is not None:
        evidence.append(
            gettext("%(share)s of the line's gross profit") % {"share": f"{row.line_share:.1%}"}
        )
    if row.line_margin is not None:
        evidence.append(gettext("margin %(margin)s") % {"margin": f"{row.line_margin:.1%}"})
    if row.paid_on_time_share is None:
        evidence.append(gettext("no invoice due in the window"))
    elif row.days_beyond_terms is not None and row.days_beyond_terms >= 1:
        days = round(row.days_beyond_terms)
        evidence.append(
            ngettext(
                "%(share)s paid on time, %(days)s day late on average",
                "%(share)s paid on time, %(days)s days late on average",
                days,
            )
            % {"share": f"{row.paid_on_time_share:.0%}", "days": days}
        )
    else:
        evidence.append(
            gettext("pays on time (%(share)s on time)") % {"share": f"{row.paid_on_time_share:.0%}"}
        )
    classes = " · ".join(label for label in (row.pyramid_label, row.quadrant_label) if label)
    if classes:
        evidence.append(classes)
    return tuple(evidence)


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _segment_customers(
    *, snapshot: ValueSnapshot, figures: dict[tuple[int, int], tuple[Decimal, Decimal]]
) -> dict[int, CustomerValue]:
    """The snapshot rows of the customers in `figures` (made of visible customers only), with
    just the fields the worksheet reads."""
    ids = {customer_id for customer_id, _line in figures}
    rows = (
        CustomerValue.objects.filter(snapshot=snapshot, customer_id__in=ids)
        .select_related("customer")
        .only("customer_id", "customer__code", "customer__name", *VALUE_FIELDS)
    )
    return {row.customer_id: row for row in rows}


def segment_worksheet(
    *,
    user: User | None,
    snapshot: ValueSnapshot,
    line_id: int | None = None,
    search: str = "",
    sort: str = "",
    settings: SegmentSettings | None = None,
) -> Worksheet:
    """The worksheet of `snapshot` over the customers `user` may see (every customer when
    `user` is None): every product line (or the one of `line_id`), its totals, best and worst
    customers with their reasons, and its open next actions. `search` (a customer's code or
    name) keeps the lines where a matching customer bought and lists the matches with their
    standing. `sort` reorders the listed rows (code, name, line_revenue, line_gross_profit,
    net_profit, "-" for descending)."""
    settings = settings or segment_settings()
    customers = _visible(user)
    figures = _line_figures(snapshot=snapshot, customers=customers, line_id=line_id)
    values = _segment_customers(snapshot=snapshot, figures=figures)
    by_line: dict[int, list[SegmentCustomer]] = defaultdict(list)
    for (customer_id, category_id), (revenue, cost) in figures.items():
        row = values.get(customer_id)
        if row is None:  # a customer made after the snapshot: it has no figures in it
            continue
        gross = revenue - cost
        by_line[category_id].append(
            SegmentCustomer(
                customer_id=customer_id,
                code=row.customer.code,
                name=row.customer.name,
                line_revenue=revenue,
                line_gross_profit=gross,
                line_share=None,
                line_margin=_ratio(gross, revenue),
                revenue=row.revenue,
                gross_profit=row.gross_profit,
                cost_to_serve=row.cost_to_serve,
                net_profit=row.net_profit,
                complaint_count=row.complaint_count,
                return_count=row.return_count,
                paid_on_time_share=_float(row.paid_on_time_share),
                days_beyond_terms=_float(row.days_beyond_terms),
                pyramid_class=row.pyramid_class,
                quadrant=row.quadrant,
            )
        )
    lines = segment_lines()
    if line_id is not None:
        lines = lines.filter(pk=line_id)
    actions = segment_actions_open(user=user, line_id=line_id)
    actions_by_line: dict[int, list[SegmentAction]] = defaultdict(list)
    for action in actions:
        actions_by_line[action.category_id].append(action)
    needle = search.strip().casefold()
    segments = []
    for line in lines:
        segment = _segment(line, by_line.get(line.pk, []), settings, sort)
        segment.actions = actions_by_line.get(line.pk, [])
        if needle:
            segment.matches = [
                row
                for row in sorted(by_line.get(line.pk, []), key=lambda row: row.code)
                if needle in row.code.casefold() or needle in row.name.casefold()
            ][:MATCH_LIMIT]
            if not segment.matches:
                continue
        segments.append(segment)
    return Worksheet(
        snapshot=snapshot, settings=settings, segments=segments, line_id=line_id, search=search
    )


def _sorted(rows: list[SegmentCustomer], sort: str) -> list[SegmentCustomer]:
    key = sort.lstrip("-")
    if key not in SORTS:
        return rows
    return sorted(rows, key=SORTS[key], reverse=sort.startswith("-"))


def _segment(
    line: ProductCategory, rows: list[SegmentCustomer], settings: SegmentSettings, sort: str
) -> Segment:
    revenue = sum((row.line_revenue for row in rows), Decimal("0.00"))
    gross = sum((row.line_gross_profit for row in rows), Decimal("0.00"))
    worst_all = []
    best_candidates = []
    for row in rows:
        row.line_share = _ratio(row.line_gross_profit, gross)
        row.reasons = _reasons(row, settings)
        if row.reasons:
            row.standing = "worst"
            row.suggestion_key = row.reasons[0].key
            worst_all.append(row)
        elif row.net_profit > 0 and row.line_gross_profit > 0:
            best_candidates.append(row)
    worst_all.sort(key=lambda row: (row.net_profit, row.code))
    best_candidates.sort(key=lambda row: (-row.line_gross_profit, row.code))
    best = best_candidates[: settings.top_n]
    for row in best:
        row.standing = "best"
        row.suggestion_key = "best"
        row.evidence = _evidence(row)
    worst = worst_all[: settings.top_n]
    return Segment(
        line_id=line.pk,
        code=line.code,
        name=line.name,
        customer_count=len(rows),
        revenue=revenue,
        gross_profit=gross,
        best=_sorted(best, sort),
        worst=_sorted(worst, sort),
        worst_total=len(worst_all),
        best_gross_profit=sum((row.line_gross_profit for row in best), Decimal("0.00")),
        worst_gross_profit=sum((row.line_gross_profit for row in worst), Decimal("0.00")),
    )


# --- The export ------------------------------------------------------------------------------


def segments_workbook(output: Any, *, worksheet: Worksheet) -> None:
    """The worksheet as people print it: one sheet, per line a heading with its totals, then
    its best customers, its worst customers and its next actions."""
    workbook = xlsxwriter.Workbook(output)
    title = workbook.add_format({"bold": True, "font_size": 14})
    line_format = workbook.add_format({"bold": True, "font_size": 12, "bg_color": "#DDE2F8"})
    section = workbook.add_format({"bold": True, "italic": True})
    bold = workbook.add_format({"bold": True, "bg_color": "#EEF0F4", "bottom": 1})
    money = workbook.add_format({"num_format": "#,##0.00"})
    share = workbook.add_format({"num_format": "0.0%"})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    sheet = workbook.add_worksheet(gettext("Segment worksheet"))
    sheet.set_column(0, 0, 14)
    sheet.set_column(1, 1, 30)
    sheet.set_column(2, 5, 15)
    sheet.set_column(6, 6, 60)
    sheet.set_column(7, 7, 50)
    snapshot = worksheet.snapshot
    sheet.write_string(0, 0, gettext("Segment worksheet"), title)
    sheet.write_string(
        1,
        0,
        gettext("Period %(period)s, window %(start)s – %(end)s")
        % {
            "period": snapshot.period,
            "start": snapshot.window_start.isoformat(),
            "end": snapshot.window_end.isoformat(),
        },
    )
    header = [
        gettext("Code"),
        gettext("Name"),
        gettext("Revenue in the line"),
        gettext("Gross profit in the line"),
        gettext("Share of the line's gross profit"),
        gettext("Net profit"),
        gettext("Why"),
        gettext("Suggested action"),
    ]
    line = 3
    for segment in worksheet.segments:
        sheet.merge_range(
            line,
            0,
            line,
            7,
            gettext(
                "%(code)s %(name)s — %(customers)s customers, revenue %(revenue)s, gross profit "
                "%(gross)s"
            )
            % {
                "code": segment.code,
                "name": segment.name,
                "customers": f"{segment.customer_count:,}",
                "revenue": f"{segment.revenue:,.2f}",
                "gross": f"{segment.gross_profit:,.2f}",
            },
            line_format,
        )
        line += 1
        for label, rows in (
            (gettext("Best customers"), segment.best),
            (gettext("Worst customers"), segment.worst),
        ):
            sheet.write_string(line, 0, label, section)
            line += 1
            if not rows:
                sheet.write_string(line, 0, gettext("None"))
                line += 2
                continue
            for column, text in enumerate(header):
                sheet.write_string(line, column, text, bold)
            line += 1
            for row in rows:
                sheet.write_string(line, 0, row.code)
                sheet.write_string(line, 1, row.name)
                sheet.write_number(line, 2, float(row.line_revenue), money)
                sheet.write_number(line, 3, float(row.line_gross_profit), money)
                if row.line_share is not None:
                    sheet.write_number(line, 4, row.line_share, share)
                sheet.write_number(line, 5, float(row.net_profit), money)
                why = row.evidence if row.standing == "best" else [r.text for r in row.reasons]
                sheet.write_string(line, 6, "; ".join(why), wrap)
                sheet.write_string(line, 7, row.suggestion, wrap)
                line += 1
            line += 1
        sheet.write_string(line, 0, gettext("Next action"), section)
        line += 1
        if not segment.actions:
            sheet.write_string(line, 0, gettext("None recorded"))
            sheet.write_string(line, 6, segment.suggestion, wrap)
            line += 2
            continue
        for column, text in enumerate(
            [
                gettext("Due"),
                gettext("Owner"),
                gettext("Customer"),
                "",
                "",
                gettext("Recorded by"),
                gettext("Next action"),
            ]
        ):
            if text:
                sheet.write_string(line, column, text, bold)
        line += 1
        for action in segment.actions:
            sheet.write_string(line, 0, action.due_on.isoformat())
            sheet.write_string(line, 1, str(action.owner))
            if action.customer is not None:
                sheet.write_string(line, 2, f"{action.customer.code} {action.customer.name}")
            sheet.write_string(line, 5, str(action.recorded_by))
            sheet.write_string(line, 6, action.text, wrap)
            line += 1
        line += 1
    if not worksheet.segments:
        sheet.write_string(line, 0, gettext("No product line to show."))
    workbook.close()


# --- The next actions ---------------------------------------------------------------------------


def segment_actions_visible(*, user: User | None) -> QuerySet[SegmentAction]:
    """The next actions `user` may see: those about a line, and those about a customer they
    may see."""
    actions = SegmentAction.objects.select_related(
        "category", "customer", "owner", "recorded_by", "done_by"
    )
    if user is None:
        return actions
    return actions.filter(
        Q(customer__isnull=True) | Q(customer__in=customers_visible_to(user).values("pk"))
    )


def segment_actions_open(
    *, user: User | None, line_id: int | None = None
) -> QuerySet[SegmentAction]:
    """The open next actions `user` may see (of one line, when given), the soonest due first."""
    actions = segment_actions_visible(user=user).filter(status=SegmentActionStatus.OPEN)
    if line_id is not None:
        actions = actions.filter(category_id=line_id)
    return actions.order_by("category__code", "due_on", "id")
