"""The demo company: deterministic, consistent with the ledger rules, and believable."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from django.db.models import F

from kehu.accounts.models import ApprovalAuthority, OrgUnit, Role, User
from kehu.accounts.services import DEFAULT_AUTHORITY
from kehu.catalog.models import Product
from kehu.core.errors import Conflict, ValidationFailed
from kehu.customers.lifecycle import lifecycle_of
from kehu.customers.models import Contact, ContactRole, Customer, CustomerKind
from kehu.customers.services import customer_purchase_stats_refresh
from kehu.customers.tests.factories import CustomerFactory
from kehu.demo import services as demo_services
from kehu.demo.calendar import BusinessCalendar, spring_festival
from kehu.demo.organisation import DEMO_PASSWORD
from kehu.demo.services import demo_build
from kehu.demo.writer import day_number
from kehu.receivables.models import CreditNote, Invoice, Payment, PaymentAllocation, WriteOff
from kehu.sales.models import PURCHASE_STATES, Order, OrderLine
from kehu.sales.services import order_line_amount
from kehu.service.models import Activity, Complaint

TODAY = dt.date(2026, 5, 15)
SMALL = 150

pytestmark = pytest.mark.django_db


def _fingerprint() -> dict[str, Any]:
    """What two identical builds must share: counts, money, names and codes."""
    return {
        "counts": {
            model._meta.label: model._default_manager.count()
            for model in (
                Customer,
                Contact,
                Order,
                OrderLine,
                Invoice,
                Payment,
                PaymentAllocation,
                CreditNote,
                WriteOff,
                Activity,
                Complaint,
            )
        },
        "invoiced": sum(Invoice.objects.values_list("amount", flat=True), Decimal(0)),
        "open": sum(Invoice.objects.values_list("open_amount", flat=True), Decimal(0)),
        "customers": list(Customer.objects.order_by("code").values_list("code", "name")[:25]),
        "last_customers": list(
            Customer.objects.order_by("-code").values_list("code", "name", "owner__username")[:5]
        ),
    }


def test_the_same_seed_and_today_build_the_same_company_and_another_seed_does_not() -> None:
    # Given a demo built with seed 7
    demo_build(seed=7, customers=SMALL, today=TODAY)
    first = _fingerprint()

    # When it is built again with the same seed and today
    demo_build(seed=7, customers=SMALL, today=TODAY, reset=True)

    # Then everything is the same
    assert _fingerprint() == first
    assert first["counts"]["customers.Customer"] == SMALL

    # And another seed builds another company
    demo_build(seed=8, customers=SMALL, today=TODAY, reset=True)
    other = _fingerprint()
    assert other["invoiced"] != first["invoiced"]
    assert other["customers"] != first["customers"]
    # (the codes are the same running numbers, the names behind them are not)
    assert [code for code, _ in other["customers"]] == [code for code, _ in first["customers"]]


def test_the_summary_counts_what_is_in_the_database() -> None:
    summary = demo_build(seed=3, customers=SMALL, today=TODAY)

    for model in (
        Customer,
        Contact,
        Order,
        OrderLine,
        Invoice,
        Payment,
        PaymentAllocation,
        CreditNote,
        WriteOff,
        Activity,
        Complaint,
        User,
        Product,
        OrgUnit,
    ):
        assert summary.counts[model._meta.label] == model._default_manager.count(), model
    assert summary.first_day == dt.date(2023, 5, 16)
    assert summary.today == TODAY


def test_the_ledger_rules_hold_on_every_invoice_payment_and_order() -> None:
    demo_build(seed=11, customers=SMALL, today=TODAY)

    allocated: dict[int, Decimal] = defaultdict(Decimal)
    allocated_from: dict[int, Decimal] = defaultdict(Decimal)
    for allocation in PaymentAllocation.objects.filter(reversed_on__isnull=True):
        allocated[allocation.invoice_id] += allocation.amount
        allocated_from[allocation.payment_id] += allocation.amount
    credited: dict[int, Decimal] = defaultdict(Decimal)
    for note in CreditNote.objects.exclude(invoice=None):
        credited[note.invoice_id] += note.amount  # type: ignore[index]
    written_off: dict[int, Decimal] = defaultdict(Decimal)
    for write_off in WriteOff.objects.filter(reversed_on__isnull=True):
        written_off[write_off.invoice_id] += write_off.amount

    invoices = list(Invoice.objects.all())
    assert invoices
    for invoice in invoices:
        expected = (
            invoice.amount - allocated[invoice.pk] - credited[invoice.pk] - written_off[invoice.pk]
        )
        assert invoice.open_amount == expected, invoice.number
        assert invoice.due_date == invoice.issue_date + dt.timedelta(
            days=invoice.payment_terms_days
        )
    payments = list(Payment.objects.all())
    assert payments
    for payment in payments:
        assert payment.unallocated_amount == payment.amount - allocated_from[payment.pk]
        assert payment.received_on <= TODAY
    assert any(p.unallocated_amount > 0 for p in payments), "some over-payments stay as credit"

    lines: dict[int, list[OrderLine]] = defaultdict(list)
    for line in OrderLine.objects.all():
        lines[line.order_id].append(line)
    for order in Order.objects.all():
        assert order.total_amount == sum((line.amount for line in lines[order.pk]), Decimal(0))
        assert order.total_cost == sum((line.cost for line in lines[order.pk]), Decimal(0))
        assert [line.line_number for line in lines[order.pk]] == list(
            range(1, len(lines[order.pk]) + 1)
        )
        assert order.order_date <= TODAY
    for line in OrderLine.objects.all()[:500]:
        assert line.amount == order_line_amount(
            quantity=line.quantity, unit_price=line.unit_price, discount_rate=line.discount_rate
        )
    # The purchase statistics on the cards are what the orders say.
    assert customer_purchase_stats_refresh() == 0


def test_invoices_belong_to_credit_orders_of_the_same_customer() -> None:
    demo_build(seed=5, customers=SMALL, today=TODAY)

    assert not Invoice.objects.exclude(order__customer=F("customer")).exists()
    assert not Invoice.objects.exclude(order__payment_method="credit").exists()
    assert not Invoice.objects.exclude(order__state="invoiced").exists()


def test_the_top_fifth_of_customers_carries_most_of_the_revenue() -> None:
    demo_build(seed=42, customers=SMALL, today=TODAY)

    revenue: dict[int, Decimal] = defaultdict(Decimal)
    for customer_id, amount in Order.objects.filter(state__in=PURCHASE_STATES).values_list(
        "customer_id", "total_amount"
    ):
        revenue[customer_id] += amount
    ranked = sorted(revenue.values(), reverse=True)
    top = ranked[: round(len(ranked) * 0.2)]
    share = sum(top) / sum(ranked)
    assert Decimal("0.65") <= share <= Decimal("0.90")


def test_every_role_has_a_demo_login_with_the_shared_password() -> None:
    demo_build(seed=1, customers=SMALL, today=TODAY)

    expected = {
        "rep1": Role.SALES_REP,
        "manager": Role.CUSTOMER_MANAGER,
        "dsm": Role.DIRECT_SALES_MANAGER,
        "regional": Role.REGIONAL_MANAGER,
        "finance": Role.FINANCE,
        "boss": Role.TOP_MANAGEMENT,
        "admin": Role.ADMINISTRATOR,
    }
    for username, role in expected.items():
        user = User.objects.get(username=username)
        assert user.role == role
        assert user.check_password(DEMO_PASSWORD)
        assert user.org_unit is not None
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
    reps = User.objects.filter(role=Role.SALES_REP)
    assert reps.count() == 40
    assert all(rep.org_unit.kind == OrgUnit.Kind.TEAM for rep in reps)  # type: ignore[union-attr]
    assert {a.role: a.max_amount for a in ApprovalAuthority.objects.all()} == DEFAULT_AUTHORITY


def test_prospects_have_no_orders_and_competitors_customers_name_the_competitor() -> None:
    demo_build(seed=2, customers=SMALL, today=TODAY)

    prospects = Customer.objects.filter(purchase_count=0)
    assert prospects.exists()
    assert not Order.objects.filter(customer__in=prospects).exists()
    assert not Customer.objects.filter(purchase_count__gt=0).exclude(competitor="").exists()
    assert prospects.exclude(competitor="").exists()
    # Every other customer bought at least once.
    assert not Customer.objects.filter(purchase_count__gt=0, first_purchase_on=None).exists()


def test_the_lifecycle_has_every_stage() -> None:
    demo_build(seed=42, customers=SMALL, today=TODAY)

    stages = {
        lifecycle_of(purchase_count=count, last_purchase_on=last, today=TODAY)
        for count, last in Customer.objects.values_list("purchase_count", "last_purchase_on")
    }
    assert stages == {"prospect", "new", "old", "inactive", "lost"}


def test_business_customers_have_a_decision_maker_and_a_handler() -> None:
    demo_build(seed=4, customers=SMALL, today=TODAY)

    for customer in Customer.objects.filter(kind=CustomerKind.BUSINESS).prefetch_related(
        "contacts"
    ):
        roles = [contact.role for contact in customer.contacts.all()]
        assert ContactRole.DECISION_MAKER in roles
        assert ContactRole.HANDLER in roles
    lunar = Contact.objects.filter(birthday_calendar="lunar")
    assert lunar.exists()
    for contact in lunar[:50]:
        assert contact.next_birthday(TODAY) is not None


def test_bad_debts_are_written_off_by_finance_with_a_reason() -> None:
    demo_build(seed=42, customers=600, today=TODAY)

    write_offs = list(WriteOff.objects.select_related("decided_by", "invoice"))
    assert write_offs
    for write_off in write_offs:
        assert write_off.reason
        assert write_off.decided_by.role == Role.FINANCE  # type: ignore[union-attr]
        assert write_off.credit_given_by is not None
        assert write_off.credit_approved_by is not None
        assert write_off.written_off_on > write_off.invoice.due_date
        assert write_off.written_off_on <= TODAY


def test_activities_and_complaints_have_owners_and_dates_inside_the_history() -> None:
    summary = demo_build(seed=6, customers=SMALL, today=TODAY)

    assert Activity.objects.filter(occurred_on__lt=summary.first_day).count() == 0
    assert Activity.objects.filter(occurred_on__gt=TODAY).count() == 0
    assert set(Activity.objects.values_list("kind", flat=True)) >= {
        "visit",
        "call",
        "delivery",
        "greeting",
    }
    assert Complaint.objects.filter(received_on__gt=TODAY).count() == 0
    assert not Complaint.objects.filter(state__in=["resolved", "closed"], resolved_on=None).exists()


def test_a_database_with_customers_is_refused_and_left_alone() -> None:
    # Given a database that already holds a customer
    CustomerFactory(code="X1", name="已有客户")
    users_before = User.objects.count()

    # When the demo is built without reset, then it is refused
    with pytest.raises(Conflict, match="already holds"):
        demo_build(seed=1, customers=SMALL, today=TODAY)

    # And nothing changed
    assert list(Customer.objects.values_list("code", flat=True)) == ["X1"]
    assert User.objects.count() == users_before
    assert not Product.objects.exists()


def test_reset_replaces_existing_data_instead_of_merging() -> None:
    CustomerFactory(code="X1", name="已有客户")

    demo_build(seed=1, customers=SMALL, today=TODAY, reset=True)

    assert not Customer.objects.filter(code="X1").exists()
    assert Customer.objects.count() == SMALL


def test_a_build_that_fails_half_way_leaves_nothing_behind(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls = {"count": 0}
    real = demo_services._chunk_build

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["count"] += 1
        if calls["count"] == 2:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(demo_services, "CHUNK_SIZE", 100)
    monkeypatch.setattr(demo_services, "_chunk_build", failing)

    with pytest.raises(RuntimeError, match="disk full"):
        demo_build(seed=1, customers=SMALL, today=TODAY)

    assert not Customer.objects.exists()
    assert not Order.objects.exists()
    assert not User.objects.exists()
    assert not OrgUnit.objects.exists()


def test_progress_is_reported_per_chunk(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(demo_services, "CHUNK_SIZE", 60)
    seen: list[tuple[str, int, int]] = []

    demo_build(
        seed=1,
        customers=SMALL,
        today=TODAY,
        progress=lambda *, stage, completed, total: seen.append((stage, completed, total)),
    )

    assert [s for s in seen if s[0] == "customers"] == [
        ("customers", 60, SMALL),
        ("customers", 120, SMALL),
        ("customers", 150, SMALL),
    ]


@pytest.mark.parametrize("customers", [0, -5, 10_000_000])
def test_a_customer_count_out_of_range_is_refused(customers: int) -> None:
    with pytest.raises(ValidationFailed, match="customers must be between"):
        demo_build(customers=customers, today=TODAY)
    assert not User.objects.exists()


def test_the_calendar_dips_at_the_spring_festival_and_peaks_in_december() -> None:
    calendar = BusinessCalendar.build(first=dt.date(2023, 5, 16), last=TODAY)

    festival = day_number(spring_festival(2025))
    festival_week = calendar.weight_on(np.arange(festival, festival + 7)).mean()
    december = (
        calendar.mass_between(
            np.asarray([day_number(dt.date(2024, 12, 1))]),
            np.asarray([day_number(dt.date(2024, 12, 31))]),
        )[0]
        / 31
    )
    assert festival_week < 0.3
    assert december > 1.1
    assert abs(calendar.weights.mean() - 1.0) < 1e-9
