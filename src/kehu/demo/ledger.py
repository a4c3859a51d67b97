"""Receivables for a chunk: invoices on terms, credit notes, payments, allocations, write-offs.

How late a customer pays depends on its payment behaviour: most pay on time, some are
chronically late, a few vanish (stop paying, no contact) and a few of those end as bad debts
written off by finance. The balances obey the ledger's rules exactly:
open = amount − live allocations − credit notes − live write-offs;
unallocated = payment − live allocations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kehu.accounts.models import Role
from kehu.accounts.services import DEFAULT_AUTHORITY
from kehu.demo.context import BuildContext
from kehu.demo.customers import BAD_DEBT, CHRONIC, NEVER, PUNCTUAL, SLOW, CustomerDraw
from kehu.demo.reference import WRITE_OFF_REASONS
from kehu.demo.trade import INVOICED, TradeDraw
from kehu.receivables.models import (
    CreditNote,
    Invoice,
    Payment,
    PaymentAllocation,
    PaymentMethodKind,
    WriteOff,
)

SPLIT_P = (0.03, 0.10, 0.35, 0.05, 0.05)  # by payment class: paid in two instalments


@dataclass
class LedgerDraw:
    invoice_ids: np.ndarray
    invoice_order: np.ndarray  # index into the orders
    invoice_customer: np.ndarray  # index into the customers
    issue_day: np.ndarray
    due_day: np.ndarray
    amount: np.ndarray
    open_amount: np.ndarray
    # the day each invoice was (last) paid, NEVER when it is still open or was written off
    settled_day: np.ndarray
    late_days: np.ndarray  # days beyond the due date when paid, or as of today when open


def ledger_build(
    ctx: BuildContext, rng: np.random.Generator, draw: CustomerDraw, trade: TradeDraw
) -> LedgerDraw:
    """Draw the receivables of the chunk and write them."""
    writer = ctx.writer
    today = ctx.today
    orders = np.flatnonzero(trade.order_state == INVOICED)
    customer = trade.order_customer[orders]
    count = len(orders)
    invoice_ids = ctx.ids.take(Invoice, count)
    issue = trade.delivered_day[orders]
    terms = draw.terms_days[customer]
    due = issue + terms
    amount = trade.order_amount[orders]

    # Credit notes: one per return on an invoiced order, and a few price allowances.
    invoice_of_order = np.full(len(trade.order_ids), -1, dtype=np.int64)
    invoice_of_order[orders] = np.arange(count)
    return_invoice = invoice_of_order[trade.return_order]
    has_invoice = return_invoice >= 0
    note_invoice = return_invoice[has_invoice]
    note_amount = trade.return_amount[has_invoice]
    note_day = trade.return_day[has_invoice]
    note_return = trade.return_ids[has_invoice]
    note_reason = [
        f"退货冲减：{reason}"
        for reason, keep in zip(trade.return_reason, has_invoice.tolist(), strict=True)
        if keep
    ]
    credited = np.bincount(note_invoice, weights=note_amount, minlength=count).astype(np.int64)
    allowance = np.flatnonzero((rng.random(count) < 0.006) & (issue <= today - 25))
    allowance_amount = np.minimum(
        np.floor(amount[allowance] * rng.uniform(0.02, 0.05, size=len(allowance))),
        amount[allowance] - credited[allowance],
    ).astype(np.int64)
    keep = allowance_amount > 0
    allowance, allowance_amount = allowance[keep], allowance_amount[keep]
    allowance_day = issue[allowance] + rng.integers(3, 21, size=len(allowance))
    credited[allowance] += allowance_amount
    payable = amount - credited

    # Payments: when, in how many parts, and whether the customer vanished first.
    payment_class = draw.payment_class[customer]
    vanish = draw.vanish_day[customer]
    delay = np.select(
        [payment_class == PUNCTUAL, payment_class == SLOW, payment_class == CHRONIC],
        [
            np.rint(rng.normal(-3, 4, count)),
            5 + np.rint(rng.exponential(15, count)),
            25 + np.rint(rng.exponential(50, count)),
        ],
        default=np.rint(rng.normal(4, 8, count)),
    ).astype(np.int64)
    first_day = np.maximum(due + delay, issue + 10)
    split = rng.random(count) < np.asarray(SPLIT_P)[payment_class]
    first_part = np.where(
        split, np.floor(payable * rng.uniform(0.3, 0.7, size=count)), payable
    ).astype(np.int64)
    split &= (first_part > 0) & (first_part < payable)
    first_part = np.where(split, first_part, payable)
    second_day = first_day + rng.integers(15, 61, size=count)
    first_paid = (payable > 0) & (first_day <= today) & (first_day < vanish)
    second_paid = split & first_paid & (second_day <= today) & (second_day < vanish)
    overpay = first_paid & ~split & (rng.random(count) < 0.015)
    first_amount = np.where(overpay, (payable // 100_000 + 1) * 100_000, first_part)

    part_invoice = np.concatenate([np.flatnonzero(first_paid), np.flatnonzero(second_paid)])
    part_day = np.concatenate([first_day[first_paid], second_day[second_paid]])
    part_amount = np.concatenate([first_amount[first_paid], (payable - first_part)[second_paid]])
    part_allocated = np.concatenate([first_part[first_paid], (payable - first_part)[second_paid]])
    order = np.lexsort((part_invoice, part_day))
    part_invoice, part_day = part_invoice[order], part_day[order]
    part_amount, part_allocated = part_amount[order], part_allocated[order]
    allocated = np.bincount(part_invoice, weights=part_allocated, minlength=count).astype(np.int64)
    open_amount = payable - allocated

    # Bad debts: what a vanished customer still owes is written off a year later.
    write_off_day = draw.vanish_day + rng.integers(300, 401, size=len(draw))
    off = (payment_class == BAD_DEBT) & (open_amount > 0)
    off &= (write_off_day[customer] <= today) & (write_off_day[customer] > due)
    off_invoice = np.flatnonzero(off)
    off_amount = open_amount[off_invoice]
    open_amount[off_invoice] = 0

    settled = np.where(second_paid, second_day, np.where(first_paid & ~split, first_day, NEVER))
    settled = np.where(open_amount == 0, np.where(payable == 0, issue, settled), NEVER)
    late = np.where(settled < NEVER, settled - due, today - due)

    # -- write ----------------------------------------------------------------------------
    stamps = writer.datetimes(issue, ctx.office_seconds(rng, count))
    writer.insert(
        Invoice,
        {
            "id": invoice_ids,
            "created_at": stamps,
            "updated_at": stamps,
            "number": [f"FP{i:09d}" for i in invoice_ids.tolist()],
            "customer_id": draw.ids[customer],
            "order_id": trade.order_ids[orders],
            "issue_date": writer.dates(issue),
            "payment_terms_days": terms,
            "due_date": writer.dates(due),
            "amount": writer.money(amount),
            "open_amount": writer.money(open_amount),
            "currency": ["CNY"] * count,
            "is_cancelled": writer.booleans(np.zeros(count, dtype=bool)),
        },
    )
    notes = len(note_invoice) + len(allowance)
    note_ids = ctx.ids.take(CreditNote, notes)
    all_note_invoice = np.concatenate([note_invoice, allowance])
    all_note_day = np.concatenate([note_day, allowance_day])
    note_stamps = writer.datetimes(all_note_day, ctx.office_seconds(rng, notes))
    writer.insert(
        CreditNote,
        {
            "id": note_ids,
            "created_at": note_stamps,
            "updated_at": note_stamps,
            "number": [f"CN{i:09d}" for i in note_ids.tolist()],
            "customer_id": draw.ids[customer[all_note_invoice]],
            "invoice_id": invoice_ids[all_note_invoice],
            "sales_return_id": [*note_return.tolist(), *([None] * len(allowance))],
            "issue_date": writer.dates(all_note_day),
            "amount": writer.money(np.concatenate([note_amount, allowance_amount])),
            "reason": [*note_reason, *(["价格折让"] * len(allowance))],
            "currency": ["CNY"] * notes,
        },
    )

    parts = len(part_invoice)
    payment_ids = ctx.ids.take(Payment, parts)
    method, reference = _methods_draw(rng, draw, customer[part_invoice])
    payment_stamps = writer.datetimes(part_day, ctx.office_seconds(rng, parts))
    writer.insert(
        Payment,
        {
            "id": payment_ids,
            "created_at": payment_stamps,
            "updated_at": payment_stamps,
            "number": [f"SK{i:09d}" for i in payment_ids.tolist()],
            "customer_id": draw.ids[customer[part_invoice]],
            "received_on": writer.dates(part_day),
            "amount": writer.money(part_amount),
            "unallocated_amount": writer.money(part_amount - part_allocated),
            "method": method,
            "reference": reference,
            "currency": ["CNY"] * parts,
        },
    )
    finance = np.asarray(ctx.company.finance_ids)
    writer.insert(
        PaymentAllocation,
        {
            "id": ctx.ids.take(PaymentAllocation, parts),
            "payment_id": payment_ids,
            "invoice_id": invoice_ids[part_invoice],
            "amount": writer.money(part_allocated),
            "allocated_on": writer.dates(part_day),
            "reversed_on": [None] * parts,
            "created_by_id": finance[rng.integers(0, len(finance), size=parts)],
            "created_at": payment_stamps,
        },
    )

    offs = len(off_invoice)
    off_customer = customer[off_invoice]
    off_day = write_off_day[off_customer]
    reasons = rng.integers(0, len(WRITE_OFF_REASONS), size=len(draw))[off_customer]
    off_stamps = writer.datetimes(off_day, ctx.office_seconds(rng, offs))
    writer.insert(
        WriteOff,
        {
            "id": ctx.ids.take(WriteOff, offs),
            "created_at": off_stamps,
            "updated_at": off_stamps,
            "invoice_id": invoice_ids[off_invoice],
            "amount": writer.money(off_amount),
            "written_off_on": writer.dates(off_day),
            "reason": [WRITE_OFF_REASONS[r] for r in reasons.tolist()],
            "decided_by_id": finance[np.zeros(offs, dtype=np.int64)],
            "credit_given_by_id": draw.owner_id[off_customer],
            "credit_approved_by_id": _approvers(ctx, draw, off_customer),
            "reversed_on": [None] * offs,
        },
    )
    return LedgerDraw(
        invoice_ids=invoice_ids,
        invoice_order=orders,
        invoice_customer=customer,
        issue_day=issue,
        due_day=due,
        amount=amount,
        open_amount=open_amount,
        settled_day=settled,
        late_days=late,
    )


def _approvers(ctx: BuildContext, draw: CustomerDraw, customers: np.ndarray) -> np.ndarray:
    """Who approved the customer's credit line: the lowest role whose authority covers it."""
    company = ctx.company
    limit = draw.credit_limit_cents[customers] / 100
    region = draw.region[customers]
    team = draw.team[customers]
    manager_cap = float(DEFAULT_AUTHORITY[Role.CUSTOMER_MANAGER] or 0)
    direct_cap = float(DEFAULT_AUTHORITY[Role.DIRECT_SALES_MANAGER] or 0)
    regional_cap = float(DEFAULT_AUTHORITY[Role.REGIONAL_MANAGER] or 0)
    result = np.empty(len(customers), dtype=np.int64)
    for i, (r, t, amount) in enumerate(
        zip(region.tolist(), team.tolist(), limit.tolist(), strict=True)
    ):
        if amount <= manager_cap:
            result[i] = company.customer_manager_ids[r][t]
        elif amount <= direct_cap:
            result[i] = company.direct_sales_manager_ids[r]
        elif amount <= regional_cap:
            result[i] = company.regional_manager_ids[r]
        else:
            result[i] = company.top_management_id
    return result


