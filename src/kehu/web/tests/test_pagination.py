"""CappedPaginator: exact pages and counts, and the number of queries each case takes."""

import pytest

from kehu.customers.models import Customer
from kehu.customers.tests.factories import CustomerFactory
from kehu.web import pagination
from kehu.web.pagination import CappedPaginator


@pytest.fixture
def twelve(organisation):
    for number in range(12):
        CustomerFactory.create(code=f"K{number:02d}", owner=organisation.rep)


def ids_by_code(descending=False):
    order = ("-code", "-pk") if descending else ("code", "pk")
    return Customer.objects.order_by(*order).values_list("pk", flat=True)


def codes(page):
    return list(
        Customer.objects.filter(pk__in=page.object_list)
        .order_by("code")
        .values_list("code", flat=True)
    )


def test_few_matches_give_page_and_count_in_one_query(twelve, django_assert_num_queries):
    paginator = CappedPaginator(ids_by_code(descending=True), 5, cap=100)

    with django_assert_num_queries(1):
        page = paginator.get_page("2")
        assert paginator.count == 12
        assert paginator.num_pages == 3

    assert codes(page) == ["K02", "K03", "K04", "K05", "K06"]  # K11…K07, then K06…K02
    assert paginator.is_capped is False


@pytest.mark.parametrize(("asked", "expected"), [("9", 3), ("x", 1), ("0", 1), (None, 1)])
def test_a_page_out_of_range_falls_back_like_django(twelve, asked, expected):
    paginator = CappedPaginator(ids_by_code(), 5, cap=100)

    assert paginator.get_page(asked).number == expected


def test_many_matches_read_the_page_then_a_capped_count(
    twelve, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(pagination, "FEW_MATCHES", 4)
    paginator = CappedPaginator(ids_by_code(), 5, cap=100)

    with django_assert_num_queries(2):  # the probe, the count; the page is read when used
        page = paginator.get_page("3")

    assert codes(page) == ["K10", "K11"]
    assert paginator.count == 12
    assert paginator.is_capped is False


def test_the_count_stops_at_the_cap(twelve):
    paginator = CappedPaginator(ids_by_code(), 5, cap=8)

    page = paginator.get_page("9")

    assert paginator.count == 8
    assert paginator.is_capped is True
    assert paginator.num_pages == 2
    assert codes(page) == ["K05", "K06", "K07"]  # the last page ends at the cap


def test_nothing_matching_is_one_empty_page(db, django_assert_num_queries):
    paginator = CappedPaginator(ids_by_code(), 5, cap=100)

    with django_assert_num_queries(1):
        page = paginator.get_page("1")
        assert paginator.count == 0

    assert list(page.object_list) == []
