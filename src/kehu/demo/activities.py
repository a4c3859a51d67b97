"""Activities (visits, calls, deliveries, service jobs, greetings …) and complaints of a chunk.

Activities carry the cost to serve (domain §4.5); complaints have an owner, the first person
asked (首问负责制), and customers who leave often complained shortly before.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kehu.demo.context import BuildContext, segment_index
from kehu.demo.customers import NEVER, CustomerDraw
from kehu.demo.ledger import LedgerDraw
from kehu.demo.reference import ACTIVITY_SUBJECTS, COMPLAINT_TEXTS, OUTCOME_NOTES
from kehu.demo.trade import DELIVERED, INVOICED, TradeDraw
from kehu.service.models import (
    Activity,
    ActivityKind,
    ActivityOutcome,
    Complaint,
    ComplaintCategory,
    ComplaintState,
)

OUTCOMES = (
    ActivityOutcome.SUCCESSFUL,
    ActivityOutcome.FOLLOW_UP,
    ActivityOutcome.UNSUCCESSFUL,
    ActivityOutcome.NO_CONTACT,
)


class _Batch:
    """Activity rows collected from several sources before one write."""

    def __init__(self) -> None:
        self.parts: list[dict[str, Any]] = []

    def add(
        self,
        *,
        customer: np.ndarray,
        day: np.ndarray,
        kind: str,
        subject_key: str,
        cost_low: float,
        cost_high: float,
        outcome_p: tuple[float, float, float, float],
        contact: str = "handler",
        owner: np.ndarray | None = None,
        subjects: list[str] | None = None,
    ) -> None:
        self.parts.append(
            {
                "customer": customer,
                "day": day,
                "kind": [kind] * len(customer),
                "subject_key": subject_key,
                "cost": (cost_low, cost_high),
                "outcome_p": outcome_p,
                "contact": contact,
                "owner": owner,
                "subjects": subjects,
            }
        )


def _poisson_days(
    ctx: BuildContext,
    rng: np.random.Generator,
    customers: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    per_year: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    expected = per_year / 365.0 * ctx.calendar.mass_between(low, high)
    counts = rng.poisson(expected)
    owner = segment_index(counts)
    days = ctx.calendar.draw_between(rng, low[owner], high[owner])
    return customers[owner], days


def activities_build(
    ctx: BuildContext,
    rng: np.random.Generator,
    draw: CustomerDraw,
    trade: TradeDraw,
    ledger: LedgerDraw,
) -> None:
    n = len(draw)
    everyone = np.arange(n)
    size = np.maximum(draw.size, 0)
    business = draw.is_business
    prospect = draw.is_prospect
    low = np.maximum(draw.created_day, ctx.start)
    high = np.full(n, ctx.today)
    batch = _Batch()

    visit_rate = np.where(
        prospect, np.where(business, 1.0, 0.2), np.where(business, 0.3 + 0.9 * size, 0.05)
    )
    customers, days = _poisson_days(ctx, rng, everyone, low, high, visit_rate)
    senior = (draw.size[customers] == 3) & (rng.random(len(customers)) < 0.15)
    owner = np.where(senior, draw.manager_id[customers], draw.owner_id[customers])
    batch.add(
        customer=customers,
        day=days,
        kind=ActivityKind.VISIT,
        subject_key="visit",
        cost_low=80,
        cost_high=400,
        outcome_p=(0.6, 0.25, 0.1, 0.05),
        contact="decision_maker",
        owner=owner,
    )

    call_rate = np.where(prospect, 1.5, np.where(business, 0.6 + 1.0 * size, 0.3))
    customers, days = _poisson_days(ctx, rng, everyone, low, high, call_rate)
    batch.add(
        customer=customers,
        day=days,
        kind=ActivityKind.CALL,
        subject_key="call",
        cost_low=1,
        cost_high=10,
        outcome_p=(0.55, 0.25, 0.1, 0.1),
    )

    email_rate = np.where(business & ~prospect, 0.3, 0.0)
    customers, days = _poisson_days(ctx, rng, everyone, low, high, email_rate)
    batch.add(
        customer=customers,
        day=days,
        kind=ActivityKind.EMAIL,
        subject_key="email",
        cost_low=0,
        cost_high=0,
        outcome_p=(0.8, 0.2, 0.0, 0.0),
    )

    service_rate = np.where(~prospect & np.isin(draw.primary_category, (2, 5)), 1.0, 0.0)
    customers, days = _poisson_days(ctx, rng, everyone, low, high, service_rate)
    batch.add(
        customer=customers,
        day=days,
        kind=ActivityKind.SERVICE_JOB,
        subject_key="service_job",
        cost_low=200,
        cost_high=1500,
        outcome_p=(0.85, 0.12, 0.03, 0.0),
        contact="handler",
    )

    meeting_rate = np.where(~prospect & (draw.size == 3), 1.0, 0.0)
    customers, days = _poisson_days(ctx, rng, everyone, low, high, meeting_rate)
    batch.add(
        customer=customers,
        day=days,
        kind=ActivityKind.MEETING,
        subject_key="meeting",
        cost_low=500,
        cost_high=3000,
        outcome_p=(0.9, 0.1, 0.0, 0.0),
        contact="decision_maker",
        owner=draw.manager_id[customers],
    )

    # Deliveries by the company's own trucks for a quarter of business orders.
    delivered = np.flatnonzero(
        ((trade.order_state == DELIVERED) | (trade.order_state == INVOICED))
        & business[trade.order_customer]
    )
    delivered = delivered[rng.random(len(delivered)) < 0.25]
    batch.add(
        customer=trade.order_customer[delivered],
        day=trade.delivered_day[delivered],
        kind=ActivityKind.DELIVERY,
        subject_key="delivery",
        cost_low=50,
        cost_high=300,
        outcome_p=(0.97, 0.0, 0.0, 0.03),
        subjects=[f"送货上门 {trade.order_numbers[i]}" for i in delivered.tolist()],
    )

    # Holiday greetings to the customers worth keeping close.
    for festival, threshold, subject in (
        ("spring", 100_000, "春节问候"),
        ("mid_autumn", 300_000, "中秋问候"),
    ):
        for day in ctx.calendar.festivals(festival).tolist():
            who = np.flatnonzero(
                ~prospect & (draw.yearly_value >= threshold) & (low <= day) & (draw.churn_day > day)
            )
            batch.add(
                customer=who,
                day=np.maximum(day - rng.integers(1, 8, size=len(who)), low[who]),
                kind=ActivityKind.GREETING,
                subject_key="greeting",
                cost_low=100,
                cost_high=800,
                outcome_p=(0.95, 0.0, 0.0, 0.05),
                contact="decision_maker",
                subjects=[subject] * len(who),
            )

    # Collection calls on invoices paid late or still overdue.
    late = np.flatnonzero(ledger.late_days > 15)
    call_day = ledger.due_day[late] + rng.integers(7, 21, size=len(late))
    keep = call_day <= ctx.today
    late, call_day = late[keep], call_day[keep]
    batch.add(
        customer=ledger.invoice_customer[late],
        day=call_day,
        kind=ActivityKind.CALL,
        subject_key="collection",
        cost_low=1,
        cost_high=5,
        outcome_p=(0.5, 0.35, 0.1, 0.05),
    )
    _activities_write(ctx, rng, draw, batch)
    _complaints_write(ctx, rng, draw)


def _activities_write(
    ctx: BuildContext, rng: np.random.Generator, draw: CustomerDraw, batch: _Batch
) -> None:
    writer = ctx.writer
    customer = np.concatenate([np.asarray(p["customer"], dtype=np.int64) for p in batch.parts])
    day = np.concatenate([np.asarray(p["day"], dtype=np.int64) for p in batch.parts])
    total = len(customer)
    kinds: list[str] = []
    subjects: list[str] = []
    outcomes = np.empty(total, dtype=np.int64)
    cost = np.empty(total, dtype=np.int64)
    owner = np.empty(total, dtype=np.int64)
    contact = np.empty(total, dtype=np.int64)
    position = 0
    for part in batch.parts:
        count = len(part["customer"])
        rows = slice(position, position + count)
        who = np.asarray(part["customer"], dtype=np.int64)
        kinds += [str(k) for k in part["kind"]]
        if part["subjects"] is not None:
            subjects += part["subjects"]
        else:
            options = ACTIVITY_SUBJECTS[part["subject_key"]]
            if part["subject_key"] in ("visit", "call"):
                prospect_options = ACTIVITY_SUBJECTS[f"prospect_{part['subject_key']}"]
                picks = rng.integers(0, 1000, size=count).tolist()
                subjects += [
                    prospect_options[k % len(prospect_options)]
                    if is_prospect
                    else options[k % len(options)]
                    for k, is_prospect in zip(picks, draw.is_prospect[who].tolist(), strict=True)
                ]
            else:
                subjects += [options[k] for k in rng.integers(0, len(options), size=count)]
        outcomes[rows] = rng.choice(4, size=count, p=np.asarray(part["outcome_p"]))
        low, high = part["cost"]
        cost[rows] = np.rint(rng.uniform(low, high, size=count)) * 100
        owner[rows] = draw.owner_id[who] if part["owner"] is None else part["owner"]
        assert draw.decision_maker_contact is not None
        assert draw.handler_contact is not None
        contact[rows] = (
            draw.decision_maker_contact[who]
            if part["contact"] == "decision_maker"
            else draw.handler_contact[who]
        )
        position += count
    # After a customer vanished, nobody answers any more.
    gone = day >= draw.vanish_day[customer]
    outcomes[gone] = 3
    order = np.lexsort((customer, day))
    outcome_codes = [str(OUTCOMES[o]) for o in outcomes.tolist()]
    note_pick = rng.integers(0, 1000, size=total).tolist()
    with_note = (rng.random(total) < 0.6).tolist()
    notes = [
        OUTCOME_NOTES[o][k % len(OUTCOME_NOTES[o])] if w else ""
        for o, k, w in zip(outcome_codes, note_pick, with_note, strict=True)
    ]
    stamps = writer.datetimes(day, ctx.office_seconds(rng, total))
    columns = {
        "created_at": stamps,
        "updated_at": stamps,
        "customer_id": draw.ids[customer],
        "contact_id": contact,
        "kind": kinds,
        "occurred_on": writer.dates(day),
        "owner_id": owner,
        "subject": subjects,
        "outcome": outcome_codes,
        "outcome_note": notes,
        "cost": writer.money(cost),
        "currency": ["CNY"] * total,
    }
    ordered: dict[str, Any] = {
        name: [values[i] for i in order.tolist()]
        if isinstance(values, list)
        else np.asarray(values)[order]
        for name, values in columns.items()
    }
    ordered["id"] = ctx.ids.take(Activity, total)
    writer.insert(Activity, ordered)


def _complaints_write(ctx: BuildContext, rng: np.random.Generator, draw: CustomerDraw) -> None:
    writer = ctx.writer
    n = len(draw)
    buyers = ~draw.is_prospect
    size = np.maximum(draw.size, 0)
    rate = np.where(buyers, np.where(draw.is_business, 0.03 + 0.04 * size, 0.02), 0.0)
    low = np.maximum(draw.acquired_day, ctx.start)
    high = np.minimum(draw.churn_day, ctx.today)
    customers, days = _poisson_days(ctx, rng, np.arange(n), low, np.maximum(high, low), rate)
    # Many who leave complained shortly before they went.
    leavers = np.flatnonzero(buyers & (draw.churn_day < NEVER) & (rng.random(n) < 0.4))
    leave_days = draw.churn_day[leavers] - rng.integers(10, 61, size=len(leavers))
    keep = leave_days >= low[leavers]
    customers = np.concatenate([customers, leavers[keep]])
    days = np.concatenate([days, leave_days[keep]])
    before_leaving = np.concatenate(
        [
            np.zeros(len(customers) - int(keep.sum()), dtype=bool),
            np.ones(int(keep.sum()), dtype=bool),
        ]
    )
    total = len(customers)
    categories = (
        ComplaintCategory.QUALITY,
        ComplaintCategory.DELIVERY,
        ComplaintCategory.SERVICE,
        ComplaintCategory.PRICE,
        ComplaintCategory.BILLING,
        ComplaintCategory.OTHER,
    )
    category = rng.choice(len(categories), size=total, p=(0.3, 0.25, 0.15, 0.1, 0.15, 0.05))
    finance = np.asarray(ctx.company.finance_ids)
    owner = np.where(rng.random(total) < 0.7, draw.owner_id[customers], draw.manager_id[customers])
    owner = np.where(category == 4, finance[rng.integers(0, len(finance), size=total)], owner)
    age = ctx.today - days
    fast = rng.random(total) < np.where(before_leaving, 0.2, 0.55)
    resolve_days = np.where(fast, rng.integers(0, 4, size=total), rng.integers(5, 61, size=total))
    resolved = (days + resolve_days <= ctx.today) & (
        rng.random(total) < np.where(before_leaving, 0.6, 0.95)
    )
    closed = resolved & (age > 30) & (rng.random(total) < 0.6)
    in_progress = ~resolved & (rng.random(total) < 0.6)
    state = np.select([closed, resolved, in_progress], [3, 2, 1], default=0)
    states = (
        ComplaintState.OPEN,
        ComplaintState.IN_PROGRESS,
        ComplaintState.RESOLVED,
        ComplaintState.CLOSED,
    )
    resolved_day = np.where(resolved, days + resolve_days, -1)
    texts = rng.integers(0, 1000, size=total).tolist()
    category_codes = [str(categories[c]) for c in category.tolist()]
    stamps = writer.datetimes(days, ctx.office_seconds(rng, total))
    writer.insert(
        Complaint,
        {
            "id": ctx.ids.take(Complaint, total),
            "created_at": stamps,
            "updated_at": stamps,
            "customer_id": draw.ids[customers],
            "received_on": writer.dates(days),
            "category": category_codes,
            "text": [
                COMPLAINT_TEXTS[c][k % len(COMPLAINT_TEXTS[c])]
                for c, k in zip(category_codes, texts, strict=True)
            ],
            "owner_id": owner,
            "state": [str(states[s]) for s in state.tolist()],
            "resolved_on": writer.dates(resolved_day, null_below=0),
        },
    )
