"""Which column headers each kind of import accepts, and which words each choice accepts.

A header is matched after normalisation (`normalise`): case, full-width characters, spaces,
underscores, hyphens, a leading "*" and anything in brackets ("账期(天)") do not matter. Every
column has a Chinese and an English header, and a few common aliases. docs/import-columns.md
is the user-facing copy of these tables; a test keeps the two in step.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from django.db import models
from django.utils import translation

from kehu.customers.models import (
    BirthdayCalendar,
    CompanySize,
    ContactRole,
    CustomerKind,
    Ownership,
    SourceChannel,
)
from kehu.imports.kinds import KINDS
from kehu.receivables.models import PaymentMethodKind
from kehu.sales.models import OrderState, PaymentMethod

__all__ = ["COLUMNS", "KINDS", "Column", "choice_hint", "choice_words", "header_index", "normalise"]

_BRACKETS = re.compile(r"[(（\[【].*?[)）\]】]")
_IGNORED = re.compile(r"[\s_\-.*:：/]+")


def normalise(text: str) -> str:
    """The form headers and choice words are compared in."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _BRACKETS.sub("", text)
    return _IGNORED.sub("", text)


@dataclass(frozen=True)
class Column:
    """One column of an import file.

    `key` is the name the row parsers use; `required` means the column must be in the file
    and every row must fill it; `format` says, for the documentation and error messages, what
    a cell may hold.
    """

    key: str
    chinese: str
    english: str
    required: bool = False
    format: str = "text"
    aliases: tuple[str, ...] = ()

    @property
    def accepted(self) -> tuple[str, ...]:
        return (self.chinese, self.english, *self.aliases)


_CUSTOMER_CODE = Column(
    "customer_code",
    "客户编码",
    "customer code",
    True,
    "an existing customer's code",
    ("客户代码", "客户编号"),
)

