"""The credit hold API: the queue, releases and rejections, a customer's exposure and checks,
and the role × endpoint permission matrix."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.utils import translation

from kehu.accounts.services import approval_authorities_ensure_defaults
from kehu.credit.models import CreditCheck, CreditEvent, CreditEventKind, HoldState
from kehu.credit.tests.hold_helpers import confirm, history_order, line_for, open_invoice
from kehu.customers.tests.factories import CustomerFactory
from kehu.sales.models import Order, OrderState

D = Decimal


@pytest.fixture(autouse=True)
def english(client, settings):
    """Pages and messages in English (the source language), whatever the default."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def book(organisation):
    """East customer E1 (the rep's): line 100,000, 60,000 open, an order of 150,000 held
    (excess 110,000); west customer W1 (the other rep's) with a hold of its own."""
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


def _post(client, url: str, body: dict):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_the_queue_lists_the_holds_of_customers_one_sees(client, organisation, book):
    client.force_login(organisation.customer_manager)

    body = client.get("/api/credit/holds").json()

    assert body["count"] == 1
    assert body["authority"] == "100000.00"
    [item] = body["items"]
    assert item["id"] == book["east_hold"].pk
    assert item["customer"] == {"id": book["east"].pk, "code": "E1", "name": "华东机械"}
    assert item["entered_by"] == {"id": organisation.rep.pk, "name": str(organisation.rep)}
    assert item["order_state"] == "held"
    assert item["reasons"] == ["over_line"]
    assert item["order_amount"] == "150000.00"
    assert item["exposure"] == "210000.00"
    assert item["line_amount"] == "100000.00"
    assert item["excess"] == "110000.00"
    assert item["hold_state"] == "open"
    assert item["may_release"] is False


def test_the_queue_filters_by_reason_owner_and_search(client, organisation, book):
    client.force_login(organisation.finance)

    def ids(**params) -> list[int]:
        return [item["id"] for item in client.get("/api/credit/holds", params).json()["items"]]

    east, west = book["east_hold"].pk, book["west_hold"].pk
    assert ids() == [east, west]
    assert ids(sort="-waiting") == [west, east]
    assert ids(sort="-amount") == [east, west]
    assert ids(reason="no_line") == [west]
    assert ids(reason="over_line") == [east]
    assert ids(owner_id=organisation.other_rep.pk) == [west]
    assert ids(q="华东") == [east]
    assert ids(q=book["west_hold"].order.number) == [west]
    assert client.get("/api/credit/holds", {"sort": "drop table"}).status_code == 422
    assert client.get("/api/credit/holds", {"reason": "nonsense"}).status_code == 422


def test_a_release_within_authority_confirms_the_order(client, organisation, book):
    client.force_login(organisation.direct_sales_manager)

    response = _post(
        client, f"/api/credit/holds/{book['east_hold'].pk}/release", {"reason": "预付三成"}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["hold_state"] == "released"
    assert body["order_state"] == "confirmed"
    assert body["decided_by"]["id"] == organisation.direct_sales_manager.pk
    assert body["decision_reason"] == "预付三成"
    assert Order.objects.get(pk=book["east_hold"].order_id).state == OrderState.CONFIRMED


def test_a_release_beyond_authority_answers_403_changes_nothing_and_is_logged(
    client, organisation, book
):
    client.force_login(organisation.customer_manager)

    response = _post(
        client, f"/api/credit/holds/{book['east_hold'].pk}/release", {"reason": "老客户"}
    )

    assert response.status_code == 403
    body = response.json()
    assert "110000.00" in body["message"]
    assert body["detail"] == {
        "credit_check": book["east_hold"].pk,
        "excess": "110000.00",
        "authority": "100000.00",
    }
    hold = CreditCheck.objects.get(pk=book["east_hold"].pk)
    assert hold.hold_state == HoldState.OPEN
    assert hold.decided_by is None
    assert Order.objects.get(pk=hold.order_id).state == OrderState.CREDIT_HOLD
    refused = CreditEvent.objects.get(kind=CreditEventKind.REFUSED)
    assert refused.actor == organisation.customer_manager
    assert refused.customer == book["east"]
    assert refused.reason["action"] == "hold_release"


def test_a_reject_cancels_the_order(client, organisation, book):
    client.force_login(organisation.finance)

    response = _post(
        client, f"/api/credit/holds/{book['west_hold'].pk}/reject", {"reason": "无授信，请现款"}
    )

    assert response.status_code == 200
    assert response.json()["order_state"] == "cancelled"
    assert response.json()["hold_state"] == "rejected"


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "ok", "extra": 1}])
def test_a_decision_without_a_reason_answers_422(client, organisation, book, body):
    client.force_login(organisation.top_management)

    response = _post(client, f"/api/credit/holds/{book['east_hold'].pk}/release", body)

    assert response.status_code == 422
    assert CreditCheck.objects.get(pk=book["east_hold"].pk).hold_state == HoldState.OPEN


