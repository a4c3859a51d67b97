"""Export of the customer list to Excel: exactly the filtered rows, all of them, in order."""

import datetime as dt
import io
from decimal import Decimal

import polars as pl
import pytest
from django.urls import reverse
from django.utils import timezone

from kehu.customers.models import Tag
from kehu.customers.tests import ledger
from kehu.customers.tests.factories import CustomerFactory


@pytest.fixture
def register(organisation):
    today = timezone.localdate()
    tag = Tag.objects.create(name="重点客户")
    rows = {}
    for index in range(7):  # more than one page when the page size is 3
        rows[f"E{index}"] = CustomerFactory.create(
            code=f"E{index}",
            name=f"华东客户{index}",
            owner=organisation.rep,
            region=organisation.east,
            city="上海",
            purchase_count=index,
            first_purchase_on=today - dt.timedelta(days=30) if index else None,
            last_purchase_on=today - dt.timedelta(days=3) if index else None,
            credit_limit=Decimal(index * 1000),
        )
    rows["W0"] = CustomerFactory.create(
        code="W0",
        name="华西客户",
        owner=organisation.other_rep,
        region=organisation.west,
        city="上海",
    )
    rows["E1"].tags.add(tag)
    return rows


def read(response) -> pl.DataFrame:
    content = b"".join(response.streaming_content)
    return pl.read_excel(io.BytesIO(content), engine="calamine")


def test_the_export_holds_every_filtered_row_not_only_one_page(
    organisation, register, client, settings
):
    settings.KEHU = {**settings.KEHU, "PAGE_SIZE": 3}
    client.force_login(organisation.rep)

    response = client.get(reverse("customers:export"), {"q": "上海", "sort": "-code"})

    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"].startswith('attachment; filename="customers-')
    frame = read(response)
    assert frame["客户编码"].to_list() == ["E6", "E5", "E4", "E3", "E2", "E1", "E0"]
    assert "W0" not in frame["客户编码"].to_list()


def test_the_export_follows_the_filters(organisation, register, client):
    client.force_login(organisation.finance)

    frame = read(client.get(reverse("customers:export"), {"lifecycle": "prospect"}))

    assert frame["客户编码"].to_list() == ["E0", "W0"]


def test_the_export_columns_and_values(organisation, register, client):
    today = timezone.localdate()
    ledger.invoice(register["E1"], issued=today - dt.timedelta(days=3), amount="1234.50")
    client.force_login(organisation.rep)

    frame = read(client.get(reverse("customers:export"), {"tag": "重点客户"}))

    assert frame.columns == [
        "客户编码",
        "名称",
        "类型",
        "生命周期",
        "区域",
        "城市",
        "业务员",
        "最近购买",
        "购买次数",
        "信用额度",
        "应收余额",
    ]
    assert frame.row(0) == (
        "E1",
        "华东客户1",
        "商业客户",
        "新客户",
        "华东",
        "上海",
        "rep",
        today - dt.timedelta(days=3),
        1,
        1000.0,
        1234.5,
    )


def test_the_export_headers_are_english_in_english(organisation, register, client):
    client.force_login(organisation.rep)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})

    frame = read(client.get(reverse("customers:export"), {"q": "E1"}))

    assert frame.columns[:4] == ["Customer code", "Name", "Kind", "Lifecycle"]
    assert frame.row(0)[2:4] == ("Business customer", "New customer")


def test_an_empty_export_has_only_the_headers(organisation, register, client):
    client.force_login(organisation.rep)

    frame = read(client.get(reverse("customers:export"), {"q": "无此客户"}))

    assert frame.height == 0
    assert frame.columns[0] == "客户编码"


def test_a_too_large_export_is_refused(organisation, register, client, settings):
    settings.KEHU = {**settings.KEHU, "EXPORT_MAX_ROWS": 6}
    client.force_login(organisation.rep)

    refused = client.get(reverse("customers:export"))
    allowed = client.get(reverse("customers:export"), {"q": "E1"})

    assert refused.status_code == 422
    assert "最多 6 行" in refused.text
    assert allowed.status_code == 200
