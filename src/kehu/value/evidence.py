"""Why a customer is in its classes (issue 3: "every customer's card shows its classes with the
numbers that put it there"): for the customer's row in a snapshot, one sentence per class with
the figures and the cut points the snapshot used, and the customer's classes over the last
snapshots.

Everything is read from the stored snapshot (its rows and its `parameters`), never recomputed
from the ledger, so the evidence is what the classification actually saw. The positions among
active customers (buys more often than x% of them) are the same tie-aware percentiles the
scoring uses, counted in one grouped query over the snapshot's rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.customers.models import Customer
from kehu.customers.selectors import customer_get_visible
from kehu.value.models import (
    CustomerValue,
    MoneyClass,
    PyramidClass,
    Quadrant,
    RfmSegment,
    ValueSnapshot,
)
from kehu.value.report_figures import (
    ACTIVE_CLASSES,
    COST_COMPONENTS,
    MEASURES,
    QUADRANT_ADVICE,
    loss_reason,
    matrix_thresholds,
    snapshot_choices,
)

HISTORY_LENGTH = 8


@dataclass(frozen=True)
class ClassEvidence:
    kind: str  # pyramid, money, quadrant, rfm, profit, score, lifetime
    title: str  # what is classified: "Pyramid class"
    label: str  # the class or figure: "VIP"
    key: str  # the class key, for styling ("vip", "core", "loss")
    because: str  # the sentence with the numbers


@dataclass(frozen=True)
class HistoryLine:
    snapshot: ValueSnapshot
    pyramid_class: str
    money_class: str
    quadrant: str
    rfm_segment: str
    rank: int | None
    rank_of: int | None
    net_profit: Decimal


@dataclass(frozen=True)
class CustomerValueEvidence:
    customer: Customer
    snapshot: ValueSnapshot
    row: CustomerValue | None  # None: the customer was not in the snapshot (added later)
    evidence: tuple[ClassEvidence, ...]
    history: tuple[HistoryLine, ...]


# Numbers are written the way the pages write them, grouped by thousands in every language.
def _money(value: Decimal | float | int) -> str:
    return f"{Decimal(str(value)):,.2f}"


def _percent(share: float | Decimal | None, digits: int = 1) -> str:
    if share is None:
        return "–"
    return f"{float(share) * 100:.{digits}f}%"


def _count(value: int) -> str:
    return f"{int(value):,}"


def _score(value: Decimal | float) -> str:
    return f"{float(value):.2f}"


def _compared(value: Decimal | float, threshold: Decimal | float) -> tuple[str, str, str]:
    """(value, relation, threshold) written with as many decimals as it takes to tell them
    apart: 0.4996 against 0.5 reads "0.4996 < 0.5000", never "0.50 < 0.50"."""
    relation = "≥" if float(value) >= float(threshold) else "<"
    for digits in (2, 3, 4):
        left, right = f"{float(value):.{digits}f}", f"{float(threshold):.{digits}f}"
        if left != right or relation == "≥":
            break
    return left, relation, right


def _above(position: float) -> str:
    """A position among customers, rounded down: 0.9996 is "99%", not "100%"."""
    return f"{math.floor(position * 100)}%"


def _setting(snapshot: ValueSnapshot, key: str, default: Any) -> Any:
    return ((snapshot.parameters or {}).get("settings") or {}).get(key, default)


def _class_ranks(snapshot: ValueSnapshot) -> dict[str, tuple[int, int]]:
    """The ranks each active class spans (first, last), from the counts the snapshot stored."""
    counts = (snapshot.parameters or {}).get("pyramid_counts") or {}
    spans: dict[str, tuple[int, int]] = {}
    first = 1
    for key in ACTIVE_CLASSES:
        count = int(counts.get(str(key), 0))
        if count:
            spans[str(key)] = (first, first + count - 1)
        first += count
    return spans


def _pyramid(row: CustomerValue, snapshot: ValueSnapshot) -> ClassEvidence:
    label = str(PyramidClass(row.pyramid_class).label)
    title = _("Pyramid class")
    if row.pyramid_class == PyramidClass.PROSPECT:
        because = _("Has never bought.")
    elif row.pyramid_class == PyramidClass.INACTIVE:
        because = _("No purchase from %(start)s to %(end)s, the snapshot's window.") % {
            "start": snapshot.window_start,
            "end": snapshot.window_end,
        }
    else:
        measure = str(MEASURES.get(snapshot.measure, snapshot.measure)).lower()
        value = getattr(row, snapshot.measure)
        total = (
            snapshot.total_gross_profit
            if snapshot.measure == "gross_profit"
            else snapshot.total_revenue
        )
        because = _(
            "Rank %(rank)s of %(of)s active customers by %(measure)s (top %(top)s); "
            "%(measure)s %(value)s, %(share)s of the company's total."
        ) % {
            "rank": _count(row.rank or 0),
            "of": _count(row.rank_of or 0),
            "measure": measure,
            "top": _percent((row.rank or 0) / row.rank_of if row.rank_of else None),
            "value": _money(value),
            "share": _percent(float(value) / float(total) if total and total > 0 else None, 2),
        }
        span = _class_ranks(snapshot).get(row.pyramid_class)
        if span is not None:
            because += " " + _("%(class)s are ranks %(first)s to %(last)s.") % {
                "class": label,
                "first": _count(span[0]),
                "last": _count(span[1]),
            }
    return ClassEvidence("pyramid", title, label, row.pyramid_class, because)


def _positions(row: CustomerValue, snapshot: ValueSnapshot) -> dict[str, float]:
    """Tie-aware positions (share of active customers below, ties counted half) of the
    customer's purchases, revenue and margin: as scoring.tie_positions computes them."""
    active = CustomerValue.objects.filter(snapshot=snapshot, rank__isnull=False).order_by()
    revenue = row.revenue
    if revenue > 0:
        margin = row.gross_profit / revenue
        below = Q(revenue__lte=0) | Q(revenue__gt=0, gross_profit__lt=F("revenue") * margin)
        level = Q(revenue__lte=0) | Q(revenue__gt=0, gross_profit__lte=F("revenue") * margin)
    else:  # no margin: counted as the lowest, with every other customer without revenue
        below = Q(pk__in=[])
        level = Q(revenue__lte=0)
    counts = active.aggregate(
        n=Count("id"),
        purchases_lt=Count("id", filter=Q(purchase_count__lt=row.purchase_count)),
        purchases_le=Count("id", filter=Q(purchase_count__lte=row.purchase_count)),
        revenue_lt=Count("id", filter=Q(revenue__lt=revenue)),
        revenue_le=Count("id", filter=Q(revenue__lte=revenue)),
        margin_lt=Count("id", filter=below),
        margin_le=Count("id", filter=level),
    )
    n = counts["n"] or 1
    return {
        name: (counts[f"{name}_lt"] + counts[f"{name}_le"]) / (2 * n)
        for name in ("purchases", "revenue", "margin")
    }