def test_a_blank_reason_is_refused_by_the_service_and_logged(client, organisation, book):
    client.force_login(organisation.top_management)

    response = _post(client, f"/api/credit/holds/{book['east_hold'].pk}/reject", {"reason": "  "})

    assert response.status_code == 422
    assert response.json()["detail"] == {"field": "reason"}
    assert CreditEvent.objects.filter(kind=CreditEventKind.REFUSED).count() == 1


def test_a_decided_hold_answers_409(client, organisation, book):
    client.force_login(organisation.top_management)
    url = f"/api/credit/holds/{book['east_hold'].pk}"
    assert _post(client, f"{url}/reject", {"reason": "no"}).status_code == 200

    response = _post(client, f"{url}/release", {"reason": "yes"})

    assert response.status_code == 409
    assert Order.objects.get(pk=book["east_hold"].order_id).state == OrderState.CANCELLED


def test_the_exposure_of_a_customer(client, organisation, book):
    history_order(book["east"], "5000.00", state=OrderState.DELIVERED)
    client.force_login(organisation.rep)

    body = client.get(f"/api/customers/{book['east'].pk}/credit/exposure").json()

    assert body["open_receivables"] == "60000.00"
    assert body["uninvoiced_orders"] == "5000.00"
    assert body["exposure"] == "65000.00"
    assert body["line_amount"] == "100000.00"
    assert body["limit"] == "100000.00"
    assert body["available"] == "35000.00"
    assert body["tolerance_share"] == "0"
    assert body["group"] is None
    assert body["hold_reasons"] == []
    west = client.get(f"/api/customers/{book['west'].pk}/credit/exposure")
    assert west.status_code == 404


def test_the_checks_of_a_customer_newest_first(client, organisation, book):
    passed = confirm(book["east"], "100.00", actor=organisation.rep)
    client.force_login(organisation.rep)

    body = client.get(f"/api/customers/{book['east'].pk}/credit/checks").json()

    assert body["count"] == 2
    assert [item["order_id"] for item in body["items"]] == [
        passed.pk,
        book["east_hold"].order_id,
    ]
    assert [item["result"] for item in body["items"]] == ["passed", "held"]
    assert body["items"][0]["exposure"] == "60100.00"


def test_the_queue_reads_a_fixed_number_of_queries(
    client, organisation, book, django_assert_max_num_queries
):
    for _ in range(5):
        confirm(book["east"], "100000.00", actor=organisation.rep)
    client.force_login(organisation.finance)
    client.get("/api/credit/holds")  # warm the session

    with django_assert_max_num_queries(8):
        response = client.get("/api/credit/holds")

    assert response.json()["count"] == 7


# --- The permission matrix --------------------------------------------------------------------

ROLES = [
    "anonymous",
    "rep",
    "other_rep",
    "customer_manager",
    "direct_sales_manager",
    "regional_manager",
    "finance",
    "top_management",
    "administrator",
]
SEES_EAST = {
    "rep",
    "customer_manager",
    "direct_sales_manager",
    "regional_manager",
    "finance",
    "top_management",
    "administrator",
}
# Authority over the east hold's excess of 110,000: direct-sales 500,000, regional 2,000,000,
# top management without bound; the customer manager's 100,000 does not reach it.
RELEASES_EAST = {"direct_sales_manager", "regional_manager", "top_management"}
DECIDES = {
    "customer_manager",
    "direct_sales_manager",
    "regional_manager",
    "finance",
    "top_management",
    "administrator",
}


def _sees_east(ok: int):
    return lambda role: ok if role in SEES_EAST else 404


def _decision(allowed: set[str]):
    return lambda role: 404 if role not in SEES_EAST else (200 if role in allowed else 403)


ENDPOINTS = {
    "queue": ("get", "/api/credit/holds", lambda role: 200),
    "release": ("post", "/api/credit/holds/{hold}/release", _decision(RELEASES_EAST)),
    "reject": ("post", "/api/credit/holds/{hold}/reject", _decision(DECIDES)),
    "exposure": ("get", "/api/customers/{east}/credit/exposure", _sees_east(200)),
    "checks": ("get", "/api/customers/{east}/credit/checks", _sees_east(200)),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_permission_matrix(client, organisation, book, role, endpoint):
    method, url, expected = ENDPOINTS[endpoint]
    url = url.format(hold=book["east_hold"].pk, east=book["east"].pk)
    if role != "anonymous":
        client.force_login(getattr(organisation, role))
    before = list(CreditCheck.objects.order_by("pk").values_list("hold_state", flat=True))

    response = client.get(url) if method == "get" else _post(client, url, {"reason": "决定"})

    status = 401 if role == "anonymous" else expected(role)
    assert response.status_code == status
    if method == "post" and status != 200:
        after = list(CreditCheck.objects.order_by("pk").values_list("hold_state", flat=True))
        assert after == before
        assert Order.objects.get(pk=book["east_hold"].order_id).state == OrderState.CREDIT_HOLD
