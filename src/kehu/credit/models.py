"""Credit management (domain §5): the credit survey, scorecard templates and ratings, credit
lines and their applications, collateral and guarantees, order credit checks and holds,
re-survey tasks, and the credit event log.

Rules live in the services; these models hold data, constraints and predicates on their own
fields only.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.core.models import SettingsVersion, TimeStampedModel
from kehu.core.money import ZERO, MoneyField, currency_field


class Grade(models.TextChoices):
    """Credit grades 信用等级, best first."""

    AAA = "AAA", "AAA"
    AA = "AA", "AA"
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"


# Worst to best: the index of a grade is its rank, so a drop is a smaller index.
GRADE_RANK = {grade: rank for rank, grade in enumerate(["C", "B", "A", "AA", "AAA"])}


class CreditSettings(SettingsVersion):
    """One version of the credit settings (credit/settings.py holds the defaults); the newest
    row is in force. Rows are never changed: the table is the history of who changed what."""

    class Meta(SettingsVersion.Meta):
        verbose_name = _("credit settings")
        verbose_name_plural = _("credit settings")

    def __str__(self) -> str:
        return f"credit settings #{self.pk}"


# --- The credit survey 客户信用状况调查表 (§5.1) ----------------------------------------------

_SURVEY_AMOUNTS_NOT_NEGATIVE = (
    "quick_assets",
    "current_assets",
    "current_liabilities",
    "total_assets_start",
    "total_assets_end",
    "total_liabilities",
    "sales_revenue",
)


def _ratio(numerator: Decimal | None, denominator: Decimal | None) -> Decimal | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return Decimal(numerator) / Decimal(denominator)


class CreditSurvey(TimeStampedModel):
    """A customer's financial statement lines and the non-financial facts, on a date.

    Amounts are in yuan; a blank figure is unknown (never zero). `facts` holds the answers to
    the template's survey questions, keyed by indicator code (e.g. {"bank_record": "good"}).
    The three years of capital and profit run oldest first (year_1 is three years ago).
    """

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="credit_surveys",
        verbose_name=_("customer"),
    )
    surveyed_on = models.DateField(_("surveyed on"))
    surveyed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_surveys",
        verbose_name=_("surveyed by"),
    )
    fiscal_year = models.PositiveSmallIntegerField(_("fiscal year"), null=True, blank=True)
    quick_assets = MoneyField(_("quick assets"), null=True, blank=True)
    current_assets = MoneyField(_("current assets"), null=True, blank=True)
    current_liabilities = MoneyField(_("current liabilities"), null=True, blank=True)
    total_assets_start = MoneyField(
        _("total assets at the start of the year"), null=True, blank=True
    )
    total_assets_end = MoneyField(_("total assets at the end of the year"), null=True, blank=True)
    total_liabilities = MoneyField(_("total liabilities"), null=True, blank=True)
    sales_revenue = MoneyField(_("sales revenue"), null=True, blank=True)
    net_profit = MoneyField(_("net profit"), null=True, blank=True)
    equity = MoneyField(_("owners' equity"), null=True, blank=True)
    capital_year_1 = MoneyField(_("capital three years ago"), null=True, blank=True)
    capital_year_2 = MoneyField(_("capital two years ago"), null=True, blank=True)
    capital_year_3 = MoneyField(_("capital last year"), null=True, blank=True)
    profit_year_1 = MoneyField(_("profit three years ago"), null=True, blank=True)
    profit_year_2 = MoneyField(_("profit two years ago"), null=True, blank=True)
    profit_year_3 = MoneyField(_("profit last year"), null=True, blank=True)
    facts = models.JSONField(_("non-financial facts"), default=dict, blank=True)
    bank_opinion = models.TextField(_("the bank's opinion"), blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("credit survey")
        verbose_name_plural = _("credit surveys")
        ordering = ["-surveyed_on", "-id"]
        indexes = [
            models.Index(fields=["customer", "surveyed_on"], name="credit_survey_customer_date"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(**{f"{name}__isnull": True}) | Q(**{f"{name}__gte": 0}),
                name=f"credit_survey_{name}_not_negative",
            )
            for name in _SURVEY_AMOUNTS_NOT_NEGATIVE
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.surveyed_on}"

    # Ratios of §5.1; None when a figure is missing or the denominator is zero.
    @property
    def quick_ratio(self) -> Decimal | None:
        """速动比率 = quick assets / current liabilities (reference about 1)."""
        return _ratio(self.quick_assets, self.current_liabilities)

    @property
    def debt_to_asset_ratio(self) -> Decimal | None:
        """资产负债率 = total liabilities / total assets at the end (reference about 50%)."""
        return _ratio(self.total_liabilities, self.total_assets_end)

    @property
    def average_total_assets(self) -> Decimal | None:
        if self.total_assets_start is None or self.total_assets_end is None:
            return None
        return (self.total_assets_start + self.total_assets_end) / 2

    @property
    def total_asset_turnover(self) -> Decimal | None:
        """总资产周转率 = sales revenue / average total assets (reference about 4–5)."""
        return _ratio(self.sales_revenue, self.average_total_assets)

    @property
    def net_profit_margin(self) -> Decimal | None:
        """销售净利率 = net profit / sales revenue (reference about 15%)."""
        return _ratio(self.net_profit, self.sales_revenue)

    @property
    def capital_growth(self) -> Decimal | None:
        """Growth of capital over three years: last year / three years ago − 1."""
        ratio = _ratio(self.capital_year_3, self.capital_year_1)
        return None if ratio is None else ratio - 1


class AttachmentKind(models.TextChoices):
    STATEMENT = "statement", _("Financial statements")
    BANK_LETTER = "bank_letter", _("Bank's letter")
    OTHER = "other", _("Other")


class CreditSurveyAttachment(models.Model):
    survey = models.ForeignKey(
        CreditSurvey,
        on_delete=models.CASCADE,
        related_name="attachments",
        verbose_name=_("credit survey"),
    )
    kind = models.CharField(
        _("kind"), max_length=20, choices=AttachmentKind.choices, default=AttachmentKind.OTHER
    )
    file = models.FileField(_("file"), upload_to="credit/surveys/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("survey attachment")
        verbose_name_plural = _("survey attachments")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name


# --- The scorecard template 信用等级评估方案 (§5.2) ------------------------------------------


class ScorecardTemplate(models.Model):
    """One version of a rating template. A template that has rated anyone is never changed:
    editing makes a new version, so every past rating keeps the template it was made with.

    `grade_bands` maps each grade but the lowest to its minimum score, e.g.
    {"AAA": "90", "AA": "80", "A": "70", "B": "60"}; below the lowest band is C.
    """

    code = models.SlugField(_("code"), max_length=40)
    version = models.PositiveIntegerField(_("version"))
    name = models.CharField(_("name"), max_length=120)
    total_points = models.DecimalField(_("total points"), max_digits=6, decimal_places=2)
    grade_bands = models.JSONField(_("grade bands"))
    is_active = models.BooleanField(_("in force"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("scorecard template")
        verbose_name_plural = _("scorecard templates")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="scorecard_template_version"),
            models.UniqueConstraint(
                fields=["is_active"],
                condition=Q(is_active=True),
                name="scorecard_template_one_active",
            ),
            models.CheckConstraint(
                condition=Q(total_points__gt=0), name="scorecard_template_points_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class ScorecardGroup(models.Model):
    template = models.ForeignKey(
        ScorecardTemplate,
        on_delete=models.CASCADE,
        related_name="groups",
        verbose_name=_("template"),
    )
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    points = models.DecimalField(_("points"), max_digits=6, decimal_places=2)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("scorecard group")
        verbose_name_plural = _("scorecard groups")
        ordering = ["template", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["template", "code"], name="scorecard_group_code"),
        ]

    def __str__(self) -> str:
        return self.name


class IndicatorSource(models.TextChoices):
    COMPUTED = "computed", _("Computed from Kehu's records")
    SURVEY_FIGURE = "survey_figure", _("Computed from the survey's statements")
    SURVEY_CHOICE = "survey_choice", _("Entered in the survey")


class ScorecardIndicator(models.Model):
    """One indicator of a template and how its value earns points.

    `measure` names what is measured: for a computed indicator a key of the rating engine
    (e.g. "on_time_share"), for a survey figure a ratio of CreditSurvey (e.g. "quick_ratio"),
    for a survey choice the key of the answer in CreditSurvey.facts.

    `mapping` turns the value into points, one of:
      {"kind": "linear", "worst": 0.2, "best": 1.0}   straight line, clamped to 0..points
      {"kind": "bands", "bands": [[lower, points], ...]}   the highest band whose lower
                                                          bound the value reaches
      {"kind": "table", "choices": {"good": 5, "fair": 3, ...}}   for entered choices
    `missing_points` is what a missing input scores: shown as missing, never silently zero.
    """

    group = models.ForeignKey(
        ScorecardGroup,
        on_delete=models.CASCADE,
        related_name="indicators",
        verbose_name=_("group"),
    )
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=160)
    name_en = models.CharField(_("English name"), max_length=160, blank=True)
    points = models.DecimalField(_("points"), max_digits=6, decimal_places=2)
    source = models.CharField(_("source"), max_length=20, choices=IndicatorSource.choices)
    measure = models.CharField(_("measure"), max_length=40)
    is_financial = models.BooleanField(_("financial"), default=False)
    mapping = models.JSONField(_("mapping"))
    missing_points = models.DecimalField(
        _("points when missing"), max_digits=6, decimal_places=2, default=0
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("scorecard indicator")
        verbose_name_plural = _("scorecard indicators")
        ordering = ["group", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["group", "code"], name="scorecard_indicator_code"),
            models.CheckConstraint(
                condition=Q(points__gt=0), name="scorecard_indicator_points_positive"
            ),
            models.CheckConstraint(
                condition=Q(missing_points__gte=0, missing_points__lte=models.F("points")),
                name="scorecard_indicator_missing_within_points",
            ),
        ]

    def __str__(self) -> str:
        return self.name


# --- Ratings -------------------------------------------------------------------------------


class RatingTrigger(models.TextChoices):
    SCHEDULED = "scheduled", _("Quarterly re-rating")
    ON_DEMAND = "on_demand", _("On demand")


class CreditRating(models.Model):
    """A customer's rating on a date, with the template it used; its items keep every input
    value and the points each earned."""

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="credit_ratings",
        verbose_name=_("customer"),
    )
    template = models.ForeignKey(
        ScorecardTemplate,
        on_delete=models.PROTECT,
        related_name="ratings",
        verbose_name=_("template"),
    )
    survey = models.ForeignKey(
        CreditSurvey,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ratings",
        verbose_name=_("credit survey"),
    )
    # The data date: the last day of the quarter the rating is made from.
    rated_on = models.DateField(_("as of"))
    period = models.CharField(_("period"), max_length=10, blank=True)
    trigger = models.CharField(
        _("trigger"), max_length=12, choices=RatingTrigger.choices, default=RatingTrigger.ON_DEMAND
    )
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2)
    grade = models.CharField(_("grade"), max_length=3, choices=Grade.choices)
    previous = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("previous rating"),
    )
    score_change = models.DecimalField(
        _("score change"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    # Grade steps up (+) or down (−) from the previous rating.
    grade_change = models.SmallIntegerField(_("grade change"), null=True, blank=True)
    missing_count = models.PositiveSmallIntegerField(_("missing inputs"), default=0)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("rated by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("credit rating")
        verbose_name_plural = _("credit ratings")
        ordering = ["-rated_on", "-id"]
        indexes = [
            models.Index(fields=["customer", "rated_on"], name="credit_rating_customer_date"),
            models.Index(fields=["period", "grade"], name="credit_rating_period_grade"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.rated_on} {self.grade}"


class CreditRatingItem(models.Model):
    # No index of their own: the unique (rating, indicator) constraint serves lookups by
    # rating, and items are never looked up by indicator alone. Twenty items per rating make
    # this the biggest credit table; each index costs the quarterly run a quarter of its time.
    rating = models.ForeignKey(
        CreditRating,
        on_delete=models.CASCADE,
        related_name="items",
        verbose_name=_("rating"),
        db_index=False,
    )
    indicator = models.ForeignKey(
        ScorecardIndicator,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("indicator"),
        db_index=False,
    )
    value = models.DecimalField(_("value"), max_digits=20, decimal_places=6, null=True, blank=True)
    choice = models.CharField(_("answer"), max_length=40, blank=True)
    is_missing = models.BooleanField(_("missing"), default=False)
    points = models.DecimalField(_("points"), max_digits=6, decimal_places=2)

    class Meta:
        verbose_name = _("rating item")
        verbose_name_plural = _("rating items")
        ordering = ["rating", "indicator__group__position", "indicator__position"]
        constraints = [
            models.UniqueConstraint(fields=["rating", "indicator"], name="credit_rating_item"),
        ]

    def __str__(self) -> str:
        return f"{self.rating_id}/{self.indicator_id}"


# --- Groups of related companies and each customer's credit standing ------------------------


class CreditGroup(TimeStampedModel):
    """Related companies (a group and its subsidiaries) that may share one group line."""

    code = models.CharField(_("group code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("credit group")
        verbose_name_plural = _("credit groups")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class CustomerCredit(models.Model):
    """A customer's current credit standing: its latest grade and rating and its group.
    Written by the rating and group services; read by lists and the order credit check."""

    customer = models.OneToOneField(
        "customers.Customer",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="credit",
        verbose_name=_("customer"),
    )
    grade = models.CharField(_("grade"), max_length=3, choices=Grade.choices, blank=True)
    rating = models.ForeignKey(
        CreditRating,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("latest rating"),
    )
    group = models.ForeignKey(
        CreditGroup,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("credit group"),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("customer credit standing")
        verbose_name_plural = _("customer credit standings")
        indexes = [models.Index(fields=["grade"], name="customer_credit_grade")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.grade}"


# --- Credit lines 授信 and their applications 客户授信申请表 (§5.3) -------------------------


class CreditLineState(models.TextChoices):
    ACTIVE = "active", _("In force")
    SUPERSEDED = "superseded", _("Superseded")
    CANCELLED = "cancelled", _("Cancelled")


class CreditLine(TimeStampedModel):
    """An approved line for one customer or for a group, valid between two dates, with an
    optional temporary increase between its own two dates. At most one line per customer
    (and per group) is in force; a new approval supersedes the old one."""

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_lines",
        verbose_name=_("customer"),
    )
    group = models.ForeignKey(
        CreditGroup,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_lines",
        verbose_name=_("credit group"),
    )
    amount = MoneyField(_("credit line"))
    currency = currency_field()
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"), default=30)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    temporary_amount = MoneyField(_("temporary increase"), null=True, blank=True)
    temporary_from = models.DateField(_("temporary increase from"), null=True, blank=True)
    temporary_until = models.DateField(_("temporary increase until"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=12, choices=CreditLineState.choices, default=CreditLineState.ACTIVE
    )
    application = models.ForeignKey(
        "CreditLineApplication",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("application"),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_lines_approved",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("credit line")
        verbose_name_plural = _("credit lines")
        ordering = ["-valid_from", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(customer__isnull=False) & Q(group__isnull=True))
                | (Q(customer__isnull=True) & Q(group__isnull=False)),
                name="credit_line_customer_or_group",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="credit_line_not_negative"),
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("valid_from")),
                name="credit_line_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(temporary_amount__isnull=True)
                | (
                    Q(temporary_amount__gt=0)
                    & Q(temporary_from__isnull=False)
                    & Q(temporary_until__gte=models.F("temporary_from"))
                ),
                name="credit_line_temporary_increase_dated",
            ),
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(state="active", customer__isnull=False),
                name="credit_line_one_active_per_customer",
            ),
            models.UniqueConstraint(
                fields=["group"],
                condition=Q(state="active", group__isnull=False),
                name="credit_line_one_active_per_group",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id or self.group_id} {self.amount}"

    def is_valid_on(self, day: dt.date) -> bool:
        return self.state == CreditLineState.ACTIVE and self.valid_from <= day <= self.valid_until

    def amount_on(self, day: dt.date) -> Decimal:
        """The line in force on `day`: zero outside its validity, plus the temporary increase
        inside the increase's dates."""
        if not self.is_valid_on(day):
            return ZERO
        amount = self.amount
        if (
            self.temporary_amount
            and self.temporary_from is not None
            and self.temporary_until is not None
            and self.temporary_from <= day <= self.temporary_until
        ):
            amount += self.temporary_amount
        return amount


