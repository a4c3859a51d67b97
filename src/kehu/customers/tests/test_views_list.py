"""The customer list page: search, filters, sort, pages, htmx partial, empty states, access."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.customers.models import CustomerKind, Tag
from kehu.customers.tests import ledger
from kehu.customers.tests.factories import CustomerFactory

HTMX = {"HX-Request": "true", "HX-Target": "customer-results"}


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def register(organisation, today):
    """Five customers in the east (three of the rep's, two of the customer manager's), one west."""
    recent = today - dt.timedelta(days=10)
    key_account = Tag.objects.create(name="重点客户")
    org = organisation

    def customer(code, name, owner, region, city, phone, purchases, last, limit, **extra):
        return CustomerFactory.create(
            code=code,
            name=name,
            owner=owner,
            region=region,
            city=city,
            phone=phone,
            purchase_count=purchases,
            first_purchase_on=last and last - dt.timedelta(days=300),
            last_purchase_on=last,
            credit_limit=Decimal(limit),
            **extra,
        )

    customers = {
        "A001": customer(
            "A001",
            "上海华东机械有限公司",
            org.rep,
            org.east,
            "上海",
            "021-5550001",
            5,
            recent,
            "500000",
        ),
        "A002": customer(
            "A002",
            "杭州西湖贸易公司",
            org.rep,
            org.east,
            "杭州",
            "0571-5550002",
            1,
            recent,
            "100000",
        ),
        "A003": customer(
            "A003",
            "李娜",
            org.rep,
            org.east,
            "上海",
            "139-0000-0003",
            0,
            None,
            "0",
            kind=CustomerKind.CONSUMER,
        ),
        "B001": customer(
            "B001",
            "南京金陵电气",
            org.customer_manager,
            org.east,
            "南京",
            "025-5550004",
            3,
            today - dt.timedelta(days=400),
            "200000",
        ),
        "B002": customer(
            "B002",
            "苏州工业园区建材",
            org.customer_manager,
            org.east,
            "苏州",
            "0512-5550005",
            2,
            today - dt.timedelta(days=800),
            "300000",
        ),
        "W001": customer(
            "W001",
            "成都上海路商行",
            org.other_rep,
            org.west,
            "成都",
            "028-5550006",
            4,
            recent,
            "400000",
        ),
    }
    customers["A001"].tags.add(key_account)
    customers["B001"].tags.add(key_account)
    customers["W001"].tags.add(key_account)
    return customers


def codes(response):
    return [row.customer.code for row in response.context["rows"]]


@pytest.mark.parametrize(
    ("person", "expected"),
    [
        ("rep", ["A001", "A002", "A003"]),
        ("customer_manager", ["A001", "A002", "A003", "B001", "B002"]),
        ("other_rep", ["W001"]),
        ("finance", ["A001", "A002", "A003", "B001", "B002", "W001"]),
    ],
)
def test_each_person_sees_exactly_their_customers_by_code(
    organisation, register, client, person, expected
):
    client.force_login(getattr(organisation, person))

    response = client.get("/customers/")

    assert response.status_code == 200
    assert codes(response) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("A00", ["A001", "A002", "A003"]),  # code prefix
        ("上海", ["A001", "A003"]),  # name or city; never the west rep's 成都上海路商行
        ("0571", ["A002"]),  # phone
        ("南京", ["B001"]),  # city
        ("西湖", ["A002"]),  # part of a name
        ("zzz", []),
    ],
)
def test_search_matches_code_name_phone_and_city(organisation, register, client, query, expected):
    client.force_login(organisation.customer_manager)

    response = client.get("/customers/", {"q": query})

    assert codes(response) == expected


def test_search_as_finance_finds_the_west_customer_too(organisation, register, client):
    client.force_login(organisation.finance)

    assert codes(client.get("/customers/", {"q": "上海"})) == ["A001", "A003", "W001"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"kind": "consumer"}, ["A003"]),
        ({"kind": "business"}, ["A001", "A002", "B001", "B002"]),
        ({"lifecycle": "prospect"}, ["A003"]),
        ({"lifecycle": "new"}, ["A002"]),
        ({"lifecycle": "old"}, ["A001"]),
        ({"lifecycle": "inactive"}, ["B001"]),
        ({"lifecycle": "lost"}, ["B002"]),
        ({"tag": "重点客户"}, ["A001", "B001"]),
        ({"tag": "重点客户", "lifecycle": "old"}, ["A001"]),
        ({"kind": "nonsense"}, ["A001", "A002", "A003", "B001", "B002"]),  # ignored
    ],
)
def test_filters_give_exactly_the_matching_customers(
    organisation, register, client, filters, expected
):
    client.force_login(organisation.customer_manager)

    assert codes(client.get("/customers/", filters)) == expected


def test_filter_by_owner_and_region(organisation, register, client):
    client.force_login(organisation.finance)

    by_owner = client.get("/customers/", {"owner": organisation.customer_manager.pk})
    by_region = client.get("/customers/", {"region": organisation.west.pk})

    assert codes(by_owner) == ["B001", "B002"]
    assert codes(by_region) == ["W001"]


def test_filtering_on_a_rep_you_may_not_see_shows_nothing(organisation, register, client):
    client.force_login(organisation.customer_manager)

    response = client.get("/customers/", {"owner": organisation.other_rep.pk})

    assert codes(response) == []
    assert "W001" not in response.text


def test_the_owner_filter_offers_only_people_you_may_see(organisation, register, client):
    client.force_login(organisation.customer_manager)

    owners = {person.username for person in client.get("/customers/").context["owners"]}

    assert owners == {"rep", "cm"}


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("code", ["A001", "A002", "A003", "B001", "B002"]),
        ("-code", ["B002", "B001", "A003", "A002", "A001"]),
        ("-purchases", ["A001", "B001", "B002", "A002", "A003"]),
        ("purchases", ["A003", "A002", "B002", "B001", "A001"]),
        ("credit_limit", ["A003", "A002", "B001", "B002", "A001"]),
        ("-last_purchase", ["A002", "A001", "B001", "B002", "A003"]),  # ties: newest row first
        ("last_purchase", ["B002", "B001", "A001", "A002", "A003"]),  # no purchase: last
        ("-credit_limit", ["A001", "B002", "B001", "A002", "A003"]),
        ("bogus", ["A001", "A002", "A003", "B001", "B002"]),
    ],
)
def test_sorting(organisation, register, client, sort, expected):
    client.force_login(organisation.customer_manager)

    assert codes(client.get("/customers/", {"sort": sort})) == expected


def test_a_sorted_header_links_to_the_opposite_order_and_keeps_the_filters(
    organisation, register, client
):
    client.force_login(organisation.customer_manager)

    page = client.get("/customers/", {"sort": "purchases", "kind": "business"}).text

    assert 'href="?sort=-purchases&amp;kind=business"' in page
    assert 'aria-sort="ascending"' in page


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("1", ["A001", "A002"]),
        ("2", ["A003", "B001"]),
        ("3", ["B002"]),
        ("99", ["B002"]),
        ("x", ["A001", "A002"]),
    ],
)
def test_pages_of_the_page_size(organisation, register, client, settings, page, expected):
    settings.KEHU = {**settings.KEHU, "PAGE_SIZE": 2}
    client.force_login(organisation.customer_manager)

    response = client.get("/customers/", {"page": page})

    assert codes(response) == expected
    assert response.context["page"].paginator.num_pages == 3


def test_page_links_keep_the_filters(organisation, register, client, settings):
    settings.KEHU = {**settings.KEHU, "PAGE_SIZE": 1}
    client.force_login(organisation.customer_manager)

    page = client.get("/customers/", {"kind": "business", "page": "2"}).text

    assert 'href="?kind=business&amp;page=3"' in page
    assert 'href="?kind=business"' in page  # page 1 has no page parameter


def test_the_count_stops_at_the_cap(organisation, register, client, settings, monkeypatch):
    settings.KEHU = {**settings.KEHU, "PAGE_SIZE": 2}
    monkeypatch.setattr("kehu.customers.views.COUNT_CAP", 3)
    client.force_login(organisation.finance)

    response = client.get("/customers/")

    assert response.context["is_capped"] is True
    assert response.context["page"].paginator.count == 3
    assert response.context["page"].paginator.num_pages == 2
    assert codes(response) == ["A001", "A002"]
    assert "超过 3 个客户" in response.text


def test_a_short_first_page_needs_no_count_query(
    organisation, register, client, django_assert_max_num_queries
):
    client.force_login(organisation.finance)
    client.get("/customers/")

    # session, user, page ids (which is the count too), the rows, 2 sums
    with django_assert_max_num_queries(6):
        response = client.get("/customers/", {"q": "上海"}, headers=HTMX)

    assert response.context["page"].paginator.count == 3


def test_the_open_balance_is_open_invoices_less_unallocated_payments(
    organisation, register, client, today
):
    first = ledger.invoice(register["A001"], issued=today - dt.timedelta(days=40), amount="1000")
    second = ledger.invoice(register["A001"], issued=today - dt.timedelta(days=5), amount="500")
    ledger.payment(register["A001"], received=today, amount="1200", invoices=[first, second])
    ledger.payment(register["A002"], received=today, amount="250")  # nothing to pay: credit
    client.force_login(organisation.rep)

    response = client.get("/customers/")

    balances = {row.customer.code: row.open_balance for row in response.context["rows"]}
    assert balances == {
        "A001": Decimal("300.00"),
        "A002": Decimal("-250.00"),
        "A003": Decimal("0.00"),
    }
    assert "300.00" in response.text
    assert "-250.00" in response.text


def test_an_htmx_request_gets_only_the_results(organisation, register, client):
    client.force_login(organisation.rep)

    response = client.get("/customers/", {"q": "杭州", "sort": "-code"}, headers=HTMX)

    assert codes(response) == ["A002"]
    assert response.templates[0].name == "customers/partials/list_results.html"
    assert "<html" not in response.text
    assert 'id="customer-filters"' not in response.text
    # the form's hidden sort field is brought up to date out of band
    assert 'id="sort-input" value="-code" hx-swap-oob="true"' in response.text
    assert "HX-Request" in response["Vary"]


def test_a_full_page_load_has_the_form_and_the_results(organisation, register, client):
    client.force_login(organisation.rep)

    response = client.get("/customers/", {"q": "杭州"})

    assert 'id="customer-filters"' in response.text
    assert 'id="customer-results"' in response.text
    assert 'hx-push-url="true"' in response.text
    assert 'value="杭州"' in response.text


def test_no_match_offers_a_reset(organisation, register, client):
    client.force_login(organisation.rep)

    response = client.get("/customers/", {"q": "没有这个客户"}, headers=HTMX)

    assert codes(response) == []
    assert response.context["has_customers"] is True
    assert 'href="/customers/"' in response.text
    assert "没有符合条件的客户" in response.text


def test_a_rep_without_customers_is_told_so(organisation, client):
    client.force_login(organisation.rep)

    response = client.get("/customers/")

    assert response.context["has_customers"] is False
    assert "您还没有客户" in response.text


def test_the_list_never_shows_another_reps_customer(organisation, register, client):
    client.force_login(organisation.rep)

    for query in (
        {"q": "W001"},
        {"q": "成都"},
        {"region": organisation.west.pk},
        {"tag": "重点客户"},
    ):
        response = client.get("/customers/", query)
        assert "W001" not in codes(response)
        assert "成都上海路商行" not in response.text


def _more_customers(owner, region, number):
    for index in range(number):
        customer = CustomerFactory.create(code=f"Z{index:04d}", owner=owner, region=region)
        customer.tags.add(*Tag.objects.all())


@pytest.mark.parametrize("person", ["rep", "customer_manager", "finance"])
def test_the_number_of_queries_does_not_grow_with_the_rows(
    organisation, register, client, today, person, django_assert_max_num_queries
):
    client.force_login(getattr(organisation, person))
    client.get("/customers/")  # warm the session
    for customer in register.values():
        ledger.invoice(customer, issued=today, amount="10")
    _more_customers(organisation.rep, organisation.east, 60)

    # session, user, (org unit), page ids, capped count, rows, open invoices, payments,
    # then for the form: owners, org units, tags
    with django_assert_max_num_queries(12):
        full = client.get("/customers/")
    with django_assert_max_num_queries(8):
        partial = client.get("/customers/", {"q": "Z"}, headers=HTMX)

    assert len(full.context["rows"]) == 50
    assert len(partial.context["rows"]) == 50
