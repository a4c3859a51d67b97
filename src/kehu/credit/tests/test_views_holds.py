"""The credit hold queue page, its decisions and export, and the exposure panel of the card."""

from __future__ import annotations

import io
from decimal import Decimal

import polars as pl
import pytest
from django.utils import timezone, translation

from kehu.accounts.services import approval_authorities_ensure_defaults
from kehu.credit.models import (
    CreditCheck,
    CreditEvent,
    CreditEventKind,
    CustomerCredit,
    HoldState,
)
from kehu.credit.tests.factories import CreditGroupFactory
from kehu.credit.tests.hold_helpers import confirm, line_for, open_invoice
from kehu.customers.tests.factories import CustomerFactory
from kehu.sales.models import Order, OrderState

D = Decimal


@pytest.fixture(autouse=True)
def english(client, settings):
    """Pages and messages in English (the source language), whatever the default."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


URL = "/credit/holds/"


@pytest.fixture
def book(organisation):
    approval_authorities_ensure_defaults()
    east = CustomerFactory.create(code="E1", name="华东机械", owner=organisation.rep)
    west = CustomerFactory.create(code="W1", name="华西电子", owner=organisation.other_rep)
    line_for(east, "100000.00")
    open_invoice(east, "60000.00")
    east_order = confirm(east, "150000.00", actor=organisation.rep)
    west_order = confirm(west, "500.00", actor=organisation.other_rep)
    return {
        "east": east,
        "west": west,
        "east_hold": CreditCheck.objects.get(order=east_order),
        "west_hold": CreditCheck.objects.get(order=west_order),
    }


def test_the_queue_shows_who_what_why_and_since_when(client, organisation, book):
    client.force_login(organisation.direct_sales_manager)

    response = client.get(URL)

    assert response.status_code == 200
    page = response.content.decode()
    hold = book["east_hold"]
    assert hold.order.number in page
    assert "华东机械" in page
    assert str(organisation.rep) in page  # entered by
    assert "150,000.00" in page
    assert "210,000.00" in page
    assert "110,000.00" in page
    assert "Exposure beyond the credit line" in page
    assert timezone.localtime(hold.checked_at).strftime("%Y-%m-%d") in page  # shown local
    assert "华西电子" not in page  # not a customer the east manager sees
    assert f"/credit/holds/{hold.pk}/release/" in page
    assert "500,000.00" in page  # the user's authority


def test_the_queue_filters_and_answers_htmx_with_the_results_only(client, organisation, book):
    client.force_login(organisation.finance)

    full = client.get(URL, {"reason": "no_line"}).content.decode()
    partial = client.get(
        URL, {"q": "华东"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="hold-results"
    ).content.decode()

    assert "华西电子" in full
    assert "华东机械" not in full
    assert "华东机械" in partial
    assert "华西电子" not in partial
    assert "<html" not in partial


def test_an_empty_queue_says_so(client, organisation):
    client.force_login(organisation.rep)

    page = client.get(URL).content.decode()

    assert "No order is waiting for credit" in page


def test_a_release_from_the_page_confirms_the_order(client, organisation, book):
    client.force_login(organisation.direct_sales_manager)
    hold = book["east_hold"]

    response = client.post(
        f"/credit/holds/{hold.pk}/release/", {"reason": "预付三成", "next": URL + "?sort=-amount"}
    )

    assert response.status_code == 302
    assert response["Location"] == URL + "?sort=-amount"
    hold.refresh_from_db()
    assert hold.hold_state == HoldState.RELEASED
    assert hold.decision_reason == "预付三成"
    assert Order.objects.get(pk=hold.order_id).state == OrderState.CONFIRMED


def test_a_release_beyond_authority_from_the_page_says_why_and_changes_nothing(
    client, organisation, book
):
    client.force_login(organisation.customer_manager)
    hold = book["east_hold"]

    response = client.post(
        f"/credit/holds/{hold.pk}/release/",
        {"reason": "老客户", "next": "https://evil.example/"},
        follow=True,
    )

    assert response.redirect_chain == [(URL, 302)]
    assert "your authority reaches 100000.00" in response.content.decode()
    hold.refresh_from_db()
    assert hold.hold_state == HoldState.OPEN
    assert Order.objects.get(pk=hold.order_id).state == OrderState.CREDIT_HOLD
    assert CreditEvent.objects.filter(kind=CreditEventKind.REFUSED).count() == 1


def test_a_reject_from_the_page_cancels_the_order(client, organisation, book):
    client.force_login(organisation.finance)
    hold = book["west_hold"]

    client.post(f"/credit/holds/{hold.pk}/reject/", {"reason": "请现款"})

    assert Order.objects.get(pk=hold.order_id).state == OrderState.CANCELLED


def test_a_hold_one_does_not_see_answers_404(client, organisation, book):
    client.force_login(organisation.rep)

    response = client.post(f"/credit/holds/{book['west_hold'].pk}/reject/", {"reason": "x"})

    assert response.status_code == 404
    assert CreditCheck.objects.get(pk=book["west_hold"].pk).hold_state == HoldState.OPEN


def test_the_export_lists_the_holds_one_sees(client, organisation, book):
    client.force_login(organisation.finance)

    response = client.get(URL + "export.xlsx", {"sort": "-amount"})

    assert response.status_code == 200
    frame = pl.read_excel(io.BytesIO(b"".join(response.streaming_content)), engine="calamine")
    assert frame.columns[:4] == ["Order", "Customer code", "Customer", "Entered by"]
    assert frame["Customer code"].to_list() == ["E1", "W1"]
    assert frame.row(0)[4:8] == (150000, 210000, 100000, 110000)
    assert frame["Reasons"].to_list()[1] == "No approved credit line"


def test_the_card_panel_shows_exposure_line_reasons_and_last_checks(client, organisation, book):
    client.force_login(organisation.rep)

    response = client.get(f"/credit/customers/{book['east'].pk}/exposure/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "60,000.00" in page  # exposure (the held order holds no credit)
    assert "100,000.00" in page  # the line
    assert "40,000.00" in page  # available
    assert 'aria-valuenow="60"' in page
    assert book["east_hold"].order.number in page
    assert "New orders on credit within the available amount go through." in page


def test_the_card_panel_of_a_customer_without_a_line_says_it_is_on_hold(client, organisation, book):
    client.force_login(organisation.other_rep)

    page = client.get(f"/credit/customers/{book['west'].pk}/exposure/").content.decode()

    assert "No approved credit line" in page
    assert "no approved line" in page
    assert client.get(f"/credit/customers/{book['east'].pk}/exposure/").status_code == 404


def test_the_card_panel_of_a_group_member_shows_the_group(client, organisation, book):
    group = CreditGroupFactory.create(name="长江集团")
    CustomerCredit.objects.update_or_create(customer=book["east"], defaults={"group": group})
    line_for(None, "300000.00", group=group)
    client.force_login(organisation.rep)

    page = client.get(f"/credit/customers/{book['east'].pk}/exposure/").content.decode()

    assert "Group 长江集团" in page
    assert "group line 300,000.00" in page