class ApplicationState(models.TextChoices):
    SUBMITTED = "submitted", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    CUT = "cut", _("Approved with a lower line")
    REFUSED = "refused", _("Refused")
    RETURNED = "returned", _("Sent back")
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_APPLICATION_STATES = (ApplicationState.SUBMITTED, ApplicationState.RETURNED)


class CreditLineApplication(TimeStampedModel):
    """客户授信申请表: a rep's request for a line (or a change of it), sent with the survey to
    the approver whose authority covers the amount (§5.3)."""

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_applications",
        verbose_name=_("customer"),
    )
    group = models.ForeignKey(
        CreditGroup,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applications",
        verbose_name=_("credit group"),
    )
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="credit_applications",
        verbose_name=_("applied by"),
    )
    applied_on = models.DateField(_("applied on"))
    survey = models.ForeignKey(
        CreditSurvey,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applications",
        verbose_name=_("credit survey"),
    )
    rating = models.ForeignKey(
        CreditRating,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applications",
        verbose_name=_("rating"),
    )
    proposed_amount = MoneyField(_("proposed line"), default=0)
    requested_amount = MoneyField(_("requested line"))
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"), default=30)
    valid_until = models.DateField(_("valid until"))
    temporary_amount = MoneyField(_("temporary increase"), null=True, blank=True)
    temporary_from = models.DateField(_("temporary increase from"), null=True, blank=True)
    temporary_until = models.DateField(_("temporary increase until"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    bank_opinion = models.TextField(_("the bank's opinion"), blank=True)
    state = models.CharField(
        _("state"),
        max_length=12,
        choices=ApplicationState.choices,
        default=ApplicationState.SUBMITTED,
    )
    # The role whose authority covers the amount asked for (the lowest such role).
    required_role = models.CharField(_("approver role"), max_length=30, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_applications_decided",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    approved_amount = MoneyField(_("approved line"), null=True, blank=True)
    decision_comment = models.TextField(_("comment"), blank=True)
    line = models.ForeignKey(
        CreditLine,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("credit line"),
    )

    class Meta:
        verbose_name = _("credit line application")
        verbose_name_plural = _("credit line applications")
        ordering = ["-applied_on", "-id"]
        indexes = [
            models.Index(fields=["state", "required_role"], name="credit_application_queue"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(customer__isnull=False) & Q(group__isnull=True))
                | (Q(customer__isnull=True) & Q(group__isnull=False)),
                name="credit_application_customer_or_group",
            ),
            models.CheckConstraint(
                condition=Q(requested_amount__gte=0), name="credit_application_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.customer_id or self.group_id} {self.requested_amount}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_APPLICATION_STATES


# --- Collateral and guarantees 抵押 / 担保 -----------------------------------------------------


class SecurityKind(models.TextChoices):
    COLLATERAL = "collateral", _("Collateral")  # 抵押
    GUARANTEE = "guarantee", _("Guarantee")  # 担保


class CreditSecurity(TimeStampedModel):
    """Collateral or a guarantee recorded for a customer: it secures trade beyond the line."""

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="credit_securities",
        verbose_name=_("customer"),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=SecurityKind.choices)
    description = models.CharField(_("description"), max_length=255)
    amount = MoneyField(_("secured amount"))
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    is_released = models.BooleanField(_("released"), default=False)

    class Meta:
        verbose_name = _("collateral or guarantee")
        verbose_name_plural = _("collateral and guarantees")
        ordering = ["-valid_from", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_security_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"

    def is_valid_on(self, day: dt.date) -> bool:
        return (
            not self.is_released
            and self.valid_from <= day
            and (self.valid_until is None or day <= self.valid_until)
        )


# --- Order credit checks and holds -----------------------------------------------------------


class CreditCheckPoint(models.TextChoices):
    """Which event checks credit (a setting; order confirmation by default)."""

    CONFIRM = "confirm", _("Order confirmation")
    DELIVER = "deliver", _("Delivery")
    INVOICE = "invoice", _("Invoicing")


class CreditCheckResult(models.TextChoices):
    PASSED = "passed", _("Passed")
    HELD = "held", _("Held")


class HoldReason(models.TextChoices):
    NO_LINE = "no_line", _("No approved credit line")
    LINE_EXPIRED = "line_expired", _("The credit line has expired")
    OVER_LINE = "over_line", _("Exposure beyond the credit line")
    GROUP_OVER_LINE = "group_over_line", _("Exposure beyond the group's line")
    OVERDUE = "overdue", _("Overdue beyond the allowed days")
    GRADE_C = "grade_c", _("Grade C trades in cash")


class HoldState(models.TextChoices):
    OPEN = "open", _("Waiting")
    RELEASED = "released", _("Released")
    REJECTED = "rejected", _("Rejected")


class CreditCheck(models.Model):
    """One documented credit decision on an order: what was checked, the figures, the result.
    A held check is a hold in the queue until someone releases or rejects it."""

    order = models.ForeignKey(
        "sales.Order",
        on_delete=models.PROTECT,
        related_name="credit_checks",
        verbose_name=_("order"),
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="credit_checks",
        verbose_name=_("customer"),
    )
    checkpoint = models.CharField(_("checked at"), max_length=10, choices=CreditCheckPoint.choices)
    checked_at = models.DateTimeField(_("checked at"), auto_now_add=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    result = models.CharField(_("result"), max_length=8, choices=CreditCheckResult.choices)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    order_amount = MoneyField(_("order amount"))
    exposure = MoneyField(_("exposure"))
    line_amount = MoneyField(_("credit line"), null=True, blank=True)
    secured_amount = MoneyField(_("secured"), default=0)
    group_exposure = MoneyField(_("group exposure"), null=True, blank=True)
    group_line_amount = MoneyField(_("group line"), null=True, blank=True)
    excess = MoneyField(_("excess"), default=0)
    hold_state = models.CharField(
        _("hold"), max_length=10, choices=HoldState.choices, blank=True, default=""
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("credit check")
        verbose_name_plural = _("credit checks")
        ordering = ["-checked_at", "-id"]
        indexes = [
            models.Index(fields=["hold_state", "checked_at"], name="credit_check_hold_queue"),
            models.Index(fields=["customer", "checked_at"], name="credit_check_customer"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(result="passed", hold_state="") | Q(result="held") & ~Q(hold_state=""),
                name="credit_check_hold_only_when_held",
            ),
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(hold_state="open"),
                name="credit_check_one_open_hold_per_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.checkpoint} {self.result}"


# --- Re-survey tasks ---------------------------------------------------------------------------


class ReviewReason(models.TextChoices):
    GRADE_DROP = "grade_drop", _("The grade dropped")
    OVERDUE = "overdue", _("An item is overdue too long")
    LINE_EXPIRING = "line_expiring", _("The credit line nears expiry")


class TaskState(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class CreditReviewTask(TimeStampedModel):
    """A re-survey that lands on the customer owner's task list (§5.3: when the standing
    changes, the survey and the application are made again)."""

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="credit_review_tasks",
        verbose_name=_("customer"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="credit_review_tasks",
        verbose_name=_("owner rep"),
    )
    reason = models.CharField(_("reason"), max_length=20, choices=ReviewReason.choices)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    due_on = models.DateField(_("due on"))
    state = models.CharField(
        _("state"), max_length=10, choices=TaskState.choices, default=TaskState.OPEN
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("credit review task")
        verbose_name_plural = _("credit review tasks")
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(fields=["owner", "state", "due_on"], name="credit_task_owner_open"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "reason"],
                condition=Q(state="open"),
                name="credit_task_one_open_per_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.reason} {self.state}"


# --- The credit event log ------------------------------------------------------------------------


class CreditEventKind(models.TextChoices):
    SURVEY_RECORDED = "survey_recorded", _("Survey recorded")
    TEMPLATE_CREATED = "template_created", _("Scorecard template created")
    RATED = "rated", _("Rated")
    APPLICATION_SUBMITTED = "application_submitted", _("Line applied for")
    APPLICATION_APPROVED = "application_approved", _("Line approved")
    APPLICATION_CUT = "application_cut", _("Line approved lower")
    APPLICATION_REFUSED = "application_refused", _("Line refused")
    APPLICATION_RETURNED = "application_returned", _("Application sent back")
    APPLICATION_WITHDRAWN = "application_withdrawn", _("Application withdrawn")
    LINE_CHANGED = "line_changed", _("Credit line changed")
    SECURITY_RECORDED = "security_recorded", _("Collateral or guarantee recorded")
    GROUP_CHANGED = "group_changed", _("Credit group changed")
    ORDER_HELD = "order_held", _("Order held for credit")
    HOLD_RELEASED = "hold_released", _("Hold released")
    HOLD_REJECTED = "hold_rejected", _("Held order rejected")
    TASK_OPENED = "task_opened", _("Re-survey task opened")
    TASK_CLOSED = "task_closed", _("Re-survey task closed")
    SETTINGS_CHANGED = "settings_changed", _("Credit settings changed")
    REFUSED = "refused", _("Attempt refused")


class CreditEvent(models.Model):
    """The audit log of credit: one row per state change, written in the transaction of the
    change; a refused attempt is written after its rollback (kind "refused")."""

    kind = models.CharField(_("kind"), max_length=30, choices=CreditEventKind.choices)
    occurred_at = models.DateTimeField(_("when"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_events",
        verbose_name=_("customer"),
    )
    group = models.ForeignKey(
        CreditGroup,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("credit group"),
    )
    application = models.ForeignKey(
        CreditLineApplication,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("application"),
    )
    credit_check = models.ForeignKey(
        CreditCheck,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("credit check"),
    )
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)
    reason = models.JSONField(_("reason"), default=dict, blank=True)

    class Meta:
        verbose_name = _("credit event")
        verbose_name_plural = _("credit events")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "occurred_at"], name="credit_event_customer"),
            models.Index(fields=["kind", "occurred_at"], name="credit_event_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.occurred_at:%Y-%m-%d}"
