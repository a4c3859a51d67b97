"""Three years of orders, order lines and returns for a chunk of customers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kehu.demo.context import BuildContext, rank_within, segment_index
from kehu.demo.customers import NEVER, CustomerDraw
from kehu.demo.reference import CATEGORIES, RETURN_REASONS
from kehu.sales.models import Order, OrderLine, OrderState, PaymentMethod, Return, ReturnLine

# Order states as small integers inside the generator.
DRAFT, CONFIRMED, DELIVERED, INVOICED, CANCELLED = 0, 1, 2, 3, 4
STATE_NAMES = (
    OrderState.DRAFT,
    OrderState.CONFIRMED,
    OrderState.DELIVERED,
    OrderState.INVOICED,
    OrderState.CANCELLED,
)
MAX_QUANTITY = 99_999


@dataclass
class TradeDraw:
    order_ids: np.ndarray
    order_customer: np.ndarray  # index into the chunk's customers
    order_day: np.ndarray
    delivered_day: np.ndarray  # -1 when not delivered
    order_state: np.ndarray
    order_is_credit: np.ndarray
    order_amount: np.ndarray  # cents
    order_cost: np.ndarray
    order_numbers: list[str]
    line_ids: np.ndarray
    line_order: np.ndarray  # index into the orders
    line_product: np.ndarray  # index into the catalogue
    line_quantity: np.ndarray
    line_price: np.ndarray
    line_unit_cost: np.ndarray
    line_discount_bp: np.ndarray
    line_amount: np.ndarray
    line_cost: np.ndarray
    return_ids: np.ndarray
    return_order: np.ndarray
    return_line: np.ndarray  # index into the lines
    return_day: np.ndarray
    return_quantity: np.ndarray
    return_amount: np.ndarray
    return_cost: np.ndarray
    return_reason: list[str]
    # purchase statistics per customer (day numbers, -1 when none)
    first_purchase: np.ndarray
    last_purchase: np.ndarray
    purchase_count: np.ndarray


def _segments(ctx: BuildContext, draw: CustomerDraw) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Buying periods: from acquisition (or the start of history) to churn, and a second one
    from the comeback of a lost customer."""
    buyers = np.flatnonzero(~draw.is_prospect)
    first_low = np.maximum(draw.acquired_day[buyers], ctx.start)
    first_high = np.minimum(draw.churn_day[buyers], ctx.today)
    back = buyers[draw.comeback_day[buyers] < NEVER]
    owner = np.concatenate([buyers, back])
    low = np.concatenate([first_low, draw.comeback_day[back]])
    high = np.concatenate([first_high, np.full(len(back), ctx.today)])
    return owner, low, np.maximum(high, low)


