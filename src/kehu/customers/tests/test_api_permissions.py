"""The permission matrix: every role against every endpoint, and the status it answers.

E1 belongs to the rep of the east team, W1 to the rep of the west team. What a user may not
see answers 404 exactly like what does not exist; what a user sees but may not do answers 403.
A refused write leaves the database as it was.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from kehu.catalog.tests.factories import ProductFactory
from kehu.customers.models import Contact, Customer
from kehu.customers.tests.factories import ContactFactory, CustomerFactory
from kehu.receivables.services import invoice_create, write_off_create
from kehu.sales.models import OrderState
from kehu.sales.services import OrderLineInput, order_create

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
SEES_WEST = {"other_rep", "finance", "top_management", "administrator"}
SETS_CREDIT = {"finance", "top_management", "administrator"}
EVERYONE = set(ROLES) - {"anonymous"}


def _visible(sees: set[str], ok: int):
    return lambda role: ok if role in sees else 404


def _credit(role: str) -> int:
    if role not in SEES_EAST:
        return 404
    return 200 if role in SETS_CREDIT else 403


def _create_for(owners: set[str]):
    return lambda role: 201 if role in owners else 403


def _finance_reads(role: str) -> int:
    return 200 if role in SETS_CREDIT else 403


def _reverses_write_offs(role: str) -> int:
    if role not in SEES_EAST:
        return 404
    return 200 if role in {"finance", "administrator"} else 403


# name: (method, url, body, expected status for a logged-in role)
ENDPOINTS = {
    "me": ("get", "/api/me", None, lambda role: 200),
    "customer list": ("get", "/api/customers", None, lambda role: 200),
    "east card": ("get", "/api/customers/{east}", None, _visible(SEES_EAST, 200)),
    "west card": ("get", "/api/customers/{west}", None, _visible(SEES_WEST, 200)),
    "east history": ("get", "/api/customers/{east}/history", None, _visible(SEES_EAST, 200)),
    "east contacts": ("get", "/api/customers/{east}/contacts", None, _visible(SEES_EAST, 200)),
    "east contact": ("get", "/api/contacts/{east_contact}", None, _visible(SEES_EAST, 200)),
    "east orders": ("get", "/api/customers/{east}/orders", None, _visible(SEES_EAST, 200)),
    "enter east order": (
        "post",
        "/api/customers/{east}/orders",
        {
            "number": "SO-MATRIX",
            "order_date": "2026-03-01",
            "lines": [{"product_id": "{product}", "quantity": "1", "unit_price": "10.00"}],
        },
        _visible(SEES_EAST, 201),
    ),
    "cancel east order": (
        "post",
        "/api/orders/{east_order}/state",
        {"state": "cancelled"},
        _visible(SEES_EAST, 200),
    ),
    "east invoices": ("get", "/api/customers/{east}/invoices", None, _visible(SEES_EAST, 200)),
    "east payments": ("get", "/api/customers/{east}/payments", None, _visible(SEES_EAST, 200)),
    "east activities": ("get", "/api/customers/{east}/activities", None, _visible(SEES_EAST, 200)),
    "east complaints": ("get", "/api/customers/{east}/complaints", None, _visible(SEES_EAST, 200)),
    "west orders": ("get", "/api/customers/{west}/orders", None, _visible(SEES_WEST, 200)),
    "products": ("get", "/api/products", None, lambda role: 200),
    "receivables aging": ("get", "/api/receivables/aging", None, lambda role: 200),
    "receivables figures": ("get", "/api/receivables/figures", None, lambda role: 200),
    "product": ("get", "/api/products/{product}", None, lambda role: 200),
    "chase list": ("get", "/api/receivables/chase-list", None, lambda role: 200),
    "provision matrix": ("get", "/api/receivables/provision-matrix", None, _finance_reads),
    # No value snapshot in this world: every signed-in role gets the same 404 ("run kehu
    # analyze"); what a rep sees of a snapshot is tested in value/tests/test_views_reports.py.
    "value pyramid": ("get", "/api/value/pyramid", None, lambda role: 404),
    "value concentration": ("get", "/api/value/concentration", None, lambda role: 404),
    "value matrix": ("get", "/api/value/matrix", None, lambda role: 404),
    "value profitability": ("get", "/api/value/profitability", None, lambda role: 404),
    "value segments": ("get", "/api/value/segments", None, lambda role: 404),
    "value migration": ("get", "/api/value/migration", None, lambda role: 404),
    "value lifetime": ("get", "/api/value/lifetime", None, lambda role: 404),
    "value lifetime customers": ("get", "/api/value/lifetime/customers", None, lambda role: 404),
    # A product line that does not exist: refused on its field, whoever asks.
    "segment action": (
        "post",
        "/api/value/segments/actions",
        {"line": 999999, "text": "call", "owner": 1, "due_on": "2099-01-01"},
        lambda role: 422,
    ),
    "segment action done": (
        "post",
        "/api/value/segments/actions/999999/done",
        None,
        lambda role: 404,
    ),
    "east notes": (
        "get",
        "/api/customers/{east}/collection-notes",
        None,
        _visible(SEES_EAST, 200),
    ),
    "add east note": (
        "post",
        "/api/customers/{east}/collection-notes",
        {"contacted_on": "2026-01-05", "channel": "phone", "outcome": "no_contact"},
        _visible(SEES_EAST, 201),
    ),
    "east promises": (
        "get",
        "/api/customers/{east}/promises-to-pay",
        None,
        _visible(SEES_EAST, 200),
    ),
    "add east promise": (
        "post",
        "/api/customers/{east}/promises-to-pay",
        {"amount": "100.00", "made_on": "2026-01-05", "promised_for": "2026-01-20"},
        _visible(SEES_EAST, 201),
    ),
    "reverse east write-off": (
        "post",
        "/api/write-offs/{east_write_off}/reverse",
        {"reason": "回款"},
        _reverses_write_offs,
    ),
    "change east card": (
        "patch",
        "/api/customers/{east}",
        {"city": "苏州"},
        _visible(SEES_EAST, 200),
    ),
    "change west card": (
        "patch",
        "/api/customers/{west}",
        {"city": "成都"},
        _visible(SEES_WEST, 200),
    ),
    "change east credit limit": (
        "patch",
        "/api/customers/{east}",
        {"credit_limit": "9000.00"},
        _credit,
    ),
    "add east contact": (
        "post",
        "/api/customers/{east}/contacts",
        {"name": "新"},
        _visible(SEES_EAST, 201),
    ),
    "change east contact": (
        "patch",
        "/api/contacts/{east_contact}",
        {"phone": "1"},
        _visible(SEES_EAST, 200),
    ),
    "create for the east rep": (
        "post",
        "/api/customers",
        {"code": "N1", "name": "新", "owner_id": "{rep}"},
        _create_for(SEES_EAST),
    ),
    "create for the west rep": (
        "post",
        "/api/customers",
        {"code": "N1", "name": "新", "owner_id": "{other_rep}"},
        _create_for(SEES_WEST),
    ),
}


def _written_off(customer, finance):
    invoice = invoice_create(
        customer=customer,
        number="E1-INV",
        issue_date=dt.date(2026, 1, 1),
        due_date=dt.date(2026, 1, 31),
        amount=Decimal("500.00"),
    )
    return write_off_create(
        invoice=invoice,
        amount=Decimal("200.00"),
        written_off_on=dt.date(2026, 3, 1),
        reason="破产",
        decided_by=finance,
    )


@pytest.fixture
def world(organisation):
    east = CustomerFactory.create(
        code="E1", owner=organisation.rep, credit_limit=Decimal("1000.00")
    )
    west = CustomerFactory.create(code="W1", owner=organisation.other_rep)
    product = ProductFactory.create(code="P1")
    return {
        "east": east.pk,
        "west": west.pk,
        "east_contact": ContactFactory.create(customer=east, name="甲").pk,
        "east_write_off": _written_off(east, organisation.finance).pk,
        "product": product.pk,
        "east_order": order_create(
            customer=east,
            number="SO-DRAFT",
            order_date=dt.date(2026, 3, 1),
            lines=[OrderLineInput(product=product, quantity=Decimal(1), unit_price=Decimal(10))],
            state=OrderState.DRAFT,
        ).pk,
        "rep": organisation.rep.pk,
        "other_rep": organisation.other_rep.pk,
    }


def _snapshot() -> tuple[list[tuple], list[tuple]]:
    customers = list(
        Customer.objects.order_by("code").values_list(
            "code", "owner_id", "city", "credit_limit", "updated_at"
        )
    )
    contacts = list(Contact.objects.order_by("pk").values_list("name", "phone", "updated_at"))
    return customers, contacts


def _filled(body, world):
    """The body with "{name}" ids of the world filled in, at any depth."""
    if isinstance(body, dict):
        return {
            key: int(value.format(**world))
            if key.endswith("_id") and isinstance(value, str)
            else _filled(value, world)
            for key, value in body.items()
        }
    if isinstance(body, list):
        return [_filled(item, world) for item in body]
    return body


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(client, organisation, world, role, endpoint):
    method, url, body, expected = ENDPOINTS[endpoint]
    if role != "anonymous":
        client.force_login(getattr(organisation, role))
    url = url.format(**world)
    before = _snapshot()
    kwargs = {}
    if body is not None:
        payload = _filled(body, world)
        kwargs = {"data": json.dumps(payload), "content_type": "application/json"}

    response = getattr(client, method)(url, **kwargs)

    status = 401 if role == "anonymous" else expected(role)
    assert response.status_code == status, response.content
    if status >= 400:
        assert set(response.json()) == {"message", "detail"}
        assert _snapshot() == before


# The apps whose endpoints answer by the customer-visibility rule this matrix checks.
MATRIX_TAGS = {"accounts", "customers", "sales", "receivables", "service", "catalog", "value"}


def test_the_matrix_covers_every_operation_of_these_apps():
    """A new endpoint in one of these apps must be added to the matrix above."""
    from kehu.api import api

    schema = api.get_openapi_schema(path_prefix="/api/")
    operations = {
        (method, path.replace("/api", "", 1))
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if MATRIX_TAGS & set(operation.get("tags", []))
    }
    covered = {(method, _template(url)) for method, url, _body, _expected in ENDPOINTS.values()}
    assert operations - covered == set()


def _template(url: str) -> str:
    names = {
        "{east}": "{customer_id}",
        "{west}": "{customer_id}",
        "{east_contact}": "{contact_id}",
        "{product}": "{product_id}",
        "{east_write_off}": "{write_off_id}",
        "{east_order}": "{order_id}",
        "/999999/done": "/{action_id}/done",  # a segment action that does not exist
    }
    for placeholder, name in names.items():
        url = url.replace(placeholder, name)
    return url.replace("/api", "", 1)
