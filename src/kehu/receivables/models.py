"""Invoices, payments, allocations, credit notes and write-offs (domain §6).

The ledger is append-only in spirit: a payment allocation or a write-off is reversed by a
reversal date, never deleted, so that the balance of any invoice can be rebuilt as of any date.
`Invoice.open_amount` and `Payment.unallocated_amount` are the current balances, kept by the
services in the same transaction as the entries that move them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStampedModel
from kehu.core.money import MoneyField, currency_field


class Invoice(TimeStampedModel):
    number = models.CharField(_("invoice number"), max_length=40, unique=True)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="invoices",
        verbose_name=_("customer"),
    )
    order = models.ForeignKey(
        "sales.Order",
        on_delete=models.PROTECT,
        related_name="invoices",
        null=True,
        blank=True,
        verbose_name=_("order"),
    )
    issue_date = models.DateField(_("issue date"))
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"), default=30)
    due_date = models.DateField(_("due date"))
    amount = MoneyField(_("amount"))
    open_amount = MoneyField(_("open amount"))
    currency = currency_field()
    is_cancelled = models.BooleanField(_("cancelled"), default=False)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issue_date", "-id"]
        indexes = [
            models.Index(fields=["customer", "issue_date"], name="invoice_customer_issue"),
            models.Index(fields=["due_date"], name="invoice_due_date"),
            # The aging snapshot's staleness check reads the latest change (aging_snapshots).
            models.Index(fields=["updated_at"], name="invoice_updated_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="invoice_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(open_amount__gte=0, open_amount__lte=models.F("amount")),
                name="invoice_open_amount_within_amount",
            ),
            models.CheckConstraint(
                condition=models.Q(due_date__gte=models.F("issue_date")),
                name="invoice_due_after_issue",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def is_overdue(self, today) -> bool:  # type: ignore[no-untyped-def]
        return self.open_amount > 0 and not self.is_cancelled and today > self.due_date


class PaymentMethodKind(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    ACCEPTANCE_BILL = "acceptance_bill", _("Acceptance bill")  # 承兑汇票
    CHEQUE = "cheque", _("Cheque")
    CASH = "cash", _("Cash")
    OTHER = "other", _("Other")


class Payment(TimeStampedModel):
    number = models.CharField(_("payment number"), max_length=40, unique=True)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name=_("customer"),
    )
    received_on = models.DateField(_("received on"))
    amount = MoneyField(_("amount"))
    # What is not allocated to an invoice stays as the customer's credit; it never vanishes.
    unallocated_amount = MoneyField(_("unallocated"))
    method = models.CharField(
        _("method"),
        max_length=20,
        choices=PaymentMethodKind.choices,
        default=PaymentMethodKind.BANK_TRANSFER,
    )
    reference = models.CharField(_("reference"), max_length=80, blank=True)
    currency = currency_field()

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-received_on", "-id"]
        indexes = [
            models.Index(fields=["customer", "received_on"], name="payment_customer_received"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payment_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    unallocated_amount__gte=0, unallocated_amount__lte=models.F("amount")
                ),
                name="payment_unallocated_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class PaymentAllocation(models.Model):
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="allocations", verbose_name=_("payment")
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="allocations", verbose_name=_("invoice")
    )
    amount = MoneyField(_("amount"))
    allocated_on = models.DateField(_("allocated on"))
    reversed_on = models.DateField(_("reversed on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("payment allocation")
        verbose_name_plural = _("payment allocations")
        indexes = [
            # Covers the aging as of a date (receivables/aging.py): no table lookups.
            models.Index(
                fields=["invoice", "allocated_on", "reversed_on", "amount"],
                name="allocation_invoice_as_of",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="allocation_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(reversed_on__isnull=True)
                | models.Q(reversed_on__gte=models.F("allocated_on")),
                name="allocation_reversed_after_allocated",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payment_id} → {self.invoice_id}: {self.amount}"


class CreditNote(TimeStampedModel):
    """A reduction of what the customer owes (贷项通知单), applied to one invoice."""

    number = models.CharField(_("credit note number"), max_length=40, unique=True)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="credit_notes",
        verbose_name=_("customer"),
    )
    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        related_name="credit_notes",
        null=True,
        blank=True,
        verbose_name=_("invoice"),
    )
    sales_return = models.ForeignKey(
        "sales.Return", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_notes"
    )
    issue_date = models.DateField(_("issue date"))
    amount = MoneyField(_("amount"))
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    currency = currency_field()

    class Meta:
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")
        ordering = ["-issue_date", "-id"]
        indexes = [
            models.Index(
                fields=["invoice", "issue_date", "amount"], name="credit_note_invoice_as_of"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="credit_note_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class WriteOff(TimeStampedModel):
    """A bad debt written off (坏账核销): a ledger entry, reversed by date, never deleted.

    Records whose decision the credit was (domain §5.4): who extended it and who approved it.
    """

    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="write_offs", verbose_name=_("invoice")
    )
    amount = MoneyField(_("amount"))
    written_off_on = models.DateField(_("written off on"))
    reason = models.CharField(_("reason"), max_length=255)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="write_offs_decided",
        null=True,
        blank=True,
        verbose_name=_("decided by"),
    )
    credit_given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="write_offs_given",
        null=True,
        blank=True,
        verbose_name=_("credit given by"),
    )
    credit_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="write_offs_approved",
        null=True,
        blank=True,
        verbose_name=_("credit approved by"),
    )
    reversed_on = models.DateField(_("reversed on"), null=True, blank=True)

    class Meta:
        verbose_name = _("write-off")
        verbose_name_plural = _("write-offs")
        ordering = ["-written_off_on", "-id"]
        indexes = [
            models.Index(
                fields=["invoice", "written_off_on", "reversed_on", "amount"],
                name="write_off_invoice_as_of",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="write_off_amount_positive"
            ),
        ]


# --- Follow-up 催收: dunning levels, notes on contacts, promises to pay, events (issue 4) -----


class DunningAction(models.TextChoices):
    REMINDER = "reminder", _("Friendly reminder")  # 友好提醒
    CALL = "call", _("Call")  # 电话催收
    VISIT = "visit", _("Visit")  # 上门拜访
    STOP_CREDIT = "stop_credit", _("Stop credit sales")  # 停止赊销
    LEGAL = "legal", _("Legal action")  # 法律途径


class DunningLevel(models.Model):
    """One step of the dunning ladder (催收级别): from `days_past_due` on, do `action`."""

    order = models.PositiveSmallIntegerField(_("order"), unique=True)
    name = models.CharField(_("name"), max_length=80)
    days_past_due = models.PositiveSmallIntegerField(_("days past due"), unique=True)
    action = models.CharField(_("action"), max_length=20, choices=DunningAction.choices)

    class Meta:
        verbose_name = _("dunning level")
        verbose_name_plural = _("dunning levels")
        ordering = ["days_past_due"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(days_past_due__gte=1), name="dunning_level_days_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.name} ({self.days_past_due})"


class ContactChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    VISIT = "visit", _("Visit")
    MESSAGE = "message", _("Message")  # WeChat, SMS
    EMAIL = "email", _("E-mail")
    LETTER = "letter", _("Letter")
    OTHER = "other", _("Other")


class ContactOutcome(models.TextChoices):
    SUCCESSFUL = "successful", _("Reached the customer")
    NO_CONTACT = "no_contact", _("No contact")
    PROMISED = "promised", _("Promised to pay")
    DISPUTED = "disputed", _("Disputes the debt")
    REFUSED = "refused", _("Refused to pay")
    OTHER = "other", _("Other")


# Outcomes that count as having reached the customer (for vanished debtors).
REACHED_OUTCOMES = frozenset(
    {
        ContactOutcome.SUCCESSFUL,
        ContactOutcome.PROMISED,
        ContactOutcome.DISPUTED,
        ContactOutcome.REFUSED,
    }
)


class CollectionNote(TimeStampedModel):
    """A note on one contact about money owed (催收记录)."""

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="collection_notes",
        verbose_name=_("customer"),
    )
    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        related_name="collection_notes",
        null=True,
        blank=True,
        verbose_name=_("invoice"),
    )
    contacted_on = models.DateField(_("contacted on"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="collection_notes",
        verbose_name=_("recorded by"),
    )
    channel = models.CharField(_("channel"), max_length=15, choices=ContactChannel.choices)
    outcome = models.CharField(_("outcome"), max_length=15, choices=ContactOutcome.choices)
    text = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("collection note")
        verbose_name_plural = _("collection notes")
        ordering = ["-contacted_on", "-id"]
        indexes = [
            models.Index(fields=["customer", "contacted_on"], name="collection_note_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.contacted_on} {self.outcome}"


class PromiseState(models.TextChoices):
    OPEN = "open", _("Open")
    KEPT = "kept", _("Kept")
    BROKEN = "broken", _("Broken")


class PromiseToPay(TimeStampedModel):
    """A promise to pay an amount by a date (付款承诺).

    Kept when the payments received from `made_on` to `promised_for` reach the amount; broken
    when `promised_for` has passed without that. `state` is what `promises_review` last saw.
    """

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="promises_to_pay",
        verbose_name=_("customer"),
    )
    invoices = models.ManyToManyField(
        Invoice, related_name="promises_to_pay", blank=True, verbose_name=_("invoices")
    )
    amount = MoneyField(_("promised amount"))
    promised_for = models.DateField(_("promised date"))
    made_on = models.DateField(_("made on"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="promises_to_pay",
        verbose_name=_("recorded by"),
    )
    state = models.CharField(
        _("state"), max_length=10, choices=PromiseState.choices, default=PromiseState.OPEN
    )
    settled_on = models.DateField(_("kept or broken on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("promise to pay")
        verbose_name_plural = _("promises to pay")
        ordering = ["-made_on", "-id"]
        indexes = [
            models.Index(fields=["customer", "promised_for"], name="promise_customer_date"),
            models.Index(fields=["state", "promised_for"], name="promise_state_date"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="promise_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(promised_for__gte=models.F("made_on")),
                name="promise_date_after_made",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.amount} by {self.promised_for}"


class ReceivableEventKind(models.TextChoices):
    NOTE_ADDED = "note_added", _("Collection note added")
    PROMISE_RECORDED = "promise_recorded", _("Promise to pay recorded")
    PROMISE_KEPT = "promise_kept", _("Promise kept")
    PROMISE_BROKEN = "promise_broken", _("Promise broken")
    WRITE_OFF_CREATED = "write_off_created", _("Debt written off")
    WRITE_OFF_REVERSED = "write_off_reversed", _("Write-off reversed")


class ReceivableEvent(models.Model):
    """What changed in receivables, written in the same transaction as the change (an audit
    log): who, when, what kind, for which customer and invoice, before, after and why."""

    kind = models.CharField(_("kind"), max_length=30, choices=ReceivableEventKind.choices)
    occurred_at = models.DateTimeField(_("when"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("who"),
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="receivable_events",
        verbose_name=_("customer"),
    )
    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        related_name="events",
        null=True,
        blank=True,
        verbose_name=_("invoice"),
    )
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)
    reason = models.JSONField(_("reason"), default=dict, blank=True)

    class Meta:
        verbose_name = _("receivable event")
        verbose_name_plural = _("receivable events")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "occurred_at"], name="receivable_event_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.customer_id} {self.occurred_at:%Y-%m-%d}"


class AgingSnapshot(models.Model):
    """The company's aging as of a date by one grouping, computed once and read by the pages
    (账龄快照). `ledger_stamp` is what the ledger looked like when it was computed (the largest
    id and the number of rows of each ledger table, the latest change of an invoice and of a
    write-off): when the stamp read now differs, something was written since and the snapshot
    is stale. `rows`: one item per group, {"key", "amounts" (one per bucket, in cents),
    "invoice_count"}; the groups' names are read when shown, so a renamed customer shows its
    new name. A snapshot never changes a balance."""

    as_of = models.DateField(_("as of"))
    group_by = models.CharField(_("grouping"), max_length=20)
    computed_at = models.DateTimeField(_("computed at"))
    ledger_stamp = models.JSONField(_("ledger stamp"), default=dict)
    bucket_keys = models.JSONField(_("buckets"), default=list)
    value_period = models.CharField(_("pyramid classes of"), max_length=20, blank=True)
    rows = models.JSONField(_("rows"), default=list)
    seconds = models.FloatField(_("seconds to compute"), default=0)

    class Meta:
        verbose_name = _("aging snapshot")
        verbose_name_plural = _("aging snapshots")
        ordering = ["-as_of", "group_by"]
        constraints = [
            models.UniqueConstraint(fields=["as_of", "group_by"], name="aging_snapshot_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.as_of} {self.group_by} ({self.computed_at:%Y-%m-%d %H:%M})"