def trade_draw(ctx: BuildContext, rng: np.random.Generator, draw: CustomerDraw) -> TradeDraw:
    calendar = ctx.calendar
    owner, low, high = _segments(ctx, draw)
    expected = draw.orders_per_year[owner] / 365.0 * calendar.mass_between(low, high)
    counts = rng.poisson(expected)
    segment = segment_index(counts)
    days = calendar.draw_between(rng, low[segment], high[segment])
    customer = owner[segment]
    # A customer won inside the window buys on the day it is won; everyone buys at least once.
    won = np.flatnonzero(~draw.is_prospect & (draw.acquired_day >= ctx.start))
    per_customer = np.bincount(np.concatenate([customer, won]), minlength=len(draw))
    silent = np.flatnonzero(~draw.is_prospect & (per_customer == 0))
    silent_low = np.maximum(draw.acquired_day[silent], ctx.start)
    silent_high = np.maximum(np.minimum(draw.churn_day[silent], ctx.today), silent_low)
    customer = np.concatenate([customer, won, silent])
    days = np.concatenate(
        [days, draw.acquired_day[won], calendar.draw_between(rng, silent_low, silent_high)]
    )
    order = np.lexsort((days, customer))
    customer, days = customer[order], days[order]
    n = len(customer)

    is_credit_order = draw.is_credit[customer] & (rng.random(n) < 0.93)
    delivered = days + rng.integers(1, 7, size=n)
    state = np.where(is_credit_order, INVOICED, DELIVERED)
    state = np.where(delivered > ctx.today, CONFIRMED, state)
    cancelled = rng.random(n) < 0.02
    draft = (days >= ctx.today - 2) & (rng.random(n) < 0.4)
    state = np.where(draft, DRAFT, np.where(cancelled, CANCELLED, state))
    # Make sure every buyer keeps at least one real purchase.
    purchase = (state >= CONFIRMED) & (state <= INVOICED)
    has_purchase = np.bincount(customer, weights=purchase, minlength=len(draw)) > 0
    first_index = np.searchsorted(customer, np.arange(len(draw)))
    fix = np.flatnonzero(~draw.is_prospect & ~has_purchase)
    fix_rows = first_index[fix]
    state[fix_rows] = np.where(
        delivered[fix_rows] > ctx.today,
        CONFIRMED,
        np.where(is_credit_order[fix_rows], INVOICED, DELIVERED),
    )
    delivered = np.where((state == DELIVERED) | (state == INVOICED), delivered, -1)

    order_ids = ctx.ids.take(Order, n)
    lines = _lines_draw(ctx, rng, draw, customer, days)
    line_order, product, quantity, price, unit_cost, discount, amount, cost = lines
    order_amount = np.bincount(line_order, weights=amount, minlength=n).astype(np.int64)
    order_cost = np.bincount(line_order, weights=cost, minlength=n).astype(np.int64)
    line_ids = ctx.ids.take(OrderLine, len(line_order))

    purchase = (state >= CONFIRMED) & (state <= INVOICED)
    count = np.bincount(customer[purchase], minlength=len(draw))
    first = np.full(len(draw), np.iinfo(np.int64).max)
    last = np.full(len(draw), -1)
    np.minimum.at(first, customer[purchase], days[purchase])
    np.maximum.at(last, customer[purchase], days[purchase])
    first = np.where(count > 0, first, -1)

    returns = _returns_draw(
        ctx, rng, draw, customer, state, delivered, line_order, quantity, price, unit_cost, discount
    )
    # Numbers follow the ids, so the unique index on them grows at its end (fast at scale).
    numbers = [f"SO{i:010d}" for i in order_ids.tolist()]
    return TradeDraw(
        order_ids=order_ids,
        order_customer=customer,
        order_day=days,
        delivered_day=delivered,
        order_state=state,
        order_is_credit=is_credit_order,
        order_amount=order_amount,
        order_cost=order_cost,
        order_numbers=numbers,
        line_ids=line_ids,
        line_order=line_order,
        line_product=product,
        line_quantity=quantity,
        line_price=price,
        line_unit_cost=unit_cost,
        line_discount_bp=discount,
        line_amount=amount,
        line_cost=cost,
        **returns,
        first_purchase=first,
        last_purchase=last,
        purchase_count=count,
    )


def _lines_draw(
    ctx: BuildContext,
    rng: np.random.Generator,
    draw: CustomerDraw,
    customer: np.ndarray,
    days: np.ndarray,
) -> tuple[np.ndarray, ...]:
    company = ctx.company
    n = len(customer)
    business = draw.is_business[customer]
    mean_value = draw.yearly_value[customer] / draw.orders_per_year[customer]
    order_value = mean_value * rng.lognormal(-0.18, 0.6, size=n)
    line_counts = 1 + np.minimum(rng.poisson(np.where(business, 1.0, 0.3)), 5)
    line_order = segment_index(line_counts)
    total = len(line_order)
    share = rng.exponential(1.0, size=total)
    share = share / np.bincount(line_order, weights=share)[line_order]
    target = order_value[line_order] * share  # yuan

    line_business = business[line_order]
    business_p = np.asarray([c.business_weight for c in CATEGORIES])
    consumer_p = np.asarray([c.consumer_weight for c in CATEGORIES])
    category = np.where(
        rng.random(total) < 0.55,
        draw.primary_category[customer][line_order],
        np.where(
            line_business,
            rng.choice(len(CATEGORIES), size=total, p=business_p / business_p.sum()),
            rng.choice(len(CATEGORIES), size=total, p=consumer_p / consumer_p.sum()),
        ),
    )
    product = np.zeros(total, dtype=np.int64)
    pick = rng.random(total)
    for index in range(len(CATEGORIES)):
        mask = category == index
        members = np.flatnonzero(company.product_category == index)
        members = members[np.argsort(company.product_price_cents[members], kind="stable")]
        prices = company.product_price_cents[members] / 100
        affordable = np.searchsorted(prices, target[mask], side="right")
        top = np.maximum(affordable, 1)
        bottom = np.maximum(top - 3, 0)
        choice = bottom + (pick[mask] * (top - bottom)).astype(np.int64)
        product[mask] = members[choice]

    price = company.product_price_cents[product]
    unit_cost = company.product_cost_cents[product]
    discount = draw.discount_bp[customer][line_order].copy()
    month = days[line_order].astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12
    promotion = (month >= 9) & (rng.random(total) < 0.15)
    discount = np.minimum(discount + np.where(promotion, 300, 0), 3000)
    net_price = price * (10_000 - discount) / 10_000 / 100
    quantity = np.clip(np.rint(target / net_price), 1, MAX_QUANTITY).astype(np.int64)
    amount = (quantity * price * (10_000 - discount) + 5_000) // 10_000
    cost = quantity * unit_cost
    return line_order, product, quantity, price, unit_cost, discount, amount, cost