COLUMNS: dict[str, tuple[Column, ...]] = {
    "customers": (
        Column(
            "code",
            "客户编码",
            "code",
            True,
            "text, up to 40 characters; the key",
            ("客户代码", "客户编号", "customer code"),
        ),
        Column(
            "name",
            "客户名称",
            "name",
            True,
            "text, up to 200 characters",
            ("客户名", "名称", "customer name"),
        ),
        Column(
            "kind",
            "客户类型",
            "kind",
            False,
            "choice: business 商业客户 / consumer 消费品客户",
            ("类型", "customer kind", "type"),
        ),
        Column("industry", "行业", "industry", False, "text, up to 80 characters", ("所属行业",)),
        Column(
            "ownership",
            "所有制",
            "ownership",
            False,
            "choice: 国有 state-owned, 民营 private, 外资 foreign, 集体 collective, "
            "个体 individual",
            ("企业性质", "所有制形式"),
        ),
        Column(
            "size",
            "规模",
            "size",
            False,
            "choice: 微型 micro, 小型 small, 中型 medium, 大型 large",
            ("企业规模", "company size"),
        ),
        Column(
            "region", "地区", "region", False, "an org unit's code or name", ("区域", "所属地区")
        ),
        Column("territory", "片区", "territory", False, "text, up to 80 characters", ("销售片区",)),
        Column("province", "省份", "province", False, "text, up to 40 characters", ("省",)),
        Column("city", "城市", "city", False, "text, up to 60 characters", ("市",)),
        Column("address", "地址", "address", False, "text, up to 255 characters", ("详细地址",)),
        Column(
            "postal_code",
            "邮编",
            "postal code",
            False,
            "text, up to 12 characters",
            ("邮政编码", "zip"),
        ),
        Column("latitude", "纬度", "latitude", False, "decimal degrees, −90 to 90", ("lat",)),
        Column(
            "longitude", "经度", "longitude", False, "decimal degrees, −180 to 180", ("lng", "lon")
        ),
        Column(
            "phone",
            "电话",
            "phone",
            False,
            "text, up to 40 characters",
            ("联系电话", "手机", "telephone"),
        ),
        Column("email", "邮箱", "email", False, "an e-mail address", ("电子邮件", "电子邮箱")),
        Column(
            "source_channel",
            "来源渠道",
            "source channel",
            False,
            "choice: the source channels (e.g. 展会 trade show, 互联网 internet)",
            ("来源", "渠道", "source"),
        ),
        Column("competitor", "竞争对手", "competitor", False, "text, up to 120 characters"),
        Column(
            "owner",
            "业务员",
            "owner",
            False,
            "an active user's username; for a new customer, the importing user when empty",
            ("负责人", "销售代表", "owner rep"),
        ),
        Column("tags", "标签", "tags", False, "names separated by commas; replaces the tags"),
        Column("notes", "备注", "notes", False, "text", ("说明", "remarks")),
        Column(
            "credit_limit", "信用额度", "credit limit", False, "amount ≥ 0, in yuan", ("授信额度",)
        ),
        Column(
            "payment_terms_days",
            "账期",
            "payment terms days",
            False,
            "whole days, 0–32767",
            ("账期天数", "payment terms"),
        ),
    ),
    "contacts": (
        _CUSTOMER_CODE,
        Column(
            "name",
            "联系人",
            "name",
            True,
            "text, up to 120 characters; with the customer, the key",
            ("姓名", "联系人姓名", "contact name", "contact"),
        ),
        Column(
            "role",
            "角色",
            "role",
            False,
            "choice: 决策者 decision maker, 承办人 handler, 财务 finance, 技术 technical, "
            "其他 other",
            ("联系人角色",),
        ),
        Column("title", "职务", "title", False, "text, up to 80 characters", ("职位", "job title")),
        Column("phone", "电话", "phone", False, "text, up to 40 characters", ("手机", "联系电话")),
        Column("email", "邮箱", "email", False, "an e-mail address", ("电子邮件", "电子邮箱")),
        Column(
            "birthday",
            "生日",
            "birthday",
            False,
            "a date (1980-05-17) or a month and day (05-17, 5月17日)",
            ("出生日期", "birth date"),
        ),
        Column(
            "birthday_calendar",
            "历法",
            "birthday calendar",
            False,
            "choice: 阳历 solar, 农历 lunar",
            ("生日历法", "calendar"),
        ),
        Column(
            "birth_month_is_leap",
            "闰月",
            "leap month",
            False,
            "yes/no (是/否); only for a lunar birthday",
        ),
        Column("preferences", "偏好", "preferences", False, "text", ("爱好", "喜好")),
        Column(
            "is_primary",
            "主要联系人",
            "primary",
            False,
            "yes/no (是/否)",
            ("首要联系人", "primary contact"),
        ),
    ),
    "products": (
        Column(
            "code",
            "产品编码",
            "code",
            True,
            "text, up to 40 characters; the key",
            ("产品代码", "商品编码", "product code", "sku"),
        ),
        Column(
            "name",
            "产品名称",
            "name",
            True,
            "text, up to 200 characters",
            ("商品名称", "名称", "product name"),
        ),
        Column(
            "category_code",
            "类别编码",
            "category code",
            True,
            "text, up to 40 characters; a new code creates the category",
            ("品类编码", "产品线编码", "category"),
        ),
        Column(
            "category_name",
            "类别名称",
            "category name",
            False,
            "text, up to 120 characters; names a new category (default: its code)",
            ("品类名称", "产品线"),
        ),
        Column(
            "unit", "单位", "unit", False, "text, up to 20 characters (default 件)", ("计量单位",)
        ),
        Column(
            "list_price",
            "标价",
            "list price",
            False,
            "amount ≥ 0 (default 0)",
            ("售价", "价格", "price"),
        ),
        Column(
            "standard_cost",
            "标准成本",
            "standard cost",
            False,
            "amount ≥ 0 (default 0)",
            ("成本", "cost"),
        ),
        Column(
            "is_active",
            "启用",
            "active",
            False,
            "yes/no (是/否); default yes",
            ("是否启用", "is active"),
        ),
    ),
    "orders": (
        Column(
            "number",
            "订单号",
            "order number",
            True,
            "text, up to 40 characters; rows with one number are the lines of one order",
            ("订单编号", "单号", "number"),
        ),
        _CUSTOMER_CODE,
        Column(
            "order_date", "订单日期", "order date", True, "a date", ("下单日期", "日期", "date")
        ),
        Column(
            "product_code",
            "产品编码",
            "product code",
            True,
            "an existing product's code",
            ("产品代码", "商品编码"),
        ),
        Column("quantity", "数量", "quantity", True, "a number > 0, up to 3 decimals", ("qty",)),
        Column("unit_price", "单价", "unit price", True, "amount ≥ 0", ("price", "售价")),
        Column(
            "unit_cost",
            "单位成本",
            "unit cost",
            False,
            "amount ≥ 0; default: the product's standard cost",
            ("成本单价", "成本", "cost"),
        ),
        Column(
            "discount_rate",
            "折扣",
            "discount",
            False,
            "the share taken off: 0.1, 10% or 9折 (all mean 10% off); default 0",
            ("折扣率", "discount rate"),
        ),
        Column(
            "state",
            "状态",
            "state",
            False,
            "choice: 草稿 draft, 已确认 confirmed (default), 已发货 delivered, 已开票 invoiced, "
            "已取消 cancelled",
            ("订单状态", "status"),
        ),
        Column(
            "payment_method",
            "付款方式",
            "payment method",
            False,
            "choice: 赊销 on credit (default), 现金 cash",
            ("结算方式",),
        ),
    ),
    "invoices": (
        Column(
            "number",
            "发票号",
            "invoice number",
            True,
            "text, up to 40 characters; the key",
            ("发票号码", "发票编号", "number"),
        ),
        _CUSTOMER_CODE,
        Column(
            "order_number",
            "订单号",
            "order number",
            False,
            "an existing order of the same customer",
            ("订单编号",),
        ),
        Column(
            "issue_date", "开票日期", "issue date", True, "a date", ("发票日期", "日期", "date")
        ),
        Column("amount", "金额", "amount", True, "amount > 0", ("发票金额", "价税合计")),
        Column(
            "payment_terms_days",
            "账期",
            "payment terms days",
            False,
            "whole days; default: the customer's terms",
            ("账期天数", "payment terms"),
        ),
        Column(
            "due_date",
            "到期日",
            "due date",
            False,
            "a date on or after the issue date; default: issue date + terms",
            ("到期日期", "应收日期"),
        ),
    ),
    "payments": (
        Column(
            "number",
            "收款单号",
            "payment number",
            True,
            "text, up to 40 characters; the key",
            ("收款编号", "单号", "number"),
        ),
        _CUSTOMER_CODE,
        Column(
            "received_on",
            "收款日期",
            "date",
            True,
            "a date, not in the future",
            ("到账日期", "received on", "payment date"),
        ),
        Column("amount", "金额", "amount", True, "amount > 0", ("收款金额",)),
        Column(
            "method",
            "收款方式",
            "method",
            False,
            "choice: 银行转账 bank transfer (default), 承兑汇票 acceptance bill, 支票 cheque, "
            "现金 cash, 其他 other",
            ("付款方式", "payment method"),
        ),
        Column(
            "invoice_number",
            "发票号",
            "invoice number",
            False,
            "an invoice of the same customer to pay; default: oldest first",
            ("发票号码", "发票编号"),
        ),
        Column(
            "reference",
            "参考号",
            "reference",
            False,
            "text, up to 80 characters",
            ("流水号", "凭证号", "摘要"),
        ),
    ),
}


