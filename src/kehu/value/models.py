"""Value snapshots (domain §4): what the analytics engine computed per period, per customer.

Snapshots are written by `services.value_snapshot_compute` and never change the ledger; the
ledger is never written from here. Every figure is reproducible from `ValueSnapshot.parameters`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.models import SettingsVersion
from kehu.core.money import MoneyField

SCORE = {"max_digits": 9, "decimal_places": 4}


class Measure(models.TextChoices):
    GROSS_PROFIT = "gross_profit", _("Gross profit")
    REVENUE = "revenue", _("Revenue")


class Engine(models.TextChoices):
    DUCKDB = "duckdb", _("DuckDB (in process)")
    POSTGRES = "postgres", _("PostgreSQL (in the database)")
    SPARK = "spark", _("Apache Spark")


class SnapshotStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    EMPTY = "empty", _("Done, no transactions in the window")
    FAILED = "failed", _("Failed")
    # A newer snapshot of the same period, engine and measure finished: the rows are deleted and
    # this one stays as run history (services_refresh.value_snapshots_supersede).
    SUPERSEDED = "superseded", _("Superseded by a newer run")


class PyramidClass(models.TextChoices):
    VIP = "vip", _("VIP")
    MAJOR = "major", _("Major customer")  # 主要客户
    ORDINARY = "ordinary", _("Ordinary customer")  # 普通客户
    SMALL = "small", _("Small customer")  # 小客户
    INACTIVE = "inactive", _("Inactive")
    PROSPECT = "prospect", _("Prospect")


class MoneyClass(models.TextChoices):
    WITH_MONEY = "with_money", _("Customer with money")  # 有钱客户
    SHORT_OF_MONEY = "short_of_money", _("Customer short of money")  # 缺钱客户
    NOT_ACTIVE = "not_active", _("Not active")


class Quadrant(models.TextChoices):
    CORE = "core", _("Core")  # 核心
    RISK = "risk", _("Risk")  # 风险
    GROWTH = "growth", _("Growth")  # 培育
    MARGINAL = "marginal", _("Marginal")
    NOT_ACTIVE = "not_active", _("Not active")


class RfmSegment(models.TextChoices):
    CHAMPIONS = "champions", _("Champions")
    LOYAL = "loyal", _("Loyal")
    POTENTIAL_LOYALIST = "potential_loyalist", _("Potential loyalist")
    NEW = "new", _("New")
    PROMISING = "promising", _("Promising")
    NEED_ATTENTION = "need_attention", _("Need attention")
    ABOUT_TO_SLEEP = "about_to_sleep", _("About to sleep")
    AT_RISK = "at_risk", _("At risk")
    CANNOT_LOSE = "cannot_lose", _("Can't lose them")
    HIBERNATING = "hibernating", _("Hibernating")
    LOST = "lost", _("Lost")


class ValueSettings(SettingsVersion):
    """One version of the value settings; the newest row is in force. Rows are never changed,
    so the history of who changed what, when and why is the table itself."""

    class Meta(SettingsVersion.Meta):
        verbose_name = _("value settings")
        verbose_name_plural = _("value settings")

    def __str__(self) -> str:
        return f"value settings #{self.pk}"


class ValueSnapshot(models.Model):
    period = models.CharField(_("period"), max_length=10, db_index=True)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    window_start = models.DateField(_("window start"))
    window_end = models.DateField(_("window end"))
    measure = models.CharField(
        _("value measure"), max_length=15, choices=Measure.choices, default=Measure.GROSS_PROFIT
    )
    engine = models.CharField(
        _("engine"), max_length=10, choices=Engine.choices, default=Engine.DUCKDB
    )
    parameters = models.JSONField(_("parameters"), default=dict)
    status = models.CharField(
        _("status"), max_length=10, choices=SnapshotStatus.choices, default=SnapshotStatus.RUNNING
    )
    message = models.TextField(_("message"), blank=True)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    seconds = models.FloatField(_("seconds"), null=True, blank=True)
    customer_count = models.PositiveIntegerField(_("customers"), default=0)
    active_count = models.PositiveIntegerField(_("active customers"), default=0)
    total_revenue = MoneyField(_("revenue"), default=0)
    total_gross_profit = MoneyField(_("gross profit"), default=0)
    total_net_profit = MoneyField(_("net profit"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("made by"),
    )

    class Meta:
        verbose_name = _("value snapshot")
        verbose_name_plural = _("value snapshots")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["period", "status"], name="value_snapshot_period")]

    def __str__(self) -> str:
        return f"{self.period} ({self.engine}, {self.status})"


class CustomerValue(models.Model):
    """One customer's figures in one snapshot. Money over the snapshot's window."""

    snapshot = models.ForeignKey(
        ValueSnapshot, on_delete=models.CASCADE, related_name="rows", verbose_name=_("snapshot")
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="value_rows",
        verbose_name=_("customer"),
    )
    # Money (§4.5)
    revenue = MoneyField(_("revenue"), default=0)
    cost_of_goods = MoneyField(_("cost of goods"), default=0)
    gross_profit = MoneyField(_("gross profit"), default=0)
    cost_activities = MoneyField(_("activities"), default=0)
    cost_deliveries = MoneyField(_("deliveries"), default=0)
    cost_orders = MoneyField(_("orders handled"), default=0)
    cost_complaints = MoneyField(_("complaints"), default=0)
    cost_returns = MoneyField(_("returns"), default=0)
    cost_financing = MoneyField(_("receivable financing"), default=0)
    cost_bad_debts = MoneyField(_("bad debts"), default=0)
    cost_to_serve = MoneyField(_("cost to serve"), default=0)
    net_profit = MoneyField(_("net profit"), default=0)
    activity_costs = models.JSONField(_("activity cost by kind"), default=dict)
    average_receivable = MoneyField(_("average receivable"), default=0)
    # Counts and days
    order_count = models.PositiveIntegerField(_("orders"), default=0)
    return_count = models.PositiveIntegerField(_("returns"), default=0)
    complaint_count = models.PositiveIntegerField(_("complaints"), default=0)
    activity_count = models.PositiveIntegerField(_("activities"), default=0)
    purchase_count = models.PositiveIntegerField(_("purchases"), default=0)
    recency_days = models.PositiveIntegerField(_("days since last purchase"), null=True)
    tenure_days = models.PositiveIntegerField(_("days since first purchase"), null=True)
    # Regularity (§4.4): coefficients of variation and the 0–1 evenness score.
    interval_variation = models.DecimalField(
        _("variation of intervals"), null=True, blank=True, **SCORE
    )
    amount_variation = models.DecimalField(
        _("variation of amounts"), null=True, blank=True, **SCORE
    )
    regularity_score = models.DecimalField(_("regularity"), default=0, **SCORE)
    # Payment discipline
    paid_on_time_share = models.DecimalField(_("paid on time"), null=True, blank=True, **SCORE)
    days_beyond_terms = models.DecimalField(_("days beyond terms"), null=True, blank=True, **SCORE)
    payment_score = models.DecimalField(_("payment score"), default=0, **SCORE)
    # RFM (§4.8)
    recency_score = models.PositiveSmallIntegerField(_("R"), null=True)
    frequency_score = models.PositiveSmallIntegerField(_("F"), null=True)
    monetary_score = models.PositiveSmallIntegerField(_("M"), null=True)
    rfm_segment = models.CharField(
        _("RFM segment"), max_length=20, choices=RfmSegment.choices, blank=True
    )
    # Pyramid (§4.1)
    pyramid_class = models.CharField(
        _("pyramid class"), max_length=10, choices=PyramidClass.choices
    )
    rank = models.PositiveIntegerField(_("rank"), null=True)
    rank_of = models.PositiveIntegerField(_("ranked customers"), null=True)
    # Money class (§4.3) and value matrix (§4.4)
    loyalty_score = models.DecimalField(_("loyalty"), default=0, **SCORE)
    money_score = models.DecimalField(_("money score"), default=0, **SCORE)
    money_class = models.CharField(_("money class"), max_length=15, choices=MoneyClass.choices)
    quadrant = models.CharField(_("quadrant"), max_length=10, choices=Quadrant.choices)
    seven_factor_score = models.DecimalField(_("seven-factor score"), default=0, **SCORE)
    # Lifetime value (§4.6), from the purchase history up to the period end; empty when the
    # models could not be fitted (see the snapshot's message and parameters["lifetime"]).
    lifetime_value = MoneyField(_("lifetime value"), null=True, blank=True)
    probability_alive = models.DecimalField(_("probability alive"), null=True, blank=True, **SCORE)
    expected_purchases = models.DecimalField(
        _("expected purchases, next 12 months"),
        null=True,
        blank=True,
        max_digits=12,
        decimal_places=4,
    )
    expected_spend = MoneyField(_("expected spend per purchase"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer value")
        verbose_name_plural = _("customer values")
        ordering = ["snapshot", "rank", "customer"]
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "customer"], name="customer_value_once_per_snapshot"
            ),
        ]
        indexes = [
            models.Index(fields=["snapshot", "pyramid_class"], name="customer_value_pyramid"),
            models.Index(fields=["customer", "snapshot"], name="customer_value_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.snapshot_id}/{self.customer_id}"


class CustomerValueAssessment(models.Model):
    """The three human factors of the seven-factor value score (§4.4), entered by people, 0–5.
    The newest assessment of a customer (by date, then id) is the one used."""

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="value_assessments",
        verbose_name=_("customer"),
    )
    feedback_frequency = models.PositiveSmallIntegerField(_("feeds back market information"))
    industry_influence = models.PositiveSmallIntegerField(_("influence in the industry"))
    demand_potential = models.PositiveSmallIntegerField(_("demand potential"))
    note = models.CharField(_("note"), max_length=255, blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("assessed by"),
    )
    assessed_on = models.DateField(_("assessed on"))

    class Meta:
        verbose_name = _("customer value assessment")
        verbose_name_plural = _("customer value assessments")
        ordering = ["customer", "-assessed_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(feedback_frequency__lte=5)
                & models.Q(industry_influence__lte=5)
                & models.Q(demand_potential__lte=5),
                name="value_assessment_scores_0_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.assessed_on}"


class SegmentActionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


class SegmentAction(models.Model):
    """The next action of the segment worksheet 市场细分作业单 (§4.7): what is to be done about a
    product line, or about one customer of it, by whom and by when. Written only through
    services_segments; done once, never reopened."""

    category = models.ForeignKey(
        "catalog.ProductCategory",
        on_delete=models.PROTECT,
        related_name="segment_actions",
        verbose_name=_("product line"),
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="segment_actions",
        verbose_name=_("customer"),
    )
    text = models.CharField(_("next action"), max_length=500)
    reason = models.CharField(_("reason"), max_length=20, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="segment_actions",
        verbose_name=_("owner"),
    )
    due_on = models.DateField(_("due"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=SegmentActionStatus.choices,
        default=SegmentActionStatus.OPEN,
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded"))
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("done by"),
    )
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    class Meta:
        verbose_name = _("segment action")
        verbose_name_plural = _("segment actions")
        ordering = ["category", "status", "due_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(status="open", done_at__isnull=True, done_by__isnull=True)
                    | models.Q(status="done", done_at__isnull=False, done_by__isnull=False)
                ),
                name="segment_action_done_has_when_and_who",
            ),
        ]
        indexes = [
            models.Index(fields=["category", "status", "due_on"], name="segment_action_line"),
        ]

    def __str__(self) -> str:
        return f"{self.category_id}: {self.text[:40]}"
