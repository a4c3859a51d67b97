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
        indexes = [models.Index(fields=["invoice", "allocated_on"], name="allocation_invoice")]
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
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="write_off_amount_positive"
            ),
        ]
