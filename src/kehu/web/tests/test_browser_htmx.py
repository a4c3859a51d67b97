"""The pages in a real browser (Chromium through Playwright): htmx swaps, pushed URLs, tabs.

Skipped when no Chromium is found (set KEHU_CHROMIUM to its path, or put `chromium` on PATH).
"""

import os
import re
import shutil
from decimal import Decimal

import pytest

from kehu.customers.tests.factories import CustomerFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium() -> str:
    path = (
        os.environ.get("KEHU_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )
    if not path:
        pytest.skip("no Chromium found (set KEHU_CHROMIUM)")
    return path


@pytest.fixture
def browser_page(monkeypatch):
    playwright_api = pytest.importorskip("playwright.sync_api")
    executable = _chromium()
    # Playwright runs an event loop in this thread, and the tests write rows while it runs.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        page = browser.new_page(locale="zh-CN", viewport={"width": 1400, "height": 900})
        page.set_default_timeout(10_000)
        yield page
        browser.close()


def _sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "secret-pass-1")
    page.click("button.button-primary")
    page.wait_for_url(f"{base}/")


def _codes(page) -> list[str]:
    return page.locator("#customer-results tbody tr td:first-child").all_inner_texts()


def test_filters_sort_and_tabs_work_without_full_reloads(organisation, live_server, browser_page):
    for code, name, purchases in [
        ("A1", "杭州西湖贸易", 3),
        ("A2", "杭州钱塘机械", 7),
        ("A3", "上海浦东商行", 5),
    ]:
        CustomerFactory.create(
            code=code,
            name=name,
            owner=organisation.rep,
            purchase_count=purchases,
            credit_limit=Decimal(1000),
        )
    CustomerFactory.create(code="W1", name="杭州不可见", owner=organisation.other_rep)
    page, base = browser_page, live_server.url
    _sign_in(page, base, "rep")
    page.goto(f"{base}/customers/")
    page.evaluate("window.notReloaded = true")

    page.fill("#filter-search", "杭州")
    page.wait_for_url(re.compile(r"\?q=%E6%9D%AD%E5%B7%9E&sort=code$"))
    page.wait_for_function("document.querySelectorAll('#customer-results tbody tr').length == 2")
    assert _codes(page) == ["A1", "A2"]

    header = "#customer-results th >> text=购买次数"
    page.click(header)
    page.wait_for_selector("#customer-results a.sort-ascending >> text=购买次数")
    page.click(header)
    page.wait_for_selector("#customer-results a.sort-descending >> text=购买次数")
    assert re.search(r"sort=-purchases", page.url)
    assert page.input_value("#sort-input") == "-purchases"
    assert _codes(page) == ["A2", "A1"]

    page.select_option("select[name=kind]", "business")
    page.wait_for_url(re.compile(r"kind=business"))
    assert "sort=-purchases" in page.url  # the sort survives a filter change
    assert "lifecycle=" not in page.url  # empty filters stay out of the address
    assert _codes(page) == ["A2", "A1"]
    assert page.evaluate("window.notReloaded") is True  # all of it without a page load

    page.click("text=A2")
    page.wait_for_url(re.compile(r"/customers/\d+/$"))
    page.evaluate("window.notReloaded = true")
    page.click("a.tab >> text=变更历史")
    page.wait_for_url(re.compile(r"tab=history"))
    page.wait_for_selector(".timeline-item")
    assert page.evaluate("window.notReloaded") is True
    assert page.locator("a.tab.is-active").inner_text().startswith("变更历史")

    page.click("button.segment >> text=EN")
    page.wait_for_selector("html[lang=en]")
    assert "tab=history" in page.url  # back on the page the user was on, now in English
    assert page.locator("a.tab.is-active").inner_text().startswith("History")


def test_the_home_page_draws_its_charts(organisation, live_server, browser_page):
    CustomerFactory.create(owner=organisation.rep)
    page, base = browser_page, live_server.url
    _sign_in(page, base, "rep")

    page.wait_for_selector("[data-chart=lifecycle] svg")
    page.wait_for_selector("[data-chart=orders] svg")
