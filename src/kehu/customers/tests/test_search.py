"""Customer search through the full-text index: normaliser, query terms, every write path."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from kehu.accounts.models import User
from kehu.customers.models import Customer
from kehu.customers.search import (
    FTS_TABLE,
    fts5_match_expression,
    search_query_tokens,
    search_text_of,
    tsquery_expression,
)
from kehu.customers.selectors import customer_list
from kehu.customers.services import customer_create, customer_update
from kehu.customers.tests.factories import CustomerFactory
from kehu.demo.services import demo_build
from kehu.imports.services import import_file
from kehu.imports.tests.conftest import write_csv

# --- the normaliser (no database) ------------------------------------------------------------


def test_cjk_characters_become_one_token_each_and_latin_digit_runs_lowercased_words():
    text = search_text_of(name="苏州恒通机械有限公司", city="苏州市", code="C0000123", phone="")

    assert text == "苏 州 恒 通 机 械 有 限 公 司 苏 州 市 c0000123"


def test_punctuation_separates_and_full_width_letters_and_digits_become_ascii():
    text = search_text_of(name="ＡＢＣ Trading Co., Ltd.", city="", code="KH-001", phone="")

    assert text == "abc trading co ltd kh 001"


def test_a_phone_gives_its_words_its_digits_and_their_tails_of_four_or_more():
    text = search_text_of(name="", city="", code="", phone="0512-6888 1234")

    assert text.split() == [
        "0512",
        "6888",
        "1234",
        "051268881234",
        "51268881234",
        "1268881234",
        "268881234",
        "68881234",
        "8881234",
        "881234",
        "81234",
        "1234",
    ]


def test_a_short_phone_is_one_word_and_an_empty_customer_gives_empty_text():
    assert search_text_of(name="", city="", code="", phone="110") == "110 110"
    assert search_text_of(name="", city="", code="", phone="") == ""


@pytest.mark.parametrize(
    ("term", "tokens"),
    [
        ("恒通", ["恒", "通"]),
        ("  苏州 ", ["苏", "州"]),
        ("Shen-Hua", ["shen", "hua"]),
        ('"恒通" OR x*', ["恒", "通", "or", "x"]),
        ("'\"()*:^-+", []),
        ("", []),
    ],
)
def test_query_tokens(term, tokens):
    assert search_query_tokens(term) == tokens


def test_the_match_expressions_quote_a_phrase_and_make_only_a_last_word_a_prefix():
    assert fts5_match_expression("恒通") == '"恒 通"'
    assert fts5_match_expression("C00001") == '"c00001" *'
    assert fts5_match_expression('a"b NEAR(') == '"a b near" *'
    assert fts5_match_expression("()*") is None
    assert tsquery_expression("恒通") == "'恒' <-> '通'"
    assert tsquery_expression("0512-6888") == "'0512' <-> '6888':*"
    assert tsquery_expression("&|!") is None


# --- searching the list ----------------------------------------------------------------------


def _codes(user, term, **filters):
    return list(customer_list(user=user, search=term, **filters).values_list("code", flat=True))


@pytest.fixture
def customers(organisation):
    """Four customers of the east rep (and one of the west rep) with names, cities, phones."""
    rep, other = organisation.rep, organisation.other_rep
    return {
        "hengtong": customer_create(
            code="C0000123",
            name="苏州恒通机械有限公司",
            city="苏州市",
            phone="0512-6888 1234",
            owner=rep,
        ),
        "heng": customer_create(code="C0000456", name="恒大建材", city="广州市", owner=rep),
        "shenhua": customer_create(
            code="KH-2024-001", name="Shenhua Trading Co.", city="上海市", owner=rep
        ),
        "mobile": customer_create(
            code="C0001000", name="王小明", city="成都市", phone="13912345678", owner=rep
        ),
        "west": customer_create(code="W0000001", name="恒通贸易", city="西安市", owner=other),
    }


@pytest.mark.django_db
def test_a_two_character_chinese_term_matches_consecutive_characters_only(organisation, customers):
    assert _codes(organisation.finance, "恒通") == ["C0000123", "W0000001"]
    # 恒 … 通 apart does not count: 恒大建材 has no 通.
    assert _codes(organisation.finance, "通恒") == []


@pytest.mark.django_db
def test_a_one_character_chinese_term_and_a_city(organisation, customers):
    assert _codes(organisation.finance, "恒") == ["C0000123", "C0000456", "W0000001"]
    assert _codes(organisation.finance, "苏州") == ["C0000123"]
    assert _codes(organisation.finance, "上海") == ["KH-2024-001"]


@pytest.mark.django_db
def test_latin_words_match_whatever_the_case_and_a_last_word_as_a_prefix(organisation, customers):
    assert _codes(organisation.finance, "SHENHUA") == ["KH-2024-001"]
    assert _codes(organisation.finance, "shenhua trad") == ["KH-2024-001"]
    assert _codes(organisation.finance, "trading shenhua") == []


@pytest.mark.django_db
def test_phone_digits_anywhere_in_the_number(organisation, customers):
    assert _codes(organisation.finance, "0512-6888") == ["C0000123"]
    assert _codes(organisation.finance, "051268881234") == ["C0000123"]
    # 13912345678 holds 1234 too.
    assert _codes(organisation.finance, "1234") == ["C0000123", "C0001000"]
    assert _codes(organisation.finance, "5678") == ["C0001000"]
    assert _codes(organisation.finance, "139") == ["C0001000"]
    assert _codes(organisation.finance, "8888") == []


@pytest.mark.django_db
def test_a_code_prefix_in_any_case(organisation, customers):
    assert _codes(organisation.finance, "C00001") == ["C0000123"]
    assert _codes(organisation.finance, "c0000") == ["C0000123", "C0000456"]
    assert _codes(organisation.finance, "kh-2024") == ["KH-2024-001"]


@pytest.mark.django_db
def test_the_other_filters_and_the_sort_still_apply(organisation, customers):
    assert _codes(organisation.finance, "恒", sort="-code") == ["W0000001", "C0000456", "C0000123"]
    assert _codes(organisation.finance, "恒", owner_id=organisation.other_rep.pk) == ["W0000001"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "term",
    ['"', '"恒通', "恒通\"'", "*", "恒*", "NEAR(恒 通)", "OR", "AND 恒", "-恒", "^恒", "a:b", "()"],
)
def test_fts_syntax_characters_and_quotes_do_not_error(organisation, customers, term):
    expected = {
        '"恒通': ["C0000123", "W0000001"],
        "恒通\"'": ["C0000123", "W0000001"],
        "恒*": ["C0000123", "C0000456", "W0000001"],
        "-恒": ["C0000123", "C0000456", "W0000001"],
        "^恒": ["C0000123", "C0000456", "W0000001"],
    }

    assert _codes(organisation.finance, term) == expected.get(term, [])


@pytest.mark.django_db
def test_a_term_of_only_punctuation_finds_nothing(organisation, customers):
    assert _codes(organisation.finance, "'\"!@#$%^&*()") == []


@pytest.mark.django_db
def test_a_rep_never_finds_another_reps_customer(organisation, customers):
    assert _codes(organisation.rep, "恒通") == ["C0000123"]
    assert _codes(organisation.other_rep, "恒通") == ["W0000001"]
    assert _codes(organisation.other_rep, "苏州") == []


@pytest.mark.django_db
def test_a_renamed_customer_is_found_by_the_new_name_and_not_the_old(organisation, customers):
    customer_update(customer=customers["heng"], actor=organisation.administrator, name="华美家居")

    assert _codes(organisation.finance, "华美") == ["C0000456"]
    assert _codes(organisation.finance, "恒大") == []
    assert Customer.objects.get(code="C0000456").search_text == "华 美 家 居 广 州 市 c0000456"


@pytest.mark.django_db
def test_a_change_of_city_or_phone_is_searchable_and_other_changes_keep_the_text(
    organisation, customers
):
    customer_update(
        customer=customers["mobile"], actor=organisation.administrator, city="杭州市", notes="x"
    )
    customer_update(
        customer=customers["mobile"], actor=organisation.administrator, phone="0571-1234 9999"
    )

    assert _codes(organisation.finance, "杭州") == ["C0001000"]
    assert _codes(organisation.finance, "成都") == []
    assert _codes(organisation.finance, "9999") == ["C0001000"]
    assert _codes(organisation.finance, "5678") == []


@pytest.mark.django_db
def test_a_deleted_customer_leaves_the_index(organisation, customers):
    Customer.objects.filter(code="W0000001").delete()

    assert _codes(organisation.finance, "恒通") == ["C0000123"]


@pytest.mark.django_db
def test_factory_customers_are_searchable(organisation):
    CustomerFactory(code="F001", name="东方红", city="北京市", owner=organisation.rep)

    assert _codes(organisation.finance, "北京") == ["F001"]


@pytest.mark.django_db
def test_imported_customers_are_searchable_after_create_and_after_update(organisation, tmp_path):
    header = ["code", "name", "city", "phone", "owner"]
    first = write_csv(
        tmp_path / "first.csv",
        [header, ["I001", "上海申华机电有限公司", "上海", "021-5555-0101", "rep"]],
    )
    second = write_csv(
        tmp_path / "second.csv", [header, ["I001", "杭州申华机电有限公司", "杭州", "", "rep"]]
    )

    assert import_file(kind="customers", path=first, actor=organisation.administrator).errors == []
    assert _codes(organisation.finance, "申华") == ["I001"]
    assert _codes(organisation.finance, "0101") == ["I001"]

    assert import_file(kind="customers", path=second, actor=organisation.administrator).errors == []
    assert _codes(organisation.finance, "杭州申华") == ["I001"]
    assert _codes(organisation.finance, "上海") == []


@pytest.mark.django_db
def test_demo_customers_are_searchable():
    demo_build(seed=3, customers=150, today=dt.date(2026, 5, 15))
    customer = Customer.objects.order_by("pk")[10]
    viewer = next(user for user in User.objects.all() if user.sees_all)
    expected = search_text_of(
        name=customer.name, city=customer.city, code=customer.code, phone=customer.phone
    )

    assert customer.search_text == expected
    assert customer.code in _codes(viewer, customer.name)
    assert _codes(viewer, customer.code) == [customer.code]


@pytest.mark.django_db
def test_the_sqlite_index_and_its_triggers_exist():
    """A later migration that rebuilds customers_customer on SQLite drops its triggers: this
    fails then, and the migration must create them again."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT type, name FROM sqlite_master WHERE tbl_name = %s OR "
            "(type = 'trigger' AND name LIKE %s) ORDER BY type, name",
            [FTS_TABLE, f"{FTS_TABLE}%"],
        )
        found = cursor.fetchall()
    assert found == [
        ("table", FTS_TABLE),
        ("trigger", f"{FTS_TABLE}_delete"),
        ("trigger", f"{FTS_TABLE}_insert"),
        ("trigger", f"{FTS_TABLE}_update"),
    ]