def _money_class(row: CustomerValue, snapshot: ValueSnapshot) -> ClassEvidence:
    label = str(MoneyClass(row.money_class).label)
    title = _("Money class")
    if row.money_class == MoneyClass.NOT_ACTIVE:
        return ClassEvidence(
            "money", title, label, row.money_class, _("No purchase in the window.")
        )
    threshold = Decimal(str(_setting(snapshot, "money_threshold", "0.5")))
    score, relation, threshold_text = _compared(row.money_score, threshold)
    positions = _positions(row, snapshot)
    margin = row.gross_profit / row.revenue if row.revenue > 0 else None
    because = _(
        "Money score %(score)s %(relation)s the threshold %(threshold)s. Buys more often than "
        "%(frequency)s of active customers (%(purchases)s purchases), more than %(volume)s "
        "(revenue %(revenue)s); margin %(margin)s (above %(margin_position)s); loyalty "
        "%(loyalty)s; payment %(payment)s."
    ) % {
        "score": score,
        "relation": relation,
        "threshold": threshold_text,
        "frequency": _above(positions["purchases"]),
        "purchases": _count(row.purchase_count),
        "volume": _above(positions["revenue"]),
        "revenue": _money(row.revenue),
        "margin": _percent(margin),
        "margin_position": _above(positions["margin"]),
        "loyalty": _score(row.loyalty_score),
        "payment": _score(row.payment_score),
    }
    return ClassEvidence("money", title, label, row.money_class, because)


def _quadrant(row: CustomerValue, snapshot: ValueSnapshot) -> ClassEvidence:
    label = str(Quadrant(row.quadrant).label)
    title = _("Value matrix")
    advice = str(QUADRANT_ADVICE[row.quadrant])
    if row.quadrant == Quadrant.NOT_ACTIVE:
        return ClassEvidence("quadrant", title, label, row.quadrant, advice)
    volume, setting, loyalty = matrix_thresholds(snapshot)
    large = volume is not None and row.revenue > volume
    loyalty_text, loyalty_relation, loyalty_threshold = _compared(row.loyalty_score, loyalty)
    because = _(
        "Revenue %(revenue)s %(volume_relation)s the volume threshold %(volume)s (%(setting)s); "
        "loyalty %(loyalty)s %(loyalty_relation)s %(loyalty_threshold)s."
    ) % {
        "revenue": _money(row.revenue),
        "volume_relation": ">" if large else "≤",
        "volume": _money(volume) if volume is not None else "–",
        "setting": _("the median of active customers") if setting == "median" else _("set"),
        "loyalty": loyalty_text,
        "loyalty_relation": loyalty_relation,
        "loyalty_threshold": loyalty_threshold,
    }
    return ClassEvidence("quadrant", title, label, row.quadrant, f"{because} {advice}")