def _methods_draw(
    rng: np.random.Generator, draw: CustomerDraw, customers: np.ndarray
) -> tuple[list[str], list[str]]:
    options = (
        PaymentMethodKind.BANK_TRANSFER,
        PaymentMethodKind.ACCEPTANCE_BILL,
        PaymentMethodKind.CHEQUE,
        PaymentMethodKind.CASH,
        PaymentMethodKind.OTHER,
    )
    large = (draw.size[customers] == 3)[:, None]
    consumer = (~draw.is_business[customers])[:, None]
    p_large = np.asarray([0.65, 0.25, 0.05, 0.05, 0.0])
    p_business = np.asarray([0.80, 0.05, 0.05, 0.08, 0.02])
    p_consumer = np.asarray([0.60, 0.0, 0.0, 0.40, 0.0])
    p = np.where(consumer, p_consumer, np.where(large, p_large, p_business))
    cumulative = np.cumsum(p, axis=1)
    cumulative[:, -1] = 1.0
    index = (rng.random(len(customers))[:, None] > cumulative).sum(axis=1)
    digits = rng.integers(10**11, 10**12, size=len(customers)).tolist()
    prefixes = {
        PaymentMethodKind.BANK_TRANSFER: "BT",
        PaymentMethodKind.ACCEPTANCE_BILL: "BA",
        PaymentMethodKind.CHEQUE: "CQ",
    }
    methods = [options[i] for i in index.tolist()]
    references = [
        f"{prefixes[m]}{d}" if m in prefixes else "" for m, d in zip(methods, digits, strict=True)
    ]
    return [str(m) for m in methods], references
