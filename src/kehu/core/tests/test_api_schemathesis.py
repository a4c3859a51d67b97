"""Property-based run of the whole API against its own OpenAPI schema (schemathesis).

The app runs in-process through WSGI, logged in as finance (who sees every customer) with a
session cookie and a CSRF token. For every operation, schemathesis sends valid and invalid
requests generated from the schema; each answer must be no 5xx, a status the operation
declares, JSON, and conform to the declared schema. A bounded number of examples keeps the
run short enough for the normal suite.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from django.utils.crypto import get_random_string
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from kehu.catalog.tests.factories import ProductFactory
from kehu.customers.tests.factories import ContactFactory, CustomerFactory
from kehu.receivables.services import invoice_create, payment_record
from kehu.sales.services import OrderLineInput, order_create
from kehu.service.services import activity_log, complaint_create

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


# Loaded when the module is collected (pytest-django has set Django up by then); reading the
# schema touches no database. (schemathesis.pytest.from_fixture does not work with pytest 9.)
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())


@pytest.fixture
def connections_kept_open():
    """The WSGI handler closes database connections after each request; inside a test that
    would close the test's transaction (PostgreSQL). Django's own test client does the same."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(organisation, connections_kept_open):
    """A logged-in finance session, the CSRF pair for writes, and one customer with a row of
    everything that hangs off it. Generated ids of 1 are pointed at these rows (the database
    chooses the real ids), so that reads and writes of existing records are exercised too."""
    customer = CustomerFactory.create(code="E1", owner=organisation.rep)
    contact = ContactFactory.create(customer=customer, name="王经理")
    product = ProductFactory.create(code="P1")
    day = dt.date(2025, 3, 1)
    order_create(
        customer=customer,
        number="O-1",
        order_date=day,
        lines=[OrderLineInput(product=product, quantity=Decimal("2"), unit_price=Decimal("10.00"))],
    )
    invoice_create(customer=customer, number="I-1", issue_date=day, amount=Decimal("20.00"))
    payment_record(customer=customer, number="P-1", received_on=day, amount=Decimal("5.00"))
    activity_log(customer=customer, kind="visit", occurred_on=day, owner=organisation.rep)
    complaint_create(
        customer=customer, received_on=day, category="price", text="贵", owner=organisation.rep
    )
    client = Client()
    client.force_login(organisation.finance)
    session = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    token = get_random_string(32)
    return {
        "cookies": {
            django_settings.SESSION_COOKIE_NAME: session,
            django_settings.CSRF_COOKIE_NAME: token,
        },
        "headers": {"X-CSRFToken": token},
        "ids": {"customer_id": customer.pk, "contact_id": contact.pk, "product_id": product.pk},
    }


@pytest.mark.schemathesis
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_its_schema_says(case, world):
    for name, value in (case.path_parameters or {}).items():
        if value == 1 and name in world["ids"]:
            case.path_parameters[name] = world["ids"][name]

    response = case.call(headers=world["headers"], cookies=world["cookies"])

    case.validate_response(response, checks=CHECKS)
    # Finance may do everything here: a 401 or 403 would mean the run tested nothing but the
    # login (or the CSRF check).
    assert response.status_code not in (401, 403), response.text
