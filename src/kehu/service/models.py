"""Activities (the cost to serve of domain §4.5 is counted from them) and complaints (§7)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStampedModel
from kehu.core.money import MoneyField, currency_field


class ActivityKind(models.TextChoices):
    VISIT = "visit", _("Visit")  # 拜访
    CALL = "call", _("Call")  # 电话
    DELIVERY = "delivery", _("Delivery")  # 送货
    SERVICE_JOB = "service_job", _("Service job")  # 服务
    EMAIL = "email", _("E-mail")
    MEETING = "meeting", _("Meeting")
    GREETING = "greeting", _("Greeting")  # 问候
    OTHER = "other", _("Other")


class ActivityOutcome(models.TextChoices):
    SUCCESSFUL = "successful", _("Successful")
    NO_CONTACT = "no_contact", _("No contact")
    FOLLOW_UP = "follow_up", _("Needs follow-up")
    UNSUCCESSFUL = "unsuccessful", _("Unsuccessful")


class Activity(TimeStampedModel):
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="activities",
        verbose_name=_("customer"),
    )
    contact = models.ForeignKey(
        "customers.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="activities",
        verbose_name=_("contact"),
    )
    kind = models.CharField(_("kind"), max_length=15, choices=ActivityKind.choices)
    occurred_on = models.DateField(_("date"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="activities",
        verbose_name=_("owner"),
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=15, choices=ActivityOutcome.choices, blank=True
    )
    outcome_note = models.TextField(_("outcome note"), blank=True)
    cost = MoneyField(_("cost"), default=0)
    currency = currency_field()

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-occurred_on", "-id"]
        indexes = [
            models.Index(fields=["customer", "occurred_on"], name="activity_customer_date"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cost__gte=0), name="activity_cost_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_on}"


class ComplaintCategory(models.TextChoices):
    QUALITY = "quality", _("Product quality")
    DELIVERY = "delivery", _("Delivery")
    SERVICE = "service", _("Service")
    PRICE = "price", _("Price")
    BILLING = "billing", _("Billing")
    OTHER = "other", _("Other")


class ComplaintState(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


class Complaint(TimeStampedModel):
    """A complaint; its owner is the first person asked (首问负责制)."""

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="complaints",
        verbose_name=_("customer"),
    )
    received_on = models.DateField(_("received on"))
    category = models.CharField(_("category"), max_length=10, choices=ComplaintCategory.choices)
    text = models.TextField(_("text"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="complaints",
        verbose_name=_("owner"),
    )
    state = models.CharField(
        _("state"), max_length=12, choices=ComplaintState.choices, default=ComplaintState.OPEN
    )
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-received_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(resolved_on__isnull=True)
                | models.Q(resolved_on__gte=models.F("received_on")),
                name="complaint_resolved_after_received",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.received_on}"