def _rfm(row: CustomerValue) -> ClassEvidence | None:
    if not row.rfm_segment:
        return None
    label = str(RfmSegment(row.rfm_segment).label)
    because = _("R %(r)s · F %(f)s · M %(m)s (quintiles, 5 best)") % {
        "r": row.recency_score or "–",
        "f": row.frequency_score or "–",
        "m": row.monetary_score or "–",
    }
    if row.recency_days is not None:
        because += "; " + _("last purchase %(days)s days before the window's end") % {
            "days": _count(row.recency_days)
        }
    return ClassEvidence("rfm", _("RFM segment"), label, row.rfm_segment, because + ".")


def _profit(row: CustomerValue) -> ClassEvidence:
    is_loss = row.net_profit < 0
    parts = sorted(
        ((getattr(row, field), str(label)) for field, label in COST_COMPONENTS.items()),
        reverse=True,
    )
    largest = [f"{label} {_money(amount)}" for amount, label in parts[:2] if amount > 0]
    because = _("Net profit %(net)s = gross profit %(gross)s − cost to serve %(cost)s") % {
        "net": _money(row.net_profit),
        "gross": _money(row.gross_profit),
        "cost": _money(row.cost_to_serve),
    }
    if largest:
        because += " (" + _("largest: %(parts)s") % {"parts": ", ".join(largest)} + ")"
    because += "."
    if is_loss:
        reason = loss_reason(row)
        if reason:
            because += " " + _("Loses money: %(reason)s.") % {"reason": reason}
    label = _("Loss-maker") if is_loss else _("Profitable")
    return ClassEvidence(
        "profit",
        _("Profit after the cost to serve"),
        label,
        "loss" if is_loss else "profit",
        because,
    )


def _lifetime(row: CustomerValue, snapshot: ValueSnapshot) -> ClassEvidence | None:
    if row.lifetime_value is None:
        return None
    years = _setting(snapshot, "lifetime_horizon_years", 10)
    rate = Decimal(str(_setting(snapshot, "lifetime_discount_rate", "0.10")))
    because = _(
        "Discounted value of the purchases expected over %(years)s years at %(rate)s a year."
    ) % {"years": years, "rate": _percent(rate)}
    alive = getattr(row, "probability_alive", None)
    if alive is not None:
        because += " " + _("Probability still a customer: %(share)s.") % {
            "share": _percent(alive, 0)
        }
    return ClassEvidence(
        "lifetime", _("Lifetime value"), _money(row.lifetime_value), "lifetime", because
    )


def evidence_for(row: CustomerValue, snapshot: ValueSnapshot) -> tuple[ClassEvidence, ...]:
    """The classes of `row` with the numbers that put it there."""
    items: list[ClassEvidence | None] = [
        _pyramid(row, snapshot),
        _money_class(row, snapshot),
        _quadrant(row, snapshot),
        _rfm(row),
        _profit(row),
        ClassEvidence(
            "score",
            _("Seven-factor value score"),
            _score(row.seven_factor_score),
            "score",
            _(
                "Of 100: volume, regularity, profit and loyalty from the data; feedback, "
                "influence and potential as people assessed them."
            ),
        )
        if row.rank is not None
        else None,
        _lifetime(row, snapshot),
    ]
    return tuple(item for item in items if item is not None)


def customer_value_evidence(
    *, user: User, customer_id: int, snapshot: ValueSnapshot | None = None
) -> CustomerValueEvidence | None:
    """The customer's classes with their evidence in `snapshot` (default: the latest finished
    one), and its classes over the last snapshots (newest first, one per period). NotFound when
    the user may not see the customer; None when there is no finished snapshot."""
    customer = customer_get_visible(user=user, customer_id=customer_id)
    chosen = snapshot or snapshot_choices().first()
    if chosen is None:
        return None
    row = CustomerValue.objects.filter(snapshot=chosen, customer=customer).first()
    history: list[HistoryLine] = []
    seen: set[str] = set()
    rows = (
        CustomerValue.objects.filter(customer=customer, snapshot__in=snapshot_choices())
        .select_related("snapshot")
        .order_by("-snapshot__period_end", "-snapshot__started_at", "-snapshot_id")
    )
    for item in rows[: HISTORY_LENGTH * 4]:
        if item.snapshot.period in seen:
            continue
        seen.add(item.snapshot.period)
        history.append(
            HistoryLine(
                snapshot=item.snapshot,
                pyramid_class=item.pyramid_class,
                money_class=item.money_class,
                quadrant=item.quadrant,
                rfm_segment=item.rfm_segment,
                rank=item.rank,
                rank_of=item.rank_of,
                net_profit=item.net_profit,
            )
        )
        if len(history) == HISTORY_LENGTH:
            break
    return CustomerValueEvidence(
        customer=customer,
        snapshot=chosen,
        row=row,
        evidence=evidence_for(row, chosen) if row is not None else (),
        history=tuple(history),
    )
