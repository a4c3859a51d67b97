"""Orders: one row per order line; the rows with one order number are one order.

Upsert by order number. A new order is written with its lines, amounts computed as the sales
services compute them (quantity × unit price × (1 − discount), rounded half-up per line). An
existing order is unchanged when its customer, date, state, payment method and lines are the
same; otherwise its date and payment method may change, its state may move along the order flow,
and its lines are replaced (not when goods were returned against it). A bad line refuses its
whole order. Purchase statistics are refreshed for the customers whose orders were written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

from django.utils.translation import gettext as _

from kehu.core.money import ZERO
from kehu.customers.services import customer_purchase_stats_refresh
from kehu.imports import bulk
from kehu.imports.kinds.base import (
    REPORT_EVERY,
    Context,
    Counts,
    Plan,
    in_chunks,
    parse_column,
)
from kehu.imports.kinds.lookups import CustomerRef, Customers, Products
from kehu.imports.validation import (
    ChoiceParser,
    DateParser,
    DecimalParser,
    MappedTable,
    RowErrors,
    ShareParser,
    max_length_of,
    money_parser,
    parse_text,
)
from kehu.sales.models import Order, OrderLine, OrderState, PaymentMethod, Return
from kehu.sales.services import order_line_amount, order_line_cost

ORDER_FIELDS = (
    "id",
    "number",
    "customer",
    "owner",
    "state",
    "order_date",
    "delivered_on",
    "payment_method",
    "currency",
    "total_amount",
    "total_cost",
    "notes",
    "created_at",
    "updated_at",
)
LINE_FIELDS = (
    "order",
    "line_number",
    "product",
    "quantity",
    "unit_price",
    "unit_cost",
    "discount_rate",
    "amount",
    "cost",
)
QUANTITY_MAXIMUM = Decimal("99999999999.999")  # numeric(14, 3)
STATS_CHUNK = 5_000


def _allowed_state_changes() -> dict[str, set[str]]:
    """The order flow of the sales services: forward, or cancelled before invoicing."""
    from kehu.sales.services import _NEXT_STATES

    return {
        str(state): {str(target) for target in targets} for state, targets in _NEXT_STATES.items()
    }


@dataclass(eq=False)
class OrderDraft:
    number: str
    customer: CustomerRef
    order_date: dt.date
    first_row: int
    customer_code: str | None = None
    state: str | None = None
    payment_method: str | None = None
    rows: list[int] = field(default_factory=list)
    # (product id, quantity, unit price, unit cost, discount, amount, cost)
    lines: list[tuple[int, Decimal, Decimal, Decimal, Decimal, Decimal, Decimal]] = field(
        default_factory=list
    )
    bad_row: int | None = None


@dataclass
class ExistingOrder:
    id: int
    customer_id: int
    order_date: dt.date
    state: str
    payment_method: str
    delivered_on: dt.date | None
    lines: list[tuple[int, Decimal, Decimal, Decimal, Decimal]] = field(default_factory=list)
    has_returns: bool = False


def plan(mapped: MappedTable, errors: RowErrors, context: Context) -> Plan:
    table = mapped.table
    progress = context.progress
    progress.start(_("Checking order lines"), len(table))
    counts = {"orders": Counts(), "order_lines": Counts()}
    drafts = _parse_rows(mapped, errors, context)
    existing = _existing_orders([draft.number for draft in drafts.values()])
    allowed = _allowed_state_changes()

    new: list[OrderDraft] = []
    updated: list[tuple[OrderDraft, ExistingOrder, bool]] = []
    for draft in drafts.values():
        if draft.bad_row is None:
            _check_against_existing(draft, existing.get(draft.number), allowed, mapped, errors)
        if draft.bad_row is not None:
            for row_number in draft.rows:
                if row_number not in errors.refused_rows:
                    errors.add(
                        row_number,
                        mapped.header("number"),
                        draft.number,
                        _("Not imported: row %(row)d of order %(number)s has an error.")
                        % {"row": draft.bad_row, "number": draft.number},
                    )
            counts["orders"].refused += 1
            counts["order_lines"].refused += len(draft.rows)
            continue
        found = existing.get(draft.number)
        if found is None:
            new.append(draft)
            counts["orders"].created += 1
            counts["order_lines"].created += len(draft.lines)
            continue
        lines_change = [line[:5] for line in draft.lines] != found.lines
        header_change = (
            draft.order_date != found.order_date
            or (draft.state or found.state) != found.state
            or (draft.payment_method or found.payment_method) != found.payment_method
        )
        if lines_change or header_change:
            updated.append((draft, found, lines_change))
            counts["orders"].updated += 1
            if lines_change:
                counts["order_lines"].updated += len(draft.lines)
            else:
                counts["order_lines"].unchanged += len(draft.lines)
        else:
            counts["orders"].unchanged += 1
            counts["order_lines"].unchanged += len(draft.lines)
    progress.finish()

    def write() -> None:
        _write(context, new, updated)

    return Plan(counts=counts, write=write)


def _parse_rows(mapped: MappedTable, errors: RowErrors, context: Context) -> dict[str, OrderDraft]:
    """Check every row and group the lines by order number. This is the hot path of a
    million-line import: lookups are pre-loaded, each column is parsed by distinct text, and
    the loop over rows only groups and computes."""
    table = mapped.table
    progress = context.progress
    customer_codes = mapped.values("customer_code")
    number_length = max_length_of(Order, "number")

    def column(key: str, parse: Callable[[str], Any], required: bool = False) -> list[Any]:
        return parse_column(mapped, errors, key, parse, required=required)

    numbers = column("number", partial(parse_text, max_length=number_length), True)
    customers = column("customer_code", Customers(customer_codes), True)
    dates = column("order_date", DateParser(), True)
    products = column("product_code", Products(mapped.values("product_code")), True)
    quantities = column(
        "quantity",
        DecimalParser(
            places=3, minimum=Decimal(0), minimum_exclusive=True, maximum=QUANTITY_MAXIMUM
        ),
        True,
    )
    prices = column("unit_price", money_parser(), True)
    costs = column("unit_cost", money_parser())
    discounts = column("discount_rate", ShareParser())
    # History is imported as it happened: an order held for credit is a decision Kehu takes
    # now, never a state a file brings in.
    states = column("state", ChoiceParser(OrderState, exclude=frozenset({OrderState.CREDIT_HOLD})))
    methods = column("payment_method", ChoiceParser(PaymentMethod))
    amounts: dict[tuple[int, int, int], Decimal] = {}
    line_costs: dict[tuple[int, int], Decimal] = {}

    refused = errors.refused_rows
    drafts: dict[str, OrderDraft] = {}
    for index, row_number in enumerate(table.row_numbers):
        if index % REPORT_EVERY == 0 and index:
            progress.advance(REPORT_EVERY)
        number = numbers[index]
        if number is None:
            continue
        customer = customers[index]
        order_date = dates[index]
        draft = drafts.get(number)
        if draft is None:
            draft = OrderDraft(number, customer, order_date, row_number, customer_codes[index])
            if customer is None or order_date is None:
                # The order's header is unusable: the order is refused with this row.
                draft.bad_row = row_number
            drafts[number] = draft
        elif customer is not draft.customer or order_date is not draft.order_date:
            # Equal texts parse to one object, so identity settles the common case.
            _check_same_order(mapped, errors, index, draft, customer, order_date)
        for key, value in (("state", states[index]), ("payment_method", methods[index])):
            if value is None:
                continue
            current = getattr(draft, key)
            if current is None:
                setattr(draft, key, value)
            elif current != value:
                errors.add(
                    row_number,
                    mapped.header(key),
                    mapped.values(key)[index],
                    _("Row %(row)d gives order %(number)s another value.")
                    % {"row": draft.first_row, "number": number},
                )
        draft.rows.append(row_number)
        if row_number in refused:
            if draft.bad_row is None:
                draft.bad_row = row_number
            continue
        product = products[index]
        quantity = quantities[index]
        unit_price = prices[index]
        unit_cost = costs[index]
        discount = discounts[index]
        if unit_cost is None:
            unit_cost = product.standard_cost
        if discount is None:
            discount = ZERO
        # Keyed by identity: equal texts parse to one Decimal object, which lives as long as
        # the parsed columns, and ints hash much faster than Decimals.
        amount_key = (id(quantity), id(unit_price), id(discount))
        amount = amounts.get(amount_key)
        if amount is None:
            amount = amounts[amount_key] = order_line_amount(
                quantity=quantity, unit_price=unit_price, discount_rate=discount
            )
        cost_key = (id(quantity), id(unit_cost))
        cost = line_costs.get(cost_key)
        if cost is None:
            cost = line_costs[cost_key] = order_line_cost(quantity=quantity, unit_cost=unit_cost)
        draft.lines.append((product.id, quantity, unit_price, unit_cost, discount, amount, cost))
    return drafts


def _check_same_order(
    mapped: MappedTable,
    errors: RowErrors,
    index: int,
    draft: OrderDraft,
    customer: CustomerRef | None,
    order_date: dt.date | None,
) -> None:
    row_number = mapped.table.row_numbers[index]
    if customer is not None and draft.customer is not None and customer.id != draft.customer.id:
        errors.add(
            row_number,
            mapped.header("customer_code"),
            mapped.values("customer_code")[index],
            _("Row %(row)d gives order %(number)s another customer.")
            % {"row": draft.first_row, "number": draft.number},
        )
    if order_date is not None and draft.order_date is not None and (order_date != draft.order_date):
        errors.add(
            row_number,
            mapped.header("order_date"),
            mapped.values("order_date")[index],
            _("Row %(row)d gives order %(number)s another date (%(date)s).")
            % {"row": draft.first_row, "number": draft.number, "date": draft.order_date},
        )


def _existing_orders(numbers: list[str]) -> dict[str, ExistingOrder]:
    existing: dict[str, ExistingOrder] = {}
    by_id: dict[int, ExistingOrder] = {}
    for chunk in in_chunks(numbers):
        for row in Order.objects.filter(number__in=chunk).values_list(
            "number", "id", "customer_id", "order_date", "state", "payment_method", "delivered_on"
        ):
            order = ExistingOrder(*row[1:])
            existing[row[0]] = order
            by_id[order.id] = order
    for chunk in in_chunks(list(by_id)):
        for order_id, *line in (
            OrderLine.objects.filter(order_id__in=chunk)
            .order_by("order_id", "line_number")
            .values_list(
                "order_id", "product_id", "quantity", "unit_price", "unit_cost", "discount_rate"
            )
        ):
            by_id[order_id].lines.append(tuple(line))  # type: ignore[arg-type]
        for order_id in Return.objects.filter(order_id__in=chunk).values_list(
            "order_id", flat=True
        ):
            by_id[order_id].has_returns = True
    return existing


def _check_against_existing(
    draft: OrderDraft,
    found: ExistingOrder | None,
    allowed: dict[str, set[str]],
    mapped: MappedTable,
    errors: RowErrors,
) -> None:
    if found is None:
        return

    def refuse(column: str, value: str | None, reason: str) -> None:
        errors.add(draft.first_row, mapped.header(column), value, reason)
        draft.bad_row = draft.first_row

    if found.customer_id != draft.customer.id:
        refuse(
            "customer_code",
            draft.customer_code,
            _("Order %(number)s exists for another customer.") % {"number": draft.number},
        )
        return
    if (
        draft.state is not None
        and draft.state != found.state
        and (draft.state not in allowed.get(found.state, set()))
    ):
        refuse(
            "state",
            draft.state,
            _("Order %(number)s is %(current)s and cannot become %(state)s.")
            % {"number": draft.number, "current": found.state, "state": draft.state},
        )
        return
    if found.has_returns and [line[:5] for line in draft.lines] != found.lines:
        refuse(
            "number",
            draft.number,
            _("Goods were returned against order %(number)s; its lines cannot be changed.")
            % {"number": draft.number},
        )


def _write(
    context: Context, new: list[OrderDraft], updated: list[tuple[OrderDraft, ExistingOrder, bool]]
) -> None:
    progress = context.progress
    now = context.now
    actor_id = context.actor.pk if context.actor else None
    line_count = sum(len(draft.lines) for draft in new) + sum(
        len(draft.lines) for draft, _found, lines_change in updated if lines_change
    )
    progress.start(_("Writing orders"), len(new) + len(updated) + line_count)
    ids = bulk.reserve_ids(Order, len(new))
    order_rows = []
    line_rows = []
    for order_id, draft in zip(ids, new, strict=True):
        customer = draft.customer
        order_rows.append(
            (
                order_id,
                draft.number,
                customer.id,
                actor_id or customer.owner_id,
                draft.state or OrderState.CONFIRMED.value,
                draft.order_date,
                None,
                draft.payment_method or PaymentMethod.CREDIT.value,
                customer.currency,
                sum((line[5] for line in draft.lines), ZERO),
                sum((line[6] for line in draft.lines), ZERO),
                "",
                now,
                now,
            )
        )
        for line_number, line in enumerate(draft.lines, start=1):
            line_rows.append((order_id, line_number, *line))
    bulk.insert_rows(Order, ORDER_FIELDS, order_rows, on_batch=progress.advance)
    changed_orders = []
    replaced: list[int] = []
    for draft, found, lines_change in updated:
        order = Order(
            pk=found.id,
            order_date=draft.order_date,
            state=draft.state or found.state,
            payment_method=draft.payment_method or found.payment_method,
            delivered_on=found.delivered_on,
            updated_at=now,
            total_amount=sum((line[5] for line in draft.lines), ZERO),
            total_cost=sum((line[6] for line in draft.lines), ZERO),
        )
        if order.state == OrderState.DELIVERED and order.delivered_on is None:
            order.delivered_on = draft.order_date
        changed_orders.append(order)
        if lines_change:
            replaced.append(found.id)
            for line_number, line in enumerate(draft.lines, start=1):
                line_rows.append((found.id, line_number, *line))
    for chunk in in_chunks(replaced):
        OrderLine.objects.filter(order_id__in=chunk).delete()
    Order.objects.bulk_update(
        changed_orders,
        [
            "order_date",
            "state",
            "payment_method",
            "delivered_on",
            "total_amount",
            "total_cost",
            "updated_at",
        ],
        batch_size=1_000,
    )
    progress.advance(len(changed_orders))
    bulk.insert_rows(OrderLine, LINE_FIELDS, line_rows, on_batch=progress.advance)
    progress.finish()
    customer_ids = sorted(
        {draft.customer.id for draft in new}
        | {draft.customer.id for draft, _found, _change in updated}
    )
    progress.start(_("Refreshing purchase statistics"), len(customer_ids))
    for start in range(0, len(customer_ids), STATS_CHUNK):
        chunk = customer_ids[start : start + STATS_CHUNK]
        customer_purchase_stats_refresh(customer_ids=chunk)
        progress.advance(len(chunk))
    progress.finish()
