"""The shell as a person uses it, in Debian's Chromium driven by Playwright.

Logs in, opens the customer list, opens a card, switches the language, and saves screenshots
to test-results/. Chromium cannot be downloaded here: the test uses the system's build
(`apt-get install chromium`; .ci/run installs it). Outside CI a machine without Chromium
skips this test with that reason; in CI (CI=true) a missing Chromium is a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from kehu.customers.tests.factories import CustomerFactory

CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium", "chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[4] / "test-results"


def _chromium() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate) or (candidate if Path(candidate).is_file() else None)
        if found:
            return found
    return None


@pytest.fixture
def browser_page():
    executable = _chromium()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed: apt-get install chromium")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test
    # itself happen before it starts and do not race it.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
        yield page
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_log_in_open_the_list_and_a_card_and_switch_language(
    organisation, live_server, browser_page
):
    CustomerFactory(code="C-100", name="上海精工机械有限公司", owner=organisation.rep, city="上海")
    CustomerFactory(code="C-200", name="成都远方贸易有限公司", owner=organisation.other_rep)
    page = browser_page
    SCREENSHOTS.mkdir(exist_ok=True)

    page.goto(f"{live_server.url}/customers/")
    assert "/login/" in page.url
    page.fill("input[name=username]", "rep")
    page.fill("input[name=password]", "secret-pass-1")
    page.click("form.login-form button[type=submit]")
    page.wait_for_url("**/customers/**")

    assert page.locator("html").get_attribute("lang") == "zh-hans"
    rows = page.locator("table tbody tr")
    assert rows.count() == 1, "a rep sees only their own customers"
    assert "上海精工机械有限公司" in rows.first.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "customer-list-zh.png"), full_page=True)

    page.click("table tbody tr a:has-text('上海精工机械有限公司')")
    page.wait_for_url("**/customers/*/")
    assert "上海精工机械有限公司" in page.locator("h1").first.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "customer-card-zh.png"), full_page=True)

    page.locator("form.language-switch button[value=en]").first.click()
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Customers" in page.locator("nav").first.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "customer-card-en.png"), full_page=True)