def _returns_draw(
    ctx: BuildContext,
    rng: np.random.Generator,
    draw: CustomerDraw,
    customer: np.ndarray,
    state: np.ndarray,
    delivered: np.ndarray,
    line_order: np.ndarray,
    quantity: np.ndarray,
    price: np.ndarray,
    unit_cost: np.ndarray,
    discount: np.ndarray,
) -> dict[str, Any]:
    n = len(customer)
    line_counts = np.bincount(line_order, minlength=n)
    first_line = np.cumsum(line_counts) - line_counts
    returned = ((state == DELIVERED) | (state == INVOICED)) & (delivered <= ctx.today - 2)
    returned &= rng.random(n) < np.where(draw.is_business[customer], 0.015, 0.025)
    orders = np.flatnonzero(returned)
    day = delivered[orders] + rng.integers(2, 16, size=len(orders))
    keep = day <= ctx.today
    orders, day = orders[keep], day[keep]
    line = first_line[orders] + (rng.random(len(orders)) * line_counts[orders]).astype(np.int64)
    returned_quantity = np.maximum(
        1, np.floor(quantity[line] * rng.uniform(0.1, 0.6, size=len(orders)))
    ).astype(np.int64)
    returned_quantity = np.minimum(returned_quantity, quantity[line])
    amount = (returned_quantity * price[line] * (10_000 - discount[line]) + 5_000) // 10_000
    cost = returned_quantity * unit_cost[line]
    reason = rng.integers(0, len(RETURN_REASONS), size=len(orders)).tolist()
    return {
        "return_ids": ctx.ids.take(Return, len(orders)),
        "return_order": orders,
        "return_line": line,
        "return_day": day,
        "return_quantity": returned_quantity,
        "return_amount": amount,
        "return_cost": cost,
        "return_reason": [RETURN_REASONS[r] for r in reason],
    }


def trade_write(
    ctx: BuildContext, rng: np.random.Generator, draw: CustomerDraw, trade: TradeDraw
) -> None:
    writer = ctx.writer
    n = len(trade.order_ids)
    stamps = writer.datetimes(trade.order_day, ctx.office_seconds(rng, n))
    writer.insert(
        Order,
        {
            "id": trade.order_ids,
            "created_at": stamps,
            "updated_at": stamps,
            "number": trade.order_numbers,
            "customer_id": draw.ids[trade.order_customer],
            "owner_id": draw.owner_id[trade.order_customer],
            "state": [str(STATE_NAMES[s]) for s in trade.order_state.tolist()],
            "order_date": writer.dates(trade.order_day),
            "delivered_on": writer.dates(trade.delivered_day, null_below=0),
            "payment_method": [
                str(PaymentMethod.CREDIT if c else PaymentMethod.CASH)
                for c in trade.order_is_credit.tolist()
            ],
            "currency": ["CNY"] * n,
            "total_amount": writer.money(trade.order_amount),
            "total_cost": writer.money(trade.order_cost),
            "notes": [""] * n,
        },
    )
    writer.insert(
        OrderLine,
        {
            "id": trade.line_ids,
            "order_id": trade.order_ids[trade.line_order],
            "line_number": rank_within(np.bincount(trade.line_order, minlength=n)) + 1,
            "product_id": ctx.company.product_ids[trade.line_product],
            "quantity": writer.decimal(trade.line_quantity * 1000, 3),
            "unit_price": writer.money(trade.line_price),
            "unit_cost": writer.money(trade.line_unit_cost),
            "discount_rate": writer.decimal(trade.line_discount_bp, 4),
            "amount": writer.money(trade.line_amount),
            "cost": writer.money(trade.line_cost),
        },
    )
    count = len(trade.return_ids)
    return_stamps = writer.datetimes(trade.return_day, ctx.office_seconds(rng, count))
    writer.insert(
        Return,
        {
            "id": trade.return_ids,
            "created_at": return_stamps,
            "updated_at": return_stamps,
            "number": [f"RT{i:09d}" for i in trade.return_ids.tolist()],
            "order_id": trade.order_ids[trade.return_order],
            "customer_id": draw.ids[trade.order_customer[trade.return_order]],
            "returned_on": writer.dates(trade.return_day),
            "reason": trade.return_reason,
            "amount": writer.money(trade.return_amount),
            "cost": writer.money(trade.return_cost),
            "currency": ["CNY"] * count,
        },
    )
    writer.insert(
        ReturnLine,
        {
            "id": ctx.ids.take(ReturnLine, count),
            "sales_return_id": trade.return_ids,
            "order_line_id": trade.line_ids[trade.return_line],
            "quantity": writer.decimal(trade.return_quantity * 1000, 3),
            "amount": writer.money(trade.return_amount),
        },
    )
