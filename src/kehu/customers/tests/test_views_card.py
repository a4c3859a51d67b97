"""The customer card 客户资料卡: access, key figures, tabs, history, and a bounded query count."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.customers.models import ContactRole, Tag
from kehu.customers.services import customer_update
from kehu.customers.tests import ledger
from kehu.customers.tests.factories import ContactFactory, CustomerFactory
from kehu.receivables.models import Payment
from kehu.sales.models import Return
from kehu.service.models import Activity, ActivityKind, ActivityOutcome

TABS = {"HX-Request": "true", "HX-Target": "card-tabs"}


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def customer(organisation):
    card = CustomerFactory.create(
        code="K001",
        name="宁波海天塑机有限公司",
        owner=organisation.rep,
        region=organisation.east,
        province="浙江",
        city="宁波",
        address="北仑区大港路 8 号",
        latitude=Decimal("29.886"),
        longitude=Decimal("121.844"),
        source_channel="trade_show",
        competitor="力劲",
        notes="年底集中采购",
        credit_limit=Decimal("200000"),
        payment_terms_days=45,
    )
    card.tags.add(Tag.objects.create(name="重点客户"))
    return card


def test_the_owner_sees_the_card(organisation, customer, client):
    client.force_login(organisation.rep)

    response = client.get(f"/customers/{customer.pk}/")

    assert response.status_code == 200
    assert "宁波海天塑机有限公司" in response.text
    assert "K001" in response.text
    assert "重点客户" in response.text


@pytest.mark.parametrize(
    ("person", "status"),
    [
        ("rep", 200),
        ("customer_manager", 200),
        ("regional_manager", 200),
        ("finance", 200),
        ("other_rep", 404),
    ],
)
def test_who_may_open_the_card(organisation, customer, client, person, status):
    client.force_login(getattr(organisation, person))

    for tab in ("", "?tab=orders", "?tab=history"):
        assert client.get(f"/customers/{customer.pk}/{tab}").status_code == status


def test_a_card_that_does_not_exist_is_404(organisation, client):
    client.force_login(organisation.finance)

    assert client.get("/customers/999999/").status_code == 404


def test_the_key_figures(organisation, customer, client, today):
    # Revenue and profit count the last 12 months, less returns; an older order does not count.
    recent = ledger.purchase(
        customer, on=today - dt.timedelta(days=20), amount="10000", cost="6000"
    )
    ledger.purchase(customer, on=today - dt.timedelta(days=100), amount="5000", cost="3500")
    ledger.purchase(customer, on=today - dt.timedelta(days=400), amount="99999", cost="1")
    Return.objects.create(
        number="R1",
        order=recent,
        customer=customer,
        returned_on=today - dt.timedelta(days=10),
        amount=Decimal("1000"),
        cost=Decimal("600"),
    )
    overdue = ledger.invoice(
        customer, issued=today - dt.timedelta(days=60), amount="8000", terms=30
    )
    ledger.invoice(customer, issued=today - dt.timedelta(days=10), amount="4000", terms=30)
    ledger.payment(
        customer, received=today - dt.timedelta(days=5), amount="3000", invoices=[overdue]
    )
    Payment.objects.create(
        number="P-ADV",
        customer=customer,
        received_on=today,
        amount=Decimal("500"),
        unallocated_amount=Decimal("500"),
    )
    client.force_login(organisation.rep)

    response = client.get(f"/customers/{customer.pk}/")

    figures = response.context["figures"]
    assert figures.revenue_12_months == Decimal("14000.00")
    assert figures.gross_profit_12_months == Decimal("5100.00")  # 14000 − (9500 − 600)
    assert figures.open_invoices == Decimal("9000.00")  # 5000 + 4000
    assert figures.unallocated_payments == Decimal("500.00")
    assert figures.open_balance == Decimal("8500.00")
    assert figures.overdue_amount == Decimal("5000.00")
    assert figures.overdue_invoice_count == 1
    assert response.context["lifecycle"] == "old"
    assert "14,000.00" in response.text
    assert "8,500.00" in response.text
    assert response.context["credit_used_share"] == 4  # 8,500 of 200,000


def test_the_monthly_chart_has_24_months_with_the_purchases(organisation, customer, client, today):
    ledger.purchase(customer, on=today.replace(day=1), amount="700")
    ledger.purchase(customer, on=today, amount="300")
    client.force_login(organisation.rep)

    chart = client.get(f"/customers/{customer.pk}/").context["chart_monthly"]

    assert len(chart["labels"]) == 24
    assert chart["labels"][-1] == today.strftime("%Y-%m")
    assert chart["amounts"][-1] == 1000.0
    assert sum(chart["amounts"]) == 1000.0


def test_the_profile_tab_shows_the_card_fields(organisation, customer, client):
    client.force_login(organisation.rep)

    page = client.get(f"/customers/{customer.pk}/").text

    for text in (
        "北仑区大港路 8 号",
        "29.886000, 121.844000",
        "力劲",
        "年底集中采购",
        "200,000.00",
    ):
        assert text in page


def test_the_contacts_tab_shows_roles_and_the_next_birthday(organisation, customer, client, today):
    in_ten_days = today + dt.timedelta(days=10)
    ContactFactory.create(
        customer=customer,
        name="张总",
        role=ContactRole.DECISION_MAKER,
        birth_month=in_ten_days.month,
        birth_day=in_ten_days.day,
    )
    ContactFactory.create(customer=customer, name="李经理", role=ContactRole.HANDLER)
    client.force_login(organisation.rep)

    response = client.get(f"/customers/{customer.pk}/", {"tab": "contacts"}, headers=TABS)

    assert response.status_code == 200
    assert [c.name for c, _birthday, _days in response.context["contacts"]] == ["张总", "李经理"]
    assert response.context["contacts"][0][1] == in_ten_days
    assert response.context["contacts"][0][2] == 10
    assert "role-decision_maker" in response.text
    assert "role-handler" in response.text
    assert in_ten_days.isoformat() in response.text


def test_the_orders_tab_lists_orders_with_their_lines(organisation, customer, client, today):
    order = ledger.purchase(customer, on=today, amount="300", lines=3)
    client.force_login(organisation.rep)

    response = client.get(f"/customers/{customer.pk}/", {"tab": "orders"}, headers=TABS)

    assert "<html" not in response.text
    assert order.number in response.text
    assert f'id="order-lines-{order.pk}"' in response.text
    # three lines of 100.00 each: the unit price and the amount of every line
    assert response.text.count('<td class="num">100.00</td>') == 6


def test_the_invoices_tab_shows_days_overdue(organisation, customer, client, today):
    overdue = ledger.invoice(customer, issued=today - dt.timedelta(days=50), amount="800", terms=30)
    current = ledger.invoice(customer, issued=today, amount="200", terms=30)
    client.force_login(organisation.rep)

    response = client.get(f"/customers/{customer.pk}/", {"tab": "invoices"}, headers=TABS)

    days = {invoice.number: overdue_days for invoice, overdue_days in response.context["invoices"]}
    assert days == {overdue.number: 20, current.number: 0}


def test_the_payments_tab_shows_allocated_and_unallocated(organisation, customer, client, today):
    invoice = ledger.invoice(customer, issued=today, amount="700")
    payment = ledger.payment(customer, received=today, amount="1000")
    client.force_login(organisation.rep)

    response = client.get(f"/customers/{customer.pk}/", {"tab": "payments"}, headers=TABS)

    assert payment.number in response.text
    assert '<td class="num">700.00</td>' in response.text  # allocated
    assert '<td class="num is-credit">300.00</td>' in response.text  # unallocated
    assert invoice.number in response.text


def test_the_activities_tab(organisation, customer, client, today):
    Activity.objects.create(
        customer=customer,
        kind=ActivityKind.VISIT,
        occurred_on=today,
        owner=organisation.rep,
        subject="季度拜访",
        outcome=ActivityOutcome.SUCCESSFUL,
        cost=Decimal("150"),
    )
    client.force_login(organisation.rep)

    response = client.get(f"/customers/{customer.pk}/", {"tab": "activities"}, headers=TABS)

    assert "季度拜访" in response.text
    assert "150.00" in response.text


def test_the_history_tab_shows_who_changed_what_from_what_to_what_and_why(
    organisation, customer, client
):
    customer_update(
        customer=customer,
        actor=organisation.customer_manager,
        reason="年度评审",
        credit_limit=Decimal("300000"),
        owner=organisation.customer_manager,
    )
    organisation.customer_manager.display_name = "陈经理"
    organisation.customer_manager.save()
    client.force_login(organisation.customer_manager)

    response = client.get(f"/customers/{customer.pk}/", {"tab": "history"}, headers=TABS)

    entries = response.context["entries"]
    assert [entry.kind for entry in entries] == ["~", "+"]
    changes = {change.field: (change.old, change.new) for change in entries[0].changes}
    assert changes == {
        "owner": ("rep", "陈经理"),
        "credit_limit": (Decimal("200000.00"), Decimal("300000.00")),
    }
    assert entries[0].reason == "年度评审"
    assert entries[0].user == organisation.customer_manager
    assert "年度评审" in response.text


def test_tabs_are_paginated(organisation, customer, client, today):
    for index in range(25):
        ledger.invoice(customer, issued=today - dt.timedelta(days=index), amount="10")
    client.force_login(organisation.rep)

    first = client.get(f"/customers/{customer.pk}/", {"tab": "invoices"}, headers=TABS)
    second = client.get(
        f"/customers/{customer.pk}/", {"tab": "invoices", "page": "2"}, headers=TABS
    )

    assert len(first.context["invoices"]) == 20
    assert len(second.context["invoices"]) == 5
    assert 'href="?tab=invoices&amp;page=2"' in first.text


def test_a_full_load_of_a_tab_url_renders_the_whole_card(organisation, customer, client):
    client.force_login(organisation.rep)

    response = client.get(f"/customers/{customer.pk}/", {"tab": "orders"})

    assert "<html" in response.text
    assert 'class="tab is-active" role="tab" aria-selected="true"\n     href="?tab=orders"' in (
        response.text
    )


def _fill(customer, organisation, today, number):
    """`number` rows of everything the card shows."""
    for index in range(number):
        day = today - dt.timedelta(days=index)
        ledger.purchase(customer, on=day, amount="100", cost="60", lines=2)
        invoice = ledger.invoice(customer, issued=day, amount="100")
        ledger.payment(customer, received=day, amount="50", invoices=[invoice])
        ContactFactory.create(customer=customer, name=f"联系人{index}", birth_month=5, birth_day=1)
        Activity.objects.create(
            customer=customer, kind=ActivityKind.CALL, occurred_on=day, owner=organisation.rep
        )
        customer_update(
            customer=customer,
            actor=organisation.rep,
            reason=f"r{index}",
            credit_limit=Decimal(1000 + index),
            owner=organisation.rep,
        )


@pytest.mark.parametrize(
    ("tab", "limit"),
    [
        # session, user, card, tags, counts, 4 figure sums, chart
        ("", 12),
        # session, user, card, tags, counts, then the tab's count and page (and prefetch)
        ("contacts", 7),
        ("orders", 8),
        ("invoices", 7),
        ("payments", 8),
        ("activities", 7),
        ("history", 8),  # + the names of owners and regions that changed
    ],
)
def test_the_card_query_count_does_not_grow_with_the_rows(
    organisation, customer, client, today, tab, limit, django_assert_max_num_queries
):
    client.force_login(organisation.rep)
    client.get("/")
    _fill(customer, organisation, today, 25)
    headers = TABS if tab else {}

    with django_assert_max_num_queries(limit):
        response = client.get(
            f"/customers/{customer.pk}/", {"tab": tab} if tab else {}, headers=headers
        )

    assert response.status_code == 200
