"""Importing customers: headers in either language, encodings, upserts, refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kehu.customers.models import Customer, Tag
from kehu.customers.tests.factories import CustomerFactory
from kehu.imports.models import ImportRun
from kehu.imports.services import import_file
from kehu.imports.tests.conftest import counts, error_tuples

pytestmark = pytest.mark.django_db

CHINESE = [
    "客户编码",
    "客户名称",
    "客户类型",
    "行业",
    "所有制",
    "规模",
    "地区",
    "省份",
    "城市",
    "地址",
    "纬度",
    "经度",
    "电话",
    "邮箱",
    "来源渠道",
    "业务员",
    "标签",
    "备注",
    "信用额度",
    "账期",
]
ENGLISH = [
    "code",
    "name",
    "kind",
    "industry",
    "ownership",
    "size",
    "region",
    "province",
    "city",
    "address",
    "latitude",
    "longitude",
    "phone",
    "email",
    "source channel",
    "owner",
    "tags",
    "notes",
    "credit limit",
    "payment terms days",
]
ROW_ONE = [
    "C001",
    "上海申华机电有限公司",
    "商业客户",
    "机电",
    "民营",
    "中型",
    "east",
    "上海",
    "上海",
    "浦东新区张江路 1 号",
    "31.2304",
    "121.4737",
    "021-5555-0101",
    "buyer@shenhua.example",
    "展会",
    "rep",
    "重点,华东",
    "老客户介绍",
    "200,000.00",
    "45",
]
ROW_TWO = [
    "C002",
    "王小明",
    "consumer",
    "",
    "",
    "",
    "华西",
    "四川",
    "成都",
    "",
    "",
    "",
    "",
    "",
    "internet",
    "rep2",
    "",
    "",
    "0",
    "",
]


def _assert_first_two(organisation):
    first = Customer.objects.get(code="C001")
    assert (first.name, first.kind, first.industry, first.ownership, first.size) == (
        "上海申华机电有限公司",
        "business",
        "机电",
        "private",
        "medium",
    )
    assert first.region == organisation.east
    assert (first.province, first.city, first.address) == ("上海", "上海", "浦东新区张江路 1 号")
    assert (first.latitude, first.longitude) == (Decimal("31.230400"), Decimal("121.473700"))
    assert (first.phone, first.email, first.source_channel) == (
        "021-5555-0101",
        "buyer@shenhua.example",
        "trade_show",
    )
    assert first.owner == organisation.rep
    assert sorted(first.tags.values_list("name", flat=True)) == ["华东", "重点"]
    assert (first.notes, first.credit_limit, first.payment_terms_days) == (
        "老客户介绍",
        Decimal("200000.00"),
        45,
    )
    assert first.currency == "CNY"
    second = Customer.objects.get(code="C002")
    assert (second.name, second.kind, second.region, second.owner) == (
        "王小明",
        "consumer",
        organisation.west,
        organisation.other_rep,
    )
    assert (second.source_channel, second.payment_terms_days) == ("internet", 30)
    assert second.history.count() == 1


def test_chinese_headers_in_a_utf8_csv_create_customers(organisation, csv_file):
    path = csv_file([CHINESE, ROW_ONE, ROW_TWO])

    result = import_file(kind="customers", path=path, actor=organisation.administrator)

    assert result.status == "done"
    assert result.errors == []
    assert counts(result)["customers"] == {"created": 2, "updated": 0, "unchanged": 0, "refused": 0}
    _assert_first_two(organisation)


def test_english_headers_in_an_xlsx_create_the_same_customers(organisation, xlsx_file):
    path = xlsx_file([ENGLISH, ROW_ONE, ROW_TWO])

    result = import_file(kind="customers", path=path, actor=organisation.administrator)

    assert result.status == "done", result.errors
    assert counts(result)["customers"]["created"] == 2
    _assert_first_two(organisation)


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig", "gbk"])
def test_gb18030_and_bom_csv_files_are_decoded(organisation, csv_file, encoding):
    path = csv_file([CHINESE, ROW_ONE, ROW_TWO], encoding=encoding)

    result = import_file(kind="customers", path=path, actor=organisation.administrator)

    assert result.status == "done", result.errors
    _assert_first_two(organisation)


def test_importing_the_same_file_twice_changes_nothing(organisation, csv_file):
    path = csv_file([CHINESE, ROW_ONE, ROW_TWO])
    import_file(kind="customers", path=path, actor=organisation.administrator)
    before = list(Customer.objects.order_by("code").values())

    again = import_file(kind="customers", path=path, actor=organisation.administrator)

    assert again.status == "done"
    assert counts(again)["customers"] == {"created": 0, "updated": 0, "unchanged": 2, "refused": 0}
    assert list(Customer.objects.order_by("code").values()) == before
    assert Customer.history.count() == 2  # no new history rows


def test_a_changed_row_updates_only_that_customer_and_keeps_history(organisation, csv_file):
    import_file(
        kind="customers",
        path=csv_file([CHINESE, ROW_ONE, ROW_TWO]),
        actor=organisation.administrator,
    )
    changed = [*ROW_ONE]
    changed[CHINESE.index("信用额度")] = "250000"
    changed[CHINESE.index("标签")] = "重点"

    result = import_file(
        kind="customers", path=csv_file([CHINESE, changed, ROW_TWO]), actor=organisation.finance
    )

    assert counts(result)["customers"] == {"created": 0, "updated": 1, "unchanged": 1, "refused": 0}
    first = Customer.objects.get(code="C001")
    assert first.credit_limit == Decimal("250000.00")
    assert list(first.tags.values_list("name", flat=True)) == ["重点"]
    latest = first.history.first()
    assert (latest.credit_limit, latest.history_user) == (
        Decimal("250000.00"),
        organisation.finance,
    )


def test_empty_cells_keep_what_an_existing_customer_has(organisation, csv_file):
    CustomerFactory.create(
        code="C009",
        name="旧名",
        industry="化工",
        owner=organisation.rep,
        credit_limit=Decimal("5000.00"),
    )

    result = import_file(
        kind="customers",
        path=csv_file([["客户编码", "客户名称", "行业", "信用额度"], ["C009", "新名", "", ""]]),
        actor=organisation.administrator,
    )

    assert counts(result)["customers"]["updated"] == 1
    customer = Customer.objects.get(code="C009")
    assert (customer.name, customer.industry, customer.credit_limit) == (
        "新名",
        "化工",
        Decimal("5000.00"),
    )


def test_dry_run_counts_and_writes_nothing(organisation, csv_file):
    result = import_file(
        kind="customers",
        path=csv_file([CHINESE, ROW_ONE, ROW_TWO]),
        dry_run=True,
        actor=organisation.administrator,
    )

    assert result.status == "dry_run"
    assert counts(result)["customers"] == {"created": 2, "updated": 0, "unchanged": 0, "refused": 0}
    assert Customer.objects.count() == 0
    assert Tag.objects.count() == 0
    assert ImportRun.objects.get(pk=result.run_id).status == "dry_run"


def _bad_rows():
    bad = [*ROW_TWO]
    bad[0] = "C003"
    bad[CHINESE.index("客户类型")] = "合作社"
    bad[CHINESE.index("邮箱")] = "not-an-address"
    bad[CHINESE.index("业务员")] = "nobody"
    bad[CHINESE.index("信用额度")] = "-5"
    bad[CHINESE.index("账期")] = "30天"
    return bad


def test_a_file_with_bad_rows_is_refused_with_row_level_errors_and_nothing_changes(
    organisation, csv_file
):
    existing = CustomerFactory.create(code="C001", name="旧名称", owner=organisation.rep)
    customers_before = Customer.objects.count()

    result = import_file(
        kind="customers",
        path=csv_file([CHINESE, ROW_ONE, _bad_rows()]),
        actor=organisation.administrator,
    )

    assert result.status == "refused"
    assert error_tuples(result) == [
        (3, "客户类型", "合作社", "Not one of: business (商业客户), consumer (消费品客户)."),
        (3, "邮箱", "not-an-address", "Not an e-mail address."),
        (3, "业务员", "nobody", "No user with the username 'nobody'."),
        (3, "信用额度", "-5", "Must not be less than 0."),
        (3, "账期", "30天", "Not a whole number."),
    ]
    assert counts(result)["customers"] == {"created": 0, "updated": 0, "unchanged": 0, "refused": 1}
    assert Customer.objects.count() == customers_before
    existing.refresh_from_db()
    assert existing.name == "旧名称"
    assert Tag.objects.count() == 0
    run = ImportRun.objects.get(pk=result.run_id)
    assert (run.status, run.summary["error_count"], len(run.errors)) == ("refused", 5, 5)


def test_skip_bad_rows_writes_the_good_rows(organisation, csv_file):
    result = import_file(
        kind="customers",
        path=csv_file([CHINESE, ROW_ONE, _bad_rows()]),
        skip_bad_rows=True,
        actor=organisation.administrator,
    )

    assert result.status == "done"
    assert counts(result)["customers"] == {"created": 1, "updated": 0, "unchanged": 0, "refused": 1}
    assert list(Customer.objects.values_list("code", flat=True)) == ["C001"]
    assert sorted(result.refused_rows) == [3]
    assert result.refused_rows[3][0] == "C003"


def test_missing_required_columns_are_named_and_the_file_refused(organisation, csv_file):
    result = import_file(
        kind="customers",
        path=csv_file([["编码", "行业"], ["C1", "机电"]]),
        actor=organisation.administrator,
    )

    assert result.status == "refused"
    assert error_tuples(result) == [
        (1, None, None, "Required columns are missing: 客户编码 (code), 客户名称 (name)."),
    ]
    assert Customer.objects.count() == 0


def test_duplicate_codes_in_the_file_refuse_every_copy(organisation, csv_file):
    result = import_file(
        kind="customers",
        path=csv_file([["客户编码", "客户名称"], ["C1", "甲"], ["C2", "乙"], ["C1", "丙"]]),
        skip_bad_rows=True,
        actor=organisation.administrator,
    )

    assert error_tuples(result) == [
        (2, "客户编码", "C1", "Customer code C1 appears on rows 2, 4; keep one."),
        (4, "客户编码", "C1", "Customer code C1 appears on rows 2, 4; keep one."),
    ]
    assert list(Customer.objects.values_list("code", flat=True)) == ["C2"]


def test_a_new_customer_without_owner_belongs_to_the_importing_user(organisation, csv_file):
    path = csv_file([["客户编码", "客户名称"], ["C1", "甲"]])

    import_file(kind="customers", path=path, actor=organisation.finance)

    assert Customer.objects.get(code="C1").owner == organisation.finance


def test_a_new_customer_without_owner_or_actor_is_refused(organisation, csv_file):
    result = import_file(kind="customers", path=csv_file([["客户编码", "客户名称"], ["C1", "甲"]]))

    assert error_tuples(result) == [
        (
            2,
            "业务员",
            None,
            "A new customer needs an owner: fill the owner column or import as a user.",
        ),
    ]
    assert Customer.objects.count() == 0


def test_a_title_row_above_the_header_in_excel_keeps_excel_row_numbers(organisation, xlsx_file):
    path = xlsx_file(
        [
            ["客户清单 2024"],
            [],
            ["客户编码", "客户名称", "客户类型"],
            ["C1", "甲", "商业"],
            ["C2", "乙", "合伙"],
        ],
        first_row=1,
    )

    result = import_file(kind="customers", path=path, actor=organisation.administrator)

    # Sheet rows: title on 2, header on 4, data on 5 and 6.
    assert error_tuples(result) == [
        (6, "客户类型", "合伙", "Not one of: business (商业客户), consumer (消费品客户)."),
    ]


def test_unknown_columns_are_ignored_with_a_warning(organisation, csv_file):
    result = import_file(
        kind="customers",
        path=csv_file([["客户编码", "客户名称", "微信"], ["C1", "甲", "wx1"]]),
        actor=organisation.administrator,
    )

    assert result.status == "done"
    assert result.warnings == ["Column '微信' is not known; it was ignored."]


def test_a_rep_may_not_import(organisation, csv_file):
    from kehu.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        import_file(
            kind="customers",
            path=csv_file([["客户编码", "客户名称"], ["C1", "甲"]]),
            actor=organisation.rep,
        )
    assert Customer.objects.count() == 0
    assert ImportRun.objects.count() == 0
