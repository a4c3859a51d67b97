"""Bad requests answer 4xx naming what is wrong, never 500, and write nothing."""

from __future__ import annotations

import json

import pytest
from django.db import IntegrityError
from django.test import Client

from kehu.customers.models import Customer
from kehu.customers.tests.factories import CustomerFactory

TOO_BIG = str(2**63)  # one more than the largest bigint


@pytest.fixture
def client():
    """Messages are asserted in English, the source language (zh-hans is the default)."""
    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def finance_client(client, organisation):
    client.force_login(organisation.finance)
    return client


@pytest.fixture
def customer(organisation):
    return CustomerFactory.create(code="E1", name="甲", owner=organisation.rep)


def _post(client, url: str, raw: bytes | str, **extra):
    return client.post(url, data=raw, content_type="application/json", **extra)


def _fields(response) -> list[str]:
    return [item["field"] for item in response.json()["detail"]]


def test_a_body_that_is_not_json_answers_400(finance_client):
    response = _post(finance_client, "/api/customers", b'{"code": "N1", "name":')

    assert response.status_code == 400
    assert response.json() == {"message": "Cannot parse request body", "detail": None}
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"code": 5, "name": "甲"}, "code", "Input should be a valid string"),
        (
            {"code": "N1", "name": "甲", "kind": "alien"},
            "kind",
            "Input should be 'business' or 'consumer'",
        ),
        (
            {"code": "N1", "name": "甲", "credit_limit": "-0.01"},
            "credit_limit",
            "Input should be greater than or equal to 0",
        ),
        (
            {"code": "N1", "name": "甲", "credit_limit": "1.005"},
            "credit_limit",
            "Decimal input should have no more than 2 decimal places",
        ),
        (
            {"code": "N1", "name": "甲", "credit_limit": "1e30"},
            "credit_limit",
            "Decimal input should have no more than 18 digits in total",
        ),
        (
            {"code": "N1", "name": "甲", "credit_limit": "lots"},
            "credit_limit",
            "Input should be a valid decimal",
        ),
        ({"code": "N" * 41, "name": "甲"}, "code", "String should have at most 40 characters"),
        ({"code": "N1\x00", "name": "甲"}, "code", "Value error, must not contain NUL characters"),
        (
            {"code": "N1", "name": "甲", "payment_terms_days": 40000},
            "payment_terms_days",
            "Input should be less than or equal to 32767",
        ),
        (
            {"code": "N1", "name": "甲", "owner_id": int(TOO_BIG)},
            "owner_id",
            "Input should be less than or equal to 9223372036854775807",
        ),
        (
            {"code": "N1", "name": "甲", "latitude": "91"},
            "latitude",
            "Input should be less than or equal to 90",
        ),
        (
            {"code": "N1", "name": "甲", "credit_limt": "1"},
            "credit_limt",
            "Extra inputs are not permitted",
        ),
        ({"name": "甲"}, "code", "Field required"),
    ],
)
def test_a_wrong_field_answers_422_naming_it(finance_client, body, field, message):
    response = _post(finance_client, "/api/customers", json.dumps(body))

    assert response.status_code == 422
    assert response.json()["detail"] == [{"field": field, "location": "body", "message": message}]
    assert response.json()["message"] == f"the request is not valid: {field}: {message}"
    assert not Customer.objects.exists()


@pytest.mark.parametrize("raw", [b"[]", b'"N1"', b"null", b"42"])
def test_a_body_that_is_not_an_object_answers_422(finance_client, raw):
    response = _post(finance_client, "/api/customers", raw)

    assert response.status_code in (400, 422)
    assert set(response.json()) == {"message", "detail"}
    assert not Customer.objects.exists()


def test_a_lone_surrogate_in_json_answers_422(finance_client):
    response = _post(finance_client, "/api/customers", b'{"code": "N1", "name": "\\ud800"}')

    assert response.status_code == 422
    assert _fields(response) == ["name"]
    assert not Customer.objects.exists()


