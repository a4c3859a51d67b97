"""The customer register: the customer card 客户资料卡 and its contacts (domain §2)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from kehu.core.models import TimeStampedModel
from kehu.core.money import MoneyField, currency_field


class CustomerKind(models.TextChoices):
    BUSINESS = "business", _("Business customer")  # 商业客户
    CONSUMER = "consumer", _("Consumer customer")  # 消费品客户


class Ownership(models.TextChoices):
    STATE_OWNED = "state_owned", _("State-owned")  # 国有
    PRIVATE = "private", _("Private")  # 民营
    FOREIGN = "foreign", _("Foreign-invested")  # 外资
    COLLECTIVE = "collective", _("Collective")  # 集体
    INDIVIDUAL = "individual", _("Individual")  # 个体


class CompanySize(models.TextChoices):
    MICRO = "micro", _("Micro")
    SMALL = "small", _("Small")
    MEDIUM = "medium", _("Medium")
    LARGE = "large", _("Large")


class SourceChannel(models.TextChoices):
    """Ways of finding leads (domain §3)."""

    ACQUAINTANCE = "acquaintance", _("People you know")
    CUSTOMER_REFERRAL = "customer_referral", _("Referral by a customer")
    PARTNER_REFERRAL = "partner_referral", _("Referral by a partner")
    BUSINESS_CONTACT = "business_contact", _("Business contacts")
    PUBLIC_STATISTICS = "public_statistics", _("Public statistics")
    DIRECTORY = "directory", _("Directories and yellow pages")
    PUBLICATION = "publication", _("Newspapers and trade publications")
    INTERNET = "internet", _("Internet (search, industry sites, B2B)")
    ADVERTISING = "advertising", _("Advertising")
    TRADE_SHOW = "trade_show", _("Trade shows")
    ASSOCIATION = "association", _("Associations")
    COLD_CALL = "cold_call", _("Cold calls")
    WALK_IN = "walk_in", _("Walk-ins")
    OTHER = "other", _("Other")


class Lifecycle(models.TextChoices):
    """Derived from transactions (domain §2), never typed."""

    PROSPECT = "prospect", _("Prospect")  # 潜在客户
    NEW = "new", _("New customer")  # 新客户
    OLD = "old", _("Old customer")  # 老客户
    INACTIVE = "inactive", _("Inactive")  # 不活跃
    LOST = "lost", _("Lost")  # 流失


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=60, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Customer(TimeStampedModel):
    """A customer card. `code` is the company's own customer code: the key imports upsert by."""

    code = models.CharField(_("customer code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200, db_index=True)
    kind = models.CharField(
        _("kind"), max_length=10, choices=CustomerKind.choices, default=CustomerKind.BUSINESS
    )
    industry = models.CharField(_("industry"), max_length=80, blank=True)
    ownership = models.CharField(
        _("ownership"), max_length=15, choices=Ownership.choices, blank=True
    )
    size = models.CharField(_("size"), max_length=10, choices=CompanySize.choices, blank=True)
    region = models.ForeignKey(
        "accounts.OrgUnit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="customers",
        verbose_name=_("region"),
    )
    territory = models.CharField(_("territory"), max_length=80, blank=True)
    province = models.CharField(_("province"), max_length=40, blank=True)
    city = models.CharField(_("city"), max_length=60, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=12, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    source_channel = models.CharField(
        _("source channel"), max_length=20, choices=SourceChannel.choices, blank=True
    )
    competitor = models.CharField(
        _("competitor"),
        max_length=120,
        blank=True,
        help_text=_("For a competitor's customer: whose customer it is now."),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="customers",
        verbose_name=_("owner rep"),
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers", verbose_name=_("tags"))
    notes = models.TextField(_("notes"), blank=True)
    # Credit-relevant fields: kept with history (who, when, before, after).
    credit_limit = MoneyField(_("credit limit"), default=0)
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"), default=30)
    currency = currency_field()
    # Purchase statistics, maintained by the sales services and imports from the orders;
    # the lifecycle is derived from them.
    first_purchase_on = models.DateField(_("first purchase"), null=True, blank=True)
    last_purchase_on = models.DateField(_("last purchase"), null=True, blank=True, db_index=True)
    purchase_count = models.PositiveIntegerField(_("purchases"), default=0)
    # Name, city, code and phone normalised for the full-text index (customers/search.py);
    # written by every write path through search_text_of(), never typed.
    search_text = models.TextField(_("search text"), blank=True, default="", editable=False)

    history = HistoricalRecords(excluded_fields=["created_at", "updated_at", "search_text"])

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["owner", "code"], name="customer_owner_code"),
            models.Index(fields=["kind", "code"], name="customer_kind_code"),
            models.Index(fields=["region", "code"], name="customer_region_code"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(credit_limit__gte=0), name="customer_credit_limit_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(first_purchase_on__isnull=True)
                | models.Q(last_purchase_on__gte=models.F("first_purchase_on")),
                name="customer_purchase_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def lifecycle_on(self, today: dt.date) -> str:
        from kehu.customers.lifecycle import lifecycle_of

        return lifecycle_of(
            purchase_count=self.purchase_count, last_purchase_on=self.last_purchase_on, today=today
        )


class ContactRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", _("Decision maker")  # 决策者
    HANDLER = "handler", _("Handler")  # 承办人
    FINANCE = "finance", _("Finance")
    TECHNICAL = "technical", _("Technical")
    OTHER = "other", _("Other")


class BirthdayCalendar(models.TextChoices):
    SOLAR = "solar", _("Solar (Gregorian)")  # 阳历
    LUNAR = "lunar", _("Lunar")  # 农历


class Contact(TimeStampedModel):
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("customer")
    )
    name = models.CharField(_("name"), max_length=120)
    role = models.CharField(
        _("role"), max_length=20, choices=ContactRole.choices, default=ContactRole.OTHER
    )
    title = models.CharField(_("job title"), max_length=80, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    # A birthday is a month and day in one calendar; a lunar one may fall in a leap month.
    birthday_calendar = models.CharField(
        _("birthday calendar"),
        max_length=5,
        choices=BirthdayCalendar.choices,
        default=BirthdayCalendar.SOLAR,
    )
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    birth_month = models.PositiveSmallIntegerField(_("birth month"), null=True, blank=True)
    birth_day = models.PositiveSmallIntegerField(_("birth day"), null=True, blank=True)
    birth_month_is_leap = models.BooleanField(_("leap month (lunar)"), default=False)
    preferences = models.TextField(_("preferences"), blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)

    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["customer", "-is_primary", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(birth_month__isnull=True)
                | models.Q(birth_month__gte=1, birth_month__lte=12),
                name="contact_birth_month_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(birth_day__isnull=True)
                | models.Q(birth_day__gte=1, birth_day__lte=31),
                name="contact_birth_day_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(birth_month_is_leap=False) | models.Q(birthday_calendar="lunar"),
                name="contact_leap_month_only_lunar",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def next_birthday(self, after: dt.date) -> dt.date | None:
        from kehu.customers.lifecycle import next_birthday

        if self.birth_month is None or self.birth_day is None:
            return None
        return next_birthday(
            calendar=self.birthday_calendar,
            month=self.birth_month,
            day=self.birth_day,
            is_leap_month=self.birth_month_is_leap,
            after=after,
        )