def header_index(kind: str) -> dict[str, Column]:
    """Normalised header → column, for one kind."""
    return _header_index(kind)


@cache
def _header_index(kind: str) -> dict[str, Column]:
    index: dict[str, Column] = {}
    for column in COLUMNS[kind]:
        for header in column.accepted:
            key = normalise(header)
            if index.setdefault(key, column) is not column:
                raise AssertionError(f"{kind}: header {header!r} names two columns")
    return index


# Words accepted for each choice beyond its stored value and its English and Chinese labels.
_CHOICE_WORDS: dict[type[models.TextChoices], dict[str, tuple[str, ...]]] = {
    CustomerKind: {
        "business": ("商业客户", "商业", "企业", "企业客户", "公司", "b2b"),
        "consumer": ("消费品客户", "消费品", "消费者", "个人客户", "个人", "b2c"),
    },
    Ownership: {
        "state_owned": ("国有", "国企", "国有企业"),
        "private": ("民营", "私营", "民营企业", "私营企业"),
        "foreign": ("外资", "外企", "外商投资", "foreign"),
        "collective": ("集体", "集体企业"),
        "individual": ("个体", "个体户", "个人"),
    },
    CompanySize: {
        "micro": ("微型", "微"),
        "small": ("小型", "小"),
        "medium": ("中型", "中"),
        "large": ("大型", "大"),
    },
    SourceChannel: {
        "acquaintance": ("熟人", "亲友", "熟人介绍"),
        "customer_referral": ("客户推荐", "客户介绍"),
        "partner_referral": ("合作伙伴推荐", "伙伴推荐", "合作伙伴介绍"),
        "business_contact": ("业务往来", "商务联系"),
        "public_statistics": ("公开统计", "统计资料"),
        "directory": ("名录", "黄页", "名录黄页"),
        "publication": ("报刊", "报纸", "行业刊物", "报纸杂志"),
        "internet": ("互联网", "网络", "网上"),
        "advertising": ("广告",),
        "trade_show": ("展会", "展览会"),
        "association": ("协会", "行业协会"),
        "cold_call": ("陌生拜访", "陌拜", "电话陌拜"),
        "walk_in": ("上门", "来访", "自然到访"),
        "other": ("其他", "其它"),
    },
    ContactRole: {
        "decision_maker": ("决策者", "决策人"),
        "handler": ("承办人", "经办人"),
        "finance": ("财务",),
        "technical": ("技术",),
        "other": ("其他", "其它"),
    },
    BirthdayCalendar: {
        "solar": ("阳历", "公历", "新历", "solar"),
        "lunar": ("农历", "阴历", "旧历", "lunar"),
    },
    OrderState: {
        "draft": ("草稿",),
        "confirmed": ("已确认", "确认"),
        "delivered": ("已发货", "已交付", "已送货", "发货"),
        "invoiced": ("已开票", "开票"),
        "cancelled": ("已取消", "取消", "canceled"),
    },
    PaymentMethod: {
        "credit": ("赊销", "赊账", "挂账", "credit"),
        "cash": ("现金", "现款"),
    },
    PaymentMethodKind: {
        "bank_transfer": ("银行转账", "转账", "电汇", "bank transfer"),
        "acceptance_bill": ("承兑汇票", "汇票", "银行承兑"),
        "cheque": ("支票", "check"),
        "cash": ("现金", "现款"),
        "other": ("其他", "其它"),
    },
}


def choice_words(choices: type[models.TextChoices]) -> dict[str, str]:
    """Normalised word → stored value: the value, both labels and the common Chinese words."""
    return _choice_words(choices)


@cache
def _choice_words(choices: type[models.TextChoices]) -> dict[str, str]:
    words: dict[str, str] = {}
    extra = _CHOICE_WORDS.get(choices, {})
    for value, label in choices.choices:
        candidates = [value, *extra.get(value, ())]
        for language in ("en", "zh-hans"):
            with translation.override(language):
                candidates.append(str(label))
        for word in candidates:
            words.setdefault(normalise(word), value)
    return words


def choice_hint(choices: type[models.TextChoices], *, exclude: frozenset[str] = frozenset()) -> str:
    """The accepted values, for an error message: "business (商业客户), consumer (消费品客户)"."""
    extra = _CHOICE_WORDS.get(choices, {})
    parts = []
    for value in choices.values:
        if value in exclude:
            continue
        chinese = extra.get(value, ())
        parts.append(f"{value} ({chinese[0]})" if chinese else value)
    return ", ".join(parts)
