"""API schemas for customers, their contacts and their history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.utils import timezone
from ninja import Field, Schema

from kehu.accounts.schemas import UserRefOut
from kehu.core.schemas import (
    DecimalOut,
    Id,
    InputSchema,
    MoneyIn,
    MoneyOut,
    PageQuery,
    Text,
)
from kehu.customers.models import (
    BirthdayCalendar,
    CompanySize,
    ContactRole,
    CustomerKind,
    Lifecycle,
    Ownership,
    SourceChannel,
)
from kehu.customers.selectors import SORTABLE_FIELDS

# ---------------------------------------------------------------------------------------------
# Customers

# The default of a PATCH field that was not sent: only the fields a body carries are changed
# (model_dump(exclude_unset=True)), and fields that cannot be empty refuse an explicit null.
OMITTED: Any = None

Blank = Literal[""]
SORT_KEYS = (*SORTABLE_FIELDS, *(f"-{key}" for key in SORTABLE_FIELDS))
SortKey = Literal[SORT_KEYS]  # type: ignore[valid-type]
Latitude = Annotated[Decimal, Field(ge=-90, le=90, max_digits=9, decimal_places=6)]
Longitude = Annotated[Decimal, Field(ge=-180, le=180, max_digits=9, decimal_places=6)]
# payment_terms_days is a PositiveSmallIntegerField: at most 32767 on every database.
PaymentTermsDays = Annotated[int, Field(ge=0, le=32767)]
Reason = Annotated[Text, Field(max_length=100, description="why (kept in the history)")]


class CustomerListQuery(PageQuery):
    search: Text = Field("", max_length=100, description="code prefix, name, phone or city")
    kind: CustomerKind | None = None
    lifecycle: Lifecycle | None = None
    region: Id | None = Field(None, description="org unit id of the region")
    owner: Id | None = Field(None, description="user id of the owner rep")
    tag: Text = Field("", max_length=60, description="tag name")
    sort: SortKey = Field("code", description="a column; prefix '-' for descending")


class RegionRefOut(Schema):
    id: int
    code: str
    name: str


class CustomerListItemOut(Schema):
    id: int
    code: str
    name: str
    kind: CustomerKind
    lifecycle: Lifecycle
    region: RegionRefOut | None
    owner: UserRefOut
    city: str
    phone: str
    tags: list[str]
    credit_limit: MoneyOut
    payment_terms_days: int
    currency: str
    first_purchase_on: dt.date | None
    last_purchase_on: dt.date | None
    purchase_count: int

    @staticmethod
    def resolve_lifecycle(customer: object) -> str:
        return customer.lifecycle_on(timezone.localdate())  # type: ignore[attr-defined]

    @staticmethod
    def resolve_tags(customer: object) -> list[str]:
        return [tag.name for tag in customer.tags.all()]  # type: ignore[attr-defined]


class CustomerPageOut(Schema):
    count: int = Field(description="rows matching the filters, on all pages")
    limit: int
    offset: int
    items: list[CustomerListItemOut]


class CustomerOut(CustomerListItemOut):
    industry: str
    ownership: Ownership | Blank
    size: CompanySize | Blank
    territory: str
    province: str
    address: str
    postal_code: str
    latitude: DecimalOut | None
    longitude: DecimalOut | None
    email: str
    source_channel: SourceChannel | Blank
    competitor: str
    notes: str
    created_at: dt.datetime
    updated_at: dt.datetime


class _CustomerFieldsIn(InputSchema):
    """Fields a card may be created with; every one optional on create except code and name."""

    kind: CustomerKind = CustomerKind.BUSINESS
    industry: Text = Field("", max_length=80)
    ownership: Ownership | Blank = ""
    size: CompanySize | Blank = ""
    region_id: Id | None = Field(None, description="org unit id of the region")
    territory: Text = Field("", max_length=80)
    province: Text = Field("", max_length=40)
    city: Text = Field("", max_length=60)
    address: Text = Field("", max_length=255)
    postal_code: Text = Field("", max_length=12)
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    phone: Text = Field("", max_length=40)
    email: Text = Field("", max_length=254)
    source_channel: SourceChannel | Blank = ""
    competitor: Text = Field("", max_length=120)
    notes: Text = Field("", max_length=10_000)
    credit_limit: MoneyIn = Decimal("0.00")
    payment_terms_days: PaymentTermsDays = 30


class CustomerCreateIn(_CustomerFieldsIn):
    code: Text = Field(min_length=1, max_length=40, description="the company's customer code")
    name: Text = Field(min_length=1, max_length=200)
    owner_id: Id | None = Field(None, description="the owner rep; yourself when left out")


class CustomerPatchIn(InputSchema):
    """Only the fields sent are changed. Fields that cannot be empty cannot be sent as null."""

    name: Text = Field(OMITTED, min_length=1, max_length=200)
    kind: CustomerKind = Field(OMITTED)
    industry: Text = Field(OMITTED, max_length=80)
    ownership: Ownership | Blank = Field(OMITTED)
    size: CompanySize | Blank = Field(OMITTED)
    region_id: Id | None = Field(OMITTED, description="org unit id of the region; null for none")
    territory: Text = Field(OMITTED, max_length=80)
    province: Text = Field(OMITTED, max_length=40)
    city: Text = Field(OMITTED, max_length=60)
    address: Text = Field(OMITTED, max_length=255)
    postal_code: Text = Field(OMITTED, max_length=12)
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    phone: Text = Field(OMITTED, max_length=40)
    email: Text = Field(OMITTED, max_length=254)
    source_channel: SourceChannel | Blank = Field(OMITTED)
    competitor: Text = Field(OMITTED, max_length=120)
    notes: Text = Field(OMITTED, max_length=10_000)
    owner_id: Id = Field(OMITTED, description="hand the customer to another owner rep")
    credit_limit: MoneyIn = Field(OMITTED)
    payment_terms_days: PaymentTermsDays = Field(OMITTED)
    reason: Reason = Field("", description="why the change is made (kept in the history)")


class CustomerHistoryQuery(PageQuery):
    pass


HISTORY_KINDS = {"+": "created", "~": "changed", "-": "deleted"}


def _shown(value: object) -> str | None:
    return None if value is None else str(value)


class FieldChangeOut(Schema):
    """One changed field; values as shown to people (names for owners and regions)."""

    field: str
    label: str = Field(description="the field's name in the user's language")
    before: str | None
    after: str | None

    @staticmethod
    def resolve_before(change: object) -> str | None:
        return _shown(change.old)  # type: ignore[attr-defined]

    @staticmethod
    def resolve_after(change: object) -> str | None:
        return _shown(change.new)  # type: ignore[attr-defined]


class CustomerHistoryEntryOut(Schema):
    changed_at: dt.datetime
    changed_by: UserRefOut | None
    kind: Literal["created", "changed", "deleted"]
    reason: str
    changes: list[FieldChangeOut]

    @staticmethod
    def resolve_changed_at(entry: object) -> dt.datetime:
        return entry.when  # type: ignore[attr-defined]

    @staticmethod
    def resolve_changed_by(entry: object) -> object:
        return entry.user  # type: ignore[attr-defined]

    @staticmethod
    def resolve_kind(entry: object) -> str:
        return HISTORY_KINDS[entry.kind]  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------
# Contacts

BirthYear = Annotated[
    int, Field(ge=1900, le=2099, description="the lunar calendar covers 1900–2099")
]
BirthMonth = Annotated[int, Field(ge=1, le=12)]
BirthDay = Annotated[int, Field(ge=1, le=31)]


class ContactOut(Schema):
    id: int
    customer_id: int
    name: str
    role: ContactRole
    title: str
    phone: str
    email: str
    birthday_calendar: BirthdayCalendar
    birth_year: int | None
    birth_month: int | None
    birth_day: int | None
    birth_month_is_leap: bool
    next_birthday: dt.date | None
    preferences: str
    is_primary: bool
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_next_birthday(contact: object) -> dt.date | None:
        return contact.next_birthday(after=timezone.localdate())  # type: ignore[attr-defined]


class ContactCreateIn(InputSchema):
    name: Text = Field(min_length=1, max_length=120)
    role: ContactRole = ContactRole.OTHER
    title: Text = Field("", max_length=80)
    phone: Text = Field("", max_length=40)
    email: Text = Field("", max_length=254)
    birthday_calendar: BirthdayCalendar = BirthdayCalendar.SOLAR
    birth_year: BirthYear | None = None
    birth_month: BirthMonth | None = None
    birth_day: BirthDay | None = None
    birth_month_is_leap: bool = False
    preferences: Text = Field("", max_length=10_000)
    is_primary: bool = False


class ContactPatchIn(InputSchema):
    """Only the fields sent are changed."""

    name: Text = Field(OMITTED, min_length=1, max_length=120)
    role: ContactRole = Field(OMITTED)
    title: Text = Field(OMITTED, max_length=80)
    phone: Text = Field(OMITTED, max_length=40)
    email: Text = Field(OMITTED, max_length=254)
    birthday_calendar: BirthdayCalendar = Field(OMITTED)
    birth_year: BirthYear | None = None
    birth_month: BirthMonth | None = None
    birth_day: BirthDay | None = None
    birth_month_is_leap: bool = Field(OMITTED)
    preferences: Text = Field(OMITTED, max_length=10_000)
    is_primary: bool = Field(OMITTED)
    reason: Reason = Field("", description="why the change is made (kept in the history)")