def test_model_validation_answers_422_with_the_field_messages(finance_client):
    response = _post(
        finance_client,
        "/api/customers",
        json.dumps({"code": "N1", "name": "甲", "email": "not-an-address"}),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 422
    assert response.json() == {
        "message": "the data is not valid: email: Enter a valid email address.",
        "detail": [
            {"field": "email", "location": "body", "message": "Enter a valid email address."}
        ],
    }
    assert not Customer.objects.exists()


def test_a_duplicate_code_answers_422_naming_the_code(finance_client, customer):
    response = _post(finance_client, "/api/customers", json.dumps({"code": "E1", "name": "乙"}))

    assert response.status_code == 422
    assert response.json()["detail"] == {"field": "code"}
    assert Customer.objects.get().name == "甲"


def test_a_duplicate_code_saved_between_check_and_insert_answers_422(
    finance_client, customer, monkeypatch
):
    """The race: another request saved E1 after our checks passed; the insert fails."""

    def insert_that_lost_the_race(**kwargs):
        raise IntegrityError("UNIQUE constraint failed: customers_customer.code")

    monkeypatch.setattr("kehu.customers.api.customer_create", insert_that_lost_the_race)

    response = _post(finance_client, "/api/customers", json.dumps({"code": "E1", "name": "乙"}))

    assert response.status_code == 422
    assert response.json() == {
        "message": "customer code 'E1' is taken",
        "detail": {"field": "code"},
    }
    assert Customer.objects.get().name == "甲"


def test_an_insert_that_fails_on_the_unique_code_rolls_back_and_answers_409(
    finance_client, monkeypatch
):
    """Both checks pass, then a competing row appears: the database refuses; nothing stays."""
    original_full_clean = Customer.full_clean

    def full_clean_then_competitor_inserts(self, *args, **kwargs):
        original_full_clean(self, *args, **kwargs)
        CustomerFactory.create(code=self.code, name="竞争者", owner=self.owner)

    monkeypatch.setattr(Customer, "full_clean", full_clean_then_competitor_inserts)

    response = _post(finance_client, "/api/customers", json.dumps({"code": "N9", "name": "乙"}))

    assert response.status_code == 409
    assert response.json() == {
        "message": "the customer could not be saved; try again",
        "detail": None,
    }
    assert not Customer.objects.exists()


def test_an_integrity_error_anywhere_answers_409(finance_client, customer, monkeypatch):
    def update_that_lost_the_race(**kwargs):
        raise IntegrityError("CHECK constraint failed")

    monkeypatch.setattr("kehu.customers.api.customer_update", update_that_lost_the_race)

    response = finance_client.patch(
        f"/api/customers/{customer.pk}",
        data=json.dumps({"city": "上海"}),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 409
    assert response.json() == {
        "message": "the change conflicts with data saved at the same time; try again",
        "detail": None,
    }


@pytest.mark.parametrize(
    ("url", "field"),
    [
        (f"/api/customers/{TOO_BIG}", "customer_id"),
        ("/api/customers/0", "customer_id"),
        ("/api/customers/abc", "customer_id"),
        (f"/api/customers/{TOO_BIG}/orders", "customer_id"),
        (f"/api/contacts/{TOO_BIG}", "contact_id"),
        (f"/api/products/{TOO_BIG}", "product_id"),
        (f"/api/customers?owner={TOO_BIG}", "owner"),
        (f"/api/customers?region={TOO_BIG}", "region"),
        (f"/api/customers?offset={TOO_BIG}", "offset"),
        ("/api/customers?limit=0", "limit"),
        ("/api/customers?limit=201", "limit"),
        ("/api/customers?limit=many", "limit"),
        ("/api/customers?kind=alien", "kind"),
        ("/api/customers?lifecycle=zombie", "lifecycle"),
        ("/api/customers?sort=password", "sort"),
        ("/api/customers?search=%00", "search"),
        ("/api/products?is_active=perhaps", "is_active"),
        ("/api/customers/1/orders?date_from=2026-02-30", "date_from"),
        ("/api/customers/1/invoices?date_to=yesterday", "date_to"),
        ("/api/customers/1/orders?state=lost", "state"),
    ],
)
def test_a_wrong_path_or_query_value_answers_422_naming_it(finance_client, url, field):
    response = finance_client.get(url)

    assert response.status_code == 422, response.content
    assert _fields(response) == [field]


def test_a_wrong_patch_changes_nothing(finance_client, customer):
    before = Customer.objects.values().get()

    response = finance_client.patch(
        f"/api/customers/{customer.pk}",
        data=json.dumps({"city": "上海", "credit_limit": "-5"}),
        content_type="application/json",
    )

    assert response.status_code == 422
    assert _fields(response) == ["credit_limit"]
    assert Customer.objects.values().get() == before
    assert customer.history.count() == 1


def test_a_write_without_the_csrf_token_answers_403_and_writes_nothing(organisation):
    browser = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(organisation.finance)

    response = _post(browser, "/api/customers", json.dumps({"code": "N1", "name": "甲"}))

    assert response.status_code == 403
    assert response.json() == {"message": "CSRF check Failed", "detail": None}
    assert not Customer.objects.exists()
