"""A ledger for the lifetime-value tests, written through the ledger services.

Period 2025Q4: the history runs to 2025-12-31 (day 20453); the default holdout of 26 weeks
starts after 2025-07-02. Four customers are laid out by hand (east rep):

* L-ACTIVE buys every 28 days from 2024-01-04 to 2025-11-06: 25 purchase days, frequency 24,
  recency 672, T 727, each purchase 1,000.00 (10 × 100) → monetary value 1,000.00.
* L-STOPPED bought every 28 days from 2023-01-05 to 2023-10-12: 11 purchase days, frequency 10,
  recency 280, T 1,091, 1,000.00 each — and never since.
* L-ONCE bought once, on 2025-06-02: frequency 0, recency 0, T 212.
* L-SAMEDAY bought twice on 2025-03-03 (300.00 and 200.00, one purchase day of 500.00) and once
  on 2025-09-01 (800.00): frequency 1, recency 182, T 303, monetary value 800.00.

Thirty background customers, half of them the other rep's (west), buy at seeded random intervals
so that the models have a population to fit on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from kehu.catalog.tests.factories import ProductFactory
from kehu.customers.models import Customer
from kehu.customers.tests.factories import CustomerFactory
from kehu.sales.models import PaymentMethod
from kehu.sales.services import OrderLineInput, order_create

AS_OF = dt.date(2025, 12, 31)
PERIOD = "2025Q4"


@dataclass(frozen=True)
class Summary:
    frequency: float
    recency: float
    age: float
    monetary_value: float


HAND_MADE = {
    "L-ACTIVE": Summary(24, 672, 727, 1000.0),
    "L-STOPPED": Summary(10, 280, 1091, 1000.0),
    "L-ONCE": Summary(0, 0, 212, 0.0),
    "L-SAMEDAY": Summary(1, 182, 303, 800.0),
}


class _Orders:
    def __init__(self) -> None:
        self.product = ProductFactory()
        self.count = 0

    def add(self, customer: Customer, on: dt.date, amount: str) -> None:
        self.count += 1
        order_create(
            customer=customer,
            number=f"LT-{self.count:05d}",
            order_date=on,
            payment_method=PaymentMethod.CASH,
            lines=[
                OrderLineInput(
                    product=self.product,
                    quantity=Decimal(1),
                    unit_price=Decimal(amount),
                    unit_cost=(Decimal(amount) * Decimal("0.6")).quantize(Decimal("0.01")),
                )
            ],
        )


def build_lifetime_ledger(organisation, *, background: int = 30) -> dict[str, Customer]:  # type: ignore[no-untyped-def]
    orders = _Orders()
    customers: dict[str, Customer] = {}
    for code in HAND_MADE:
        customers[code] = CustomerFactory(code=code, owner=organisation.rep)
    # a prospect: never bought, so no lifetime figures
    customers["L-NONE"] = CustomerFactory(code="L-NONE", owner=organisation.rep)
    for step in range(25):
        orders.add(
            customers["L-ACTIVE"], dt.date(2024, 1, 4) + dt.timedelta(days=28 * step), "1000"
        )
    for step in range(11):
        orders.add(
            customers["L-STOPPED"], dt.date(2023, 1, 5) + dt.timedelta(days=28 * step), "1000"
        )
    orders.add(customers["L-ONCE"], dt.date(2025, 6, 2), "450")
    orders.add(customers["L-SAMEDAY"], dt.date(2025, 3, 3), "300")
    orders.add(customers["L-SAMEDAY"], dt.date(2025, 3, 3), "200")
    orders.add(customers["L-SAMEDAY"], dt.date(2025, 9, 1), "800")
    random = np.random.default_rng(20251231)
    start = dt.date(2023, 1, 1)
    for index in range(background):
        owner = organisation.rep if index % 2 == 0 else organisation.other_rep
        customer = CustomerFactory(code=f"L-B{index:02d}", owner=owner)
        customers[customer.code] = customer
        day = int(random.integers(0, 900))
        gap = float(random.gamma(2.0, 40.0))
        lifetime = float(random.exponential(random.gamma(0.7, 1000.0)))
        first = day
        rate = float(random.gamma(4.0, 1 / 300.0))  # Gamma-Gamma: ν ~ Gamma(q=4, γ=300)
        while day <= (AS_OF - start).days and day - first <= lifetime:
            amount = f"{float(random.gamma(6.0, 1 / rate)):.2f}"  # z ~ Gamma(p=6, ν)
            orders.add(customer, start + dt.timedelta(days=day), amount)
            day += 1 + int(random.exponential(gap))
    return customers
