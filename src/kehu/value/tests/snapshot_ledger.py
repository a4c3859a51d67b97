"""A small hand-built ledger for the snapshot tests (13 customers), written through the ledger
services, with the figures worked out by hand in the comments.

Period 2025Q4, window 2025-01-01 … 2025-12-31 (365 days), default value settings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from kehu.catalog.tests.factories import ProductFactory
from kehu.customers.models import Customer
from kehu.customers.tests.factories import CustomerFactory
from kehu.receivables.services import invoice_create, payment_record, write_off_create
from kehu.sales.models import Order, Return
from kehu.sales.services import OrderLineInput, order_create
from kehu.service.services import activity_log, complaint_create

D = Decimal


@dataclass
class Ledger:
    customers: dict[str, Customer]


def _order(customer: Customer, number: str, on: dt.date, quantity: str, price: str, cost: str):
    product = ProductFactory()
    return order_create(
        customer=customer,
        number=number,
        order_date=on,
        lines=[
            OrderLineInput(
                product=product, quantity=D(quantity), unit_price=D(price), unit_cost=D(cost)
            )
        ],
    )


def build_ledger(organisation) -> Ledger:  # type: ignore[no-untyped-def]
    rep = organisation.rep
    names = "ABCDEFGHIJKLM"
    customers = {
        name: CustomerFactory(code=f"V-{name}", owner=rep, payment_terms_days=30) for name in names
    }
    c = customers
    # A: three cash orders of 1,000 (cost 600), 90 and 91 days apart. GP 1,200; orders 3 × 30.
    for number, on in (("A1", "2025-02-01"), ("A2", "2025-05-02"), ("A3", "2025-08-01")):
        _order(c["A"], number, dt.date.fromisoformat(on), "10", "100", "60")
    # B: one order of 1,000 (cost 250) on credit, invoiced 2025-06-01 due 07-01, paid 07-31:
    # owed 1,000 for 60 days → 6,000,000 cent-days → financing 13.15, average receivable 164.38.
    order_b = _order(c["B"], "B1", dt.date(2025, 6, 1), "5", "200", "50")
    invoice_create(
        customer=c["B"],
        number="IB1",
        issue_date=dt.date(2025, 6, 1),
        amount=D("1000"),
        order=order_b,
    )
    payment_record(
        customer=c["B"], number="PB1", received_on=dt.date(2025, 7, 31), amount=D("1000")
    )
    # C: 200 sold (cost 120), 300 returned (cost 180): revenue −100, GP −40; order 30 + return 100.
    order_c = _order(c["C"], "C1", dt.date(2025, 3, 10), "2", "100", "60")
    Return.objects.create(
        number="R-C1",
        order=order_c,
        customer=c["C"],
        returned_on=dt.date(2025, 3, 20),
        amount=D("300"),
        cost=D("180"),
    )
    # D: a prospect. E: bought only in 2024 → inactive.
    _order(c["E"], "E1", dt.date(2024, 5, 1), "1", "100", "60")
    # F: one order of 100 (GP 40); a visit at 0 (→ 200), a call at 25, a delivery at 0 (→ 80),
    # one complaint (150), one order handled (30): cost to serve 485, net −445.
    _order(c["F"], "F1", dt.date(2025, 11, 15), "1", "100", "60")
    activity_log(customer=c["F"], kind="visit", occurred_on=dt.date(2025, 7, 1), owner=rep)
    activity_log(
        customer=c["F"], kind="call", occurred_on=dt.date(2025, 7, 2), owner=rep, cost=D("25")
    )
    activity_log(customer=c["F"], kind="delivery", occurred_on=dt.date(2025, 11, 16), owner=rep)
    activity_log(customer=c["F"], kind="visit", occurred_on=dt.date(2024, 7, 1), owner=rep)
    complaint_create(
        customer=c["F"],
        received_on=dt.date(2025, 11, 20),
        category="delivery",
        text="late",
        owner=rep,
    )
    # G: 400 (cost 240) invoiced 04-01 due 05-01, written off 10-01: owed 183 days →
    # 7,320,000 cent-days → financing 16.04; bad debt 400; unpaid 244 days past due at year end.
    order_g = _order(c["G"], "G1", dt.date(2025, 4, 1), "4", "100", "60")
    invoice_g = invoice_create(
        customer=c["G"],
        number="IG1",
        issue_date=dt.date(2025, 4, 1),
        amount=D("400"),
        order=order_g,
    )
    write_off_create(
        invoice=invoice_g,
        amount=D("400"),
        written_off_on=dt.date(2025, 10, 1),
        reason="bankrupt",
        decided_by=organisation.finance,
    )
    # H … L: one order of 100 (GP 40) on 2025-09-01 each: equal, ranked by id.
    for name in "HIJKL":
        _order(c[name], f"{name}1", dt.date(2025, 9, 1), "1", "100", "60")
    # H: invoice 100 due 10-01; 60 paid 09-20 (on time), 40 paid 10-11 (10 days late):
    # on time 0.6, days beyond terms 4, 274,000 cent-days → financing 0.60.
    invoice_create(customer=c["H"], number="IH1", issue_date=dt.date(2025, 9, 1), amount=D("100"))
    payment_record(customer=c["H"], number="PH1", received_on=dt.date(2025, 9, 20), amount=D("60"))
    payment_record(customer=c["H"], number="PH2", received_on=dt.date(2025, 10, 11), amount=D("40"))
    # M: twelve orders of 5 (cost 3) on the 15th of every month: small and loyal.
    for month in range(1, 13):
        _order(c["M"], f"M{month}", dt.date(2025, month, 15), "1", "5", "3")
    assert Order.objects.count() == 3 + 1 + 1 + 1 + 1 + 1 + 5 + 12
    return Ledger(customers=customers)
