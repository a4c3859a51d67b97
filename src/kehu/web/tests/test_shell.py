"""The page shell: sign in and out, every page behind the login, languages, error pages."""

import pytest
from django.urls import reverse

from kehu.customers.tests.factories import CustomerFactory

PAGES = ["/", "/customers/", "/customers/export.xlsx", "/customers/1/"]


@pytest.mark.parametrize("path", PAGES)
def test_a_signed_out_visitor_is_sent_to_the_login_page(db, client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


def test_a_signed_out_htmx_request_is_redirected_by_htmx_not_swapped(db, client):
    response = client.get(
        "/customers/?q=x",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/customers/?q=x"},
    )

    assert response.status_code == 200
    assert response["HX-Redirect"] == "/login/?next=/customers/%3Fq%3Dx"
    assert response.content == b""


def test_the_api_answers_401_instead_of_redirecting(db, client):
    response = client.get("/api/customers")

    assert response.status_code == 401


def test_the_login_page_is_open_and_in_chinese_by_default(db, client):
    response = client.get("/login/")

    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.text
    assert "登录" in response.text


def test_signing_in_leads_to_the_page_asked_for(organisation, client):
    response = client.post(
        "/login/?next=/customers/",
        {"username": "rep", "password": "secret-pass-1", "next": "/customers/"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/customers/"
    assert client.get("/customers/").status_code == 200


def test_a_wrong_password_is_refused_with_a_message(organisation, client):
    response = client.post("/login/", {"username": "rep", "password": "wrong"})

    assert response.status_code == 200
    assert "alert-error" in response.text
    assert client.get("/").status_code == 302


def test_signing_out_takes_a_post_and_ends_the_session(organisation, client):
    client.force_login(organisation.rep)

    refused = client.get("/logout/")
    response = client.post("/logout/")

    assert refused.status_code == 405
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert client.get("/").status_code == 302


def test_the_header_shows_the_user_and_role(organisation, client):
    organisation.rep.display_name = "王小明"
    organisation.rep.save()
    client.force_login(organisation.rep)

    page = client.get("/").text

    assert "王小明" in page
    assert "业务员" in page  # the role, in Chinese


def test_the_language_switch_changes_the_language_of_the_pages(organisation, client):
    client.force_login(organisation.rep)
    assert "客户" in client.get("/customers/").text

    response = client.post(
        reverse("set_language"), {"language": "en", "next": "/customers/?kind=business"}
    )
    page = client.get("/customers/").text

    assert response.status_code == 302
    assert response["Location"] == "/customers/?kind=business"
    assert '<html lang="en">' in page
    assert "Customers" in page
    assert "Sign out" in page

    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert '<html lang="zh-hans">' in client.get("/").text


def test_the_language_switch_works_on_the_login_page(db, client):
    client.post(reverse("set_language"), {"language": "en", "next": "/login/"})

    page = client.get("/login/").text

    assert '<html lang="en">' in page
    assert "Sign in" in page


@pytest.mark.parametrize(
    ("person", "sees_imports"),
    [
        ("rep", False),
        ("customer_manager", False),
        ("regional_manager", False),
        ("top_management", False),
        ("finance", True),
        ("administrator", True),
    ],
)
def test_the_imports_entry_is_only_for_administrators_and_finance(
    organisation, client, person, sees_imports
):
    client.force_login(getattr(organisation, person))

    page = client.get("/").text

    assert ('href="/imports/"' in page) is sees_imports
    assert 'href="/customers/"' in page
    assert 'href="/api/docs"' in page


def test_the_current_page_is_marked_in_the_navigation(organisation, client):
    client.force_login(organisation.rep)

    page = client.get("/customers/").text

    assert 'class="nav-link is-active" href="/customers/" aria-current="page"' in page


def test_an_unknown_page_is_our_404_inside_the_shell(organisation, client):
    client.force_login(organisation.rep)

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "页面不存在" in response.text
    assert 'class="sidebar"' in response.text


def test_another_reps_customer_is_our_404(organisation, client):
    customer = CustomerFactory.create(owner=organisation.other_rep)
    client.force_login(organisation.rep)

    response = client.get(f"/customers/{customer.pk}/")

    assert response.status_code == 404
    assert "页面不存在" in response.text
    assert customer.name not in response.text


def test_the_500_page_renders_without_a_request(db):
    from django.template.loader import get_template

    page = get_template("500.html").render()

    assert "出错了" in page
