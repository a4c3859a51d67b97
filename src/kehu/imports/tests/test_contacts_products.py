"""Importing contacts (keyed by customer code + name) and products (categories by code)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kehu.catalog.models import Product, ProductCategory
from kehu.catalog.tests.factories import ProductCategoryFactory, ProductFactory
from kehu.customers.models import Contact
from kehu.customers.tests.factories import ContactFactory, CustomerFactory
from kehu.imports.services import import_file
from kehu.imports.tests.conftest import counts, error_tuples

pytestmark = pytest.mark.django_db

CONTACTS = [
    "客户编码",
    "联系人",
    "角色",
    "职务",
    "电话",
    "邮箱",
    "生日",
    "历法",
    "闰月",
    "偏好",
    "主要联系人",
]


@pytest.fixture
def customers(organisation):
    return (
        CustomerFactory(code="E1", owner=organisation.rep),
        CustomerFactory(code="E2", owner=organisation.rep),
    )


def test_contacts_are_created_then_updated_by_customer_code_and_name(
    organisation, customers, csv_file
):
    ContactFactory(customer=customers[0], name="李四", role="other", phone="")
    rows = [
        CONTACTS,
        [
            "E1",
            "张三",
            "决策者",
            "总经理",
            "13800000001",
            "zs@example.com",
            "1975-08-19",
            "阳历",
            "否",
            "喜欢茶",
            "是",
        ],
        ["E1", "李四", "承办人", "", "13800000002", "", "3月15日", "农历", "是", "", ""],
        ["E2", "张三", "finance", "", "", "", "", "", "", "", ""],
    ]

    result = import_file(kind="contacts", path=csv_file(rows), actor=organisation.finance)

    assert counts(result)["contacts"] == {"created": 2, "updated": 1, "unchanged": 0, "refused": 0}
    boss = Contact.objects.get(customer=customers[0], name="张三")
    assert (
        boss.role,
        boss.title,
        boss.phone,
        boss.email,
        boss.birth_year,
        boss.birth_month,
        boss.birth_day,
        boss.birthday_calendar,
        boss.preferences,
        boss.is_primary,
    ) == (
        "decision_maker",
        "总经理",
        "13800000001",
        "zs@example.com",
        1975,
        8,
        19,
        "solar",
        "喜欢茶",
        True,
    )
    handler = Contact.objects.get(customer=customers[0], name="李四")
    assert (
        handler.role,
        handler.phone,
        handler.birth_year,
        handler.birth_month,
        handler.birth_day,
        handler.birthday_calendar,
        handler.birth_month_is_leap,
    ) == ("handler", "13800000002", None, 3, 15, "lunar", True)
    assert Contact.objects.get(customer=customers[1]).role == "finance"

    again = import_file(kind="contacts", path=csv_file(rows), actor=organisation.finance)

    assert counts(again)["contacts"] == {"created": 0, "updated": 0, "unchanged": 3, "refused": 0}


def test_bad_contact_rows_are_refused_with_reasons(organisation, customers, csv_file):
    rows = [
        CONTACTS,
        ["E9", "王五", "", "", "", "", "", "", "", "", ""],
        ["E1", "赵六", "boss", "", "", "x@", "13月1日", "", "是", "", "maybe"],
        ["E1", "", "", "", "", "", "", "", "", "", ""],
    ]

    result = import_file(kind="contacts", path=csv_file(rows), actor=organisation.finance)

    assert result.status == "refused"
    assert error_tuples(result) == [
        (2, "客户编码", "E9", "No customer with the code 'E9'."),
        (
            3,
            "角色",
            "boss",
            "Not one of: decision_maker (决策者), handler (承办人), "
            "finance (财务), technical (技术), other (其他).",
        ),
        (3, "邮箱", "x@", "Not an e-mail address."),
        (3, "生日", "13月1日", "Not a month and day."),
        (3, "主要联系人", "maybe", "Not yes or no (是/否)."),
        (4, "联系人", None, "Required; the cell is empty."),
    ]
    assert Contact.objects.count() == 0


def test_a_leap_month_needs_a_lunar_birthday(organisation, customers, csv_file):
    result = import_file(
        kind="contacts",
        path=csv_file([[*CONTACTS[:2], "闰月"], ["E1", "孙七", "是"]]),
        actor=organisation.finance,
    )

    assert error_tuples(result) == [
        (2, "闰月", "是", "Only a lunar birthday can fall in a leap month."),
    ]


PRODUCTS = ["产品编码", "产品名称", "类别编码", "类别名称", "单位", "标价", "标准成本", "启用"]


def test_products_create_their_categories_and_upsert_by_code(organisation, csv_file):
    ProductCategoryFactory(code="tools", name="工具")
    ProductFactory(
        code="P1",
        name="旧扳手",
        category=ProductCategory.objects.get(code="tools"),
        list_price=Decimal("10.00"),
        standard_cost=Decimal("6.00"),
    )
    rows = [
        PRODUCTS,
        ["P1", "扳手", "tools", "", "把", "12.50", "6.00", "是"],
        ["P2", "螺丝", "parts", "零件", "", "0.30", "0.12", ""],
        ["P3", "螺母", "parts", "", "", "", "", "否"],
    ]

    result = import_file(kind="products", path=csv_file(rows), actor=organisation.administrator)

    assert result.status == "done", result.errors
    assert counts(result) == {
        "products": {"created": 2, "updated": 1, "unchanged": 0, "refused": 0},
        "product_categories": {"created": 1, "updated": 0, "unchanged": 1, "refused": 0},
    }
    wrench = Product.objects.get(code="P1")
    assert (wrench.name, wrench.unit, wrench.list_price, wrench.standard_cost) == (
        "扳手",
        "把",
        Decimal("12.50"),
        Decimal("6.00"),
    )
    screw = Product.objects.get(code="P2")
    assert (
        screw.category.code,
        screw.category.name,
        screw.unit,
        screw.list_price,
        screw.is_active,
    ) == ("parts", "零件", "件", Decimal("0.30"), True)
    nut = Product.objects.get(code="P3")
    assert (nut.category.code, nut.list_price, nut.standard_cost, nut.is_active) == (
        "parts",
        Decimal("0.00"),
        Decimal("0.00"),
        False,
    )

    again = import_file(kind="products", path=csv_file(rows), actor=organisation.administrator)

    assert counts(again)["products"] == {"created": 0, "updated": 0, "unchanged": 3, "refused": 0}
    assert ProductCategory.objects.count() == 2


def test_a_category_named_twice_differently_is_refused(organisation, csv_file):
    rows = [
        PRODUCTS,
        ["P1", "甲", "parts", "零件", "", "1", "1", ""],
        ["P2", "乙", "parts", "配件", "", "1", "1", ""],
    ]

    result = import_file(kind="products", path=csv_file(rows), actor=organisation.administrator)

    assert error_tuples(result) == [
        (3, "类别名称", "配件", "Category parts is named 零件 on an earlier row."),
    ]
    assert (Product.objects.count(), ProductCategory.objects.count()) == (0, 0)
