"""API schemas for orders and their lines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from ninja import Field, Schema

from kehu.accounts.schemas import UserRefOut
from kehu.core.schemas import (
    MAX_ID,
    DatedPageQuery,
    DecimalOut,
    InputSchema,
    MoneyIn,
    MoneyOut,
    RefOut,
    Text,
)
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


class OrderLineIn(InputSchema):
    product_id: int = Field(ge=1, le=MAX_ID)
    quantity: Decimal = Field(gt=0, max_digits=14, decimal_places=3, allow_inf_nan=False)
    unit_price: MoneyIn
    unit_cost: MoneyIn | None = Field(None, description="the product's standard cost if left out")
    discount_rate: Decimal = Field(
        Decimal(0), ge=0, le=1, max_digits=5, decimal_places=4, allow_inf_nan=False
    )


class OrderCreateIn(InputSchema):
    number: Text = Field(min_length=1, max_length=40)
    order_date: dt.date
    state: Literal["draft", "confirmed"] = Field(
        "draft", description="confirmed: confirm at once (an order on credit is credit-checked)"
    )
    payment_method: PaymentMethod = PaymentMethod.CREDIT
    lines: list[OrderLineIn] = Field(min_length=1, max_length=500)


class OrderStateIn(InputSchema):
    state: Literal["confirmed", "delivered", "invoiced", "cancelled"]
    on: dt.date | None = Field(None, description="the delivery date (delivered)")


class CreditCheckSummaryOut(Schema):
    """The credit decision taken on the order by this request, if it checked credit."""

    id: int
    result: str
    reasons: list[str]
    order_amount: MoneyOut
    exposure: MoneyOut
    line_amount: MoneyOut | None
    excess: MoneyOut
    hold_state: str


class OrderWrittenOut(OrderOut):
    credit_check: CreditCheckSummaryOut | None = None
