"""API schemas for orders and their lines."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

from kehu.accounts.schemas import UserRefOut
from kehu.core.schemas import DatedPageQuery, DecimalOut, MoneyOut, RefOut
from kehu.sales.models import OrderState, PaymentMethod


class OrderListQuery(DatedPageQuery):
    state: OrderState | None = Field(None, description="only orders in this state")


class OrderLineOut(Schema):
    line_number: int
    product: RefOut
    quantity: DecimalOut
    unit_price: MoneyOut
    unit_cost: MoneyOut
    discount_rate: DecimalOut = Field(description="a share between 0 and 1 taken off the line")
    amount: MoneyOut
    cost: MoneyOut


class OrderOut(Schema):
    id: int
    number: str
    customer_id: int
    state: OrderState
    order_date: dt.date
    delivered_on: dt.date | None
    payment_method: PaymentMethod
    currency: str
    total_amount: MoneyOut
    total_cost: MoneyOut
    gross_profit: MoneyOut
    owner: UserRefOut | None
    notes: str
    lines: list[OrderLineOut]

    @staticmethod
    def resolve_lines(order: object) -> list[object]:
        return list(order.lines.all())  # type: ignore[attr-defined]


class OrderPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[OrderOut]
