"""Credit as people use it, in Debian's Chromium: a rep sees the rating breakdown and the
exposure on the card's credit tab; the regional manager releases a held order from the queue.
Screenshots go to test-results/ (see web/tests/test_browser.py for the Chromium rules)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.accounts.services import approval_authorities_ensure_defaults
from kehu.catalog.tests.factories import ProductFactory
from kehu.credit.models import CreditCheck, HoldState
from kehu.credit.services.ratings import credit_rating_run
from kehu.credit.tests.factories import CreditLineFactory, CreditSurveyFactory
from kehu.customers.tests.factories import CustomerFactory
from kehu.sales.models import Order, OrderState
from kehu.sales.services import OrderLineInput, order_create
from kehu.web.tests.test_browser import SCREENSHOTS, browser_page  # noqa: F401 - the fixture


def _log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "secret-pass-1")
    page.click("form.login-form button[type=submit]")
    page.wait_for_load_state("networkidle")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_card_shows_the_rating_and_a_manager_releases_a_held_order(
    organisation,
    live_server,
    browser_page,  # noqa: F811 - the imported fixture
):
    approval_authorities_ensure_defaults()
    today = timezone.localdate()
    customer = CustomerFactory(code="C-300", name="苏州恒信电子有限公司", owner=organisation.rep)
    CreditSurveyFactory(customer=customer, surveyed_on=today - dt.timedelta(days=10))
    credit_rating_run(customer=customer, actor=None)
    CreditLineFactory(
        customer=customer,
        amount=Decimal("100000.00"),
        valid_from=today - dt.timedelta(days=30),
        valid_until=today + dt.timedelta(days=300),
    )
    order = order_create(
        customer=customer,
        number="SO-BROWSER-1",
        order_date=today,
        lines=[
            OrderLineInput(
                product=ProductFactory(), quantity=Decimal(1), unit_price=Decimal("120000.00")
            )
        ],
        actor=organisation.rep,
    )
    assert order.state == OrderState.CREDIT_HOLD
    page = browser_page
    SCREENSHOTS.mkdir(exist_ok=True)

    _log_in(page, live_server.url, "rep")
    page.goto(f"{live_server.url}/customers/{customer.pk}/?tab=credit")
    page.wait_for_selector("#credit-exposure")
    page.wait_for_selector(".breakdown-group")
    tab = page.locator(".tab-panel").inner_text()
    assert "120,000.00" in tab  # the held order in the last credit checks
    assert "品质特性" in tab  # the rating breakdown, by group
    page.screenshot(path=str(SCREENSHOTS / "credit-card-tab-zh.png"), full_page=True)
    page.click("form.logout-form button[type=submit]")
    page.wait_for_load_state("networkidle")

    # A new customer without payment history rates C: the whole order is the excess
    # (120,000), beyond the customer manager's 10万, within the regional manager's 200万.
    _log_in(page, live_server.url, "rm")
    page.goto(f"{live_server.url}/credit/holds/")
    row = page.locator("table tbody tr", has_text="SO-BROWSER-1")
    assert "120,000.00" in row.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "credit-holds-zh.png"), full_page=True)
    row.locator("input[name=reason]").fill("客户已承诺月底付清")
    row.locator("button", has_text="放行").click()
    page.wait_for_load_state("networkidle")

    assert Order.objects.get(pk=order.pk).state == OrderState.CONFIRMED
    check = CreditCheck.objects.get(order=order)
    assert check.hold_state == HoldState.RELEASED
    assert check.decided_by == organisation.regional_manager
    assert check.decision_reason == "客户已承诺月底付清"
