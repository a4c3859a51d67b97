"""The customers API: list, read, create, change and history, with exact values."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from kehu.customers.models import Customer, Tag
from kehu.customers.tests.factories import CustomerFactory


@pytest.fixture
def client():
    """Messages are asserted in English, the source language (zh-hans is the default)."""
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def _json(client, method: str, url: str, body: object, **extra):
    return getattr(client, method)(
        url, data=json.dumps(body), content_type="application/json", **extra
    )


@pytest.fixture
def east_customer(organisation):
    customer = CustomerFactory.create(
        code="E1",
        name="华东贸易有限公司",
        owner=organisation.rep,
        region=organisation.east,
        city="上海",
        phone="021-5555",
        credit_limit=Decimal("50000.00"),
        payment_terms_days=45,
        purchase_count=2,
        first_purchase_on=timezone.localdate() - dt.timedelta(days=100),
        last_purchase_on=timezone.localdate() - dt.timedelta(days=10),
    )
    customer.tags.add(Tag.objects.create(name="重点"))
    return customer


@pytest.fixture
def west_customer(organisation):
    return CustomerFactory.create(code="W1", name="华西商行", owner=organisation.other_rep)


# --- who am I ----------------------------------------------------------------------------------


def test_me_tells_the_user_their_role_unit_and_reach(client, organisation):
    client.force_login(organisation.customer_manager)

    response = client.get("/api/me")

    assert response.status_code == 200
    unit = organisation.east_team
    assert response.json() == {
        "id": organisation.customer_manager.pk,
        "username": "cm",
        "display_name": "",
        "role": "customer_manager",
        "org_unit": {"id": unit.pk, "code": "east-1", "name": "华东一组", "kind": "team"},
        "sees_all": False,
        "is_manager": True,
    }


def test_the_api_asks_for_a_login_first(client, db):
    response = client.get("/api/me")

    assert response.status_code == 401
    assert response.json() == {"message": "log in first", "detail": None}


# --- list --------------------------------------------------------------------------------------


def test_list_shows_one_row_per_visible_customer_with_exact_values(
    client, organisation, east_customer, west_customer
):
    client.force_login(organisation.rep)

    response = client.get("/api/customers")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["limit"] == 50
    assert body["offset"] == 0
    assert body["items"] == [
        {
            "id": east_customer.pk,
            "code": "E1",
            "name": "华东贸易有限公司",
            "kind": "business",
            "lifecycle": "old",
            "region": {
                "id": organisation.east.pk,
                "code": "east",
                "name": "华东",
            },
            "owner": {"id": organisation.rep.pk, "username": "rep", "display_name": ""},
            "city": "上海",
            "phone": "021-5555",
            "tags": ["重点"],
            "credit_limit": "50000.00",
            "payment_terms_days": 45,
            "currency": "CNY",
            "first_purchase_on": (timezone.localdate() - dt.timedelta(days=100)).isoformat(),
            "last_purchase_on": (timezone.localdate() - dt.timedelta(days=10)).isoformat(),
            "purchase_count": 2,
        }
    ]


def test_list_filters_sorts_and_pages(client, organisation):
    for code, name in [("A1", "甲"), ("A2", "乙"), ("A3", "丙"), ("B1", "丁")]:
        CustomerFactory.create(code=code, name=name, owner=organisation.rep)
    client.force_login(organisation.finance)

    response = client.get("/api/customers?search=A&sort=-code&limit=2&offset=1")

    body = response.json()
    assert response.status_code == 200
    assert body["count"] == 3
    assert [item["code"] for item in body["items"]] == ["A2", "A1"]


def test_list_filters_by_owner_kind_lifecycle_region_and_tag(
    client, organisation, east_customer, west_customer
):
    client.force_login(organisation.finance)

    def codes(query: str) -> list[str]:
        response = client.get(f"/api/customers?{query}")
        assert response.status_code == 200, response.json()
        return [item["code"] for item in response.json()["items"]]

    assert codes(f"owner={organisation.other_rep.pk}") == ["W1"]
    assert codes("kind=business") == ["E1", "W1"]
    assert codes("kind=consumer") == []
    assert codes("lifecycle=prospect") == ["W1"]
    assert codes("lifecycle=old") == ["E1"]
    assert codes(f"region={organisation.east.pk}") == ["E1"]
    assert codes("tag=重点") == ["E1"]


def test_list_reads_a_fixed_number_of_queries_whatever_the_page_size(
    client, organisation, django_assert_max_num_queries
):
    tag = Tag.objects.create(name="批发")
    for number in range(40):
        customer = CustomerFactory.create(
            code=f"N{number:03d}", owner=organisation.rep, region=organisation.east
        )
        customer.tags.add(tag)
    client.force_login(organisation.customer_manager)
    client.get("/api/me")  # warm the session

    # session, user, org unit (manager's subtree), count, page, tags
    with django_assert_max_num_queries(6):
        response = client.get("/api/customers?limit=40")

    assert response.status_code == 200
    assert len(response.json()["items"]) == 40
    assert all(item["tags"] == ["批发"] for item in response.json()["items"])


# --- retrieve ----------------------------------------------------------------------------------


def test_retrieve_shows_the_whole_card(client, organisation, east_customer):
    client.force_login(organisation.rep)

    response = client.get(f"/api/customers/{east_customer.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["code"] == "E1"
    assert body["credit_limit"] == "50000.00"
    assert body["latitude"] is None
    assert body["ownership"] == ""
    assert body["email"] == ""
    assert set(body) >= {"industry", "territory", "address", "notes", "created_at"}


def test_a_customer_the_user_may_not_see_answers_like_one_that_does_not_exist(
    client, organisation, west_customer
):
    client.force_login(organisation.rep)

    hidden = client.get(f"/api/customers/{west_customer.pk}")
    missing = client.get("/api/customers/999999")

    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"] == missing.json()["detail"]
    assert hidden.json()["message"] == f"customer {west_customer.pk} not found"


# --- create ------------------------------------------------------------------------------------


def test_a_rep_creates_a_customer_they_own(client, organisation):
    client.force_login(organisation.rep)

    response = _json(
        client,
        "post",
        "/api/customers",
        {
            "code": " N100 ",
            "name": "新客户",
            "kind": "consumer",
            "city": "杭州",
            "latitude": "30.274085",
            "region_id": organisation.east.pk,
        },
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    customer = Customer.objects.get(code="N100")
    assert body["id"] == customer.pk
    assert body["owner"]["username"] == "rep"
    assert body["kind"] == "consumer"
    assert body["latitude"] == "30.274085"
    assert body["credit_limit"] == "0.00"
    assert body["lifecycle"] == "prospect"
    assert customer.owner == organisation.rep
    assert customer.history.get().history_user == organisation.rep


def test_finance_creates_a_customer_with_credit_terms_for_any_owner(client, organisation):
    client.force_login(organisation.finance)

    response = _json(
        client,
        "post",
        "/api/customers",
        {
            "code": "N200",
            "name": "赊销客户",
            "owner_id": organisation.other_rep.pk,
            "credit_limit": "120000.50",
            "payment_terms_days": 60,
        },
    )

    assert response.status_code == 201, response.json()
    customer = Customer.objects.get(code="N200")
    assert customer.owner == organisation.other_rep
    assert customer.credit_limit == Decimal("120000.50")
    assert response.json()["credit_limit"] == "120000.50"
    assert response.json()["payment_terms_days"] == 60


def test_a_manager_creates_customers_for_reps_of_their_subtree_only(client, organisation):
    client.force_login(organisation.regional_manager)

    own_team = _json(
        client,
        "post",
        "/api/customers",
        {"code": "N301", "name": "甲", "owner_id": organisation.rep.pk},
    )
    other_region = _json(
        client,
        "post",
        "/api/customers",
        {"code": "N302", "name": "乙", "owner_id": organisation.other_rep.pk},
    )

    assert own_team.status_code == 201
    assert other_region.status_code == 403
    assert other_region.json() == {
        "message": "you may not make 'rep2' the owner of a customer",
        "detail": {"field": "owner_id"},
    }
    assert list(Customer.objects.values_list("code", flat=True)) == ["N301"]


def test_a_rep_may_not_set_credit_terms_and_nothing_is_saved(client, organisation):
    client.force_login(organisation.rep)

    response = _json(
        client, "post", "/api/customers", {"code": "N400", "name": "甲", "credit_limit": "1000"}
    )

    assert response.status_code == 403
    assert response.json()["message"] == (
        "only finance, top management or an administrator may set credit terms"
    )
    assert not Customer.objects.exists()


def test_a_duplicate_code_is_refused_naming_the_field(client, organisation, east_customer):
    client.force_login(organisation.finance)

    response = _json(client, "post", "/api/customers", {"code": "E1", "name": "重复"})

    assert response.status_code == 422
    assert response.json() == {
        "message": "customer code 'E1' is taken",
        "detail": {"field": "code"},
    }
    assert Customer.objects.count() == 1


def test_an_unknown_owner_or_region_is_refused_naming_the_field(client, organisation):
    client.force_login(organisation.finance)

    no_owner = _json(
        client, "post", "/api/customers", {"code": "N1", "name": "甲", "owner_id": 987654}
    )
    no_region = _json(
        client, "post", "/api/customers", {"code": "N2", "name": "乙", "region_id": 987654}
    )

    assert no_owner.status_code == no_region.status_code == 422
    assert no_owner.json()["detail"] == {"field": "owner_id"}
    assert no_region.json()["detail"] == {"field": "region_id"}
    assert not Customer.objects.exists()


# --- change and history ------------------------------------------------------------------------


def test_finance_changes_the_credit_limit_and_the_history_keeps_who_what_and_why(
    client, organisation, east_customer
):
    client.force_login(organisation.finance)

    response = _json(
        client,
        "patch",
        f"/api/customers/{east_customer.pk}",
        {"credit_limit": "80000.00", "payment_terms_days": 60, "reason": "年度评审"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["credit_limit"] == "80000.00"
    assert response.json()["payment_terms_days"] == 60
    history = client.get(
        f"/api/customers/{east_customer.pk}/history", HTTP_ACCEPT_LANGUAGE="en"
    ).json()
    assert len(history) == 2
    latest, created = history
    assert latest["kind"] == "changed"
    assert latest["reason"] == "年度评审"
    assert latest["changed_by"] == {
        "id": organisation.finance.pk,
        "username": "finance",
        "display_name": "",
    }
    assert [(c["field"], c["before"], c["after"]) for c in latest["changes"]] == [
        ("credit_limit", "50000.00", "80000.00"),
        ("payment_terms_days", "45", "60"),
    ]
    assert created["kind"] == "created"
    assert created["changes"] == []


def test_a_rep_changes_the_card_of_their_customer_but_not_its_credit_terms(
    client, organisation, east_customer
):
    client.force_login(organisation.rep)

    allowed = _json(
        client,
        "patch",
        f"/api/customers/{east_customer.pk}",
        {"city": "苏州", "notes": "拜访后更新"},
    )
    refused = _json(
        client,
        "patch",
        f"/api/customers/{east_customer.pk}",
        {"city": "南京", "credit_limit": "99999.00"},
    )
    unchanged_credit = _json(
        client, "patch", f"/api/customers/{east_customer.pk}", {"credit_limit": "50000.00"}
    )

    assert allowed.status_code == 200
    assert allowed.json()["city"] == "苏州"
    assert refused.status_code == 403
    assert unchanged_credit.status_code == 200
    east_customer.refresh_from_db()
    assert (east_customer.city, east_customer.credit_limit) == ("苏州", Decimal("50000.00"))
    assert east_customer.history.count() == 2


def test_a_rep_may_not_hand_a_customer_to_another_rep(client, organisation, east_customer):
    client.force_login(organisation.rep)

    response = _json(
        client,
        "patch",
        f"/api/customers/{east_customer.pk}",
        {"owner_id": organisation.other_rep.pk},
    )

    assert response.status_code == 403
    east_customer.refresh_from_db()
    assert east_customer.owner == organisation.rep


def test_a_manager_hands_a_customer_to_another_rep_of_the_team(client, organisation, east_customer):
    client.force_login(organisation.customer_manager)

    response = _json(
        client,
        "patch",
        f"/api/customers/{east_customer.pk}",
        {"owner_id": organisation.customer_manager.pk, "reason": "交接"},
    )

    assert response.status_code == 200
    assert response.json()["owner"]["username"] == "cm"
    latest = client.get(f"/api/customers/{east_customer.pk}/history").json()[0]
    assert [(c["field"], c["before"], c["after"]) for c in latest["changes"]] == [
        ("owner", "rep", "cm")
    ]


def test_a_patch_of_a_hidden_customer_answers_404_and_changes_nothing(
    client, organisation, west_customer
):
    client.force_login(organisation.rep)

    response = _json(client, "patch", f"/api/customers/{west_customer.pk}", {"city": "成都"})

    assert response.status_code == 404
    west_customer.refresh_from_db()
    assert west_customer.city == ""
    assert west_customer.history.count() == 1


def test_a_patch_can_clear_the_region_but_not_null_the_name(client, organisation, east_customer):
    client.force_login(organisation.finance)

    cleared = _json(client, "patch", f"/api/customers/{east_customer.pk}", {"region_id": None})
    nulled = _json(client, "patch", f"/api/customers/{east_customer.pk}", {"name": None})

    assert cleared.status_code == 200
    assert cleared.json()["region"] is None
    assert nulled.status_code == 422
    assert nulled.json()["detail"][0]["field"] == "name"
    east_customer.refresh_from_db()
    assert east_customer.name == "华东贸易有限公司"
