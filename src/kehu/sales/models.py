"""Orders, order lines and returns."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStampedModel
from kehu.core.money import MoneyField, currency_field


class OrderState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    # Waiting in the credit hold queue: confirmed on credit beyond what credit allows.
    CREDIT_HOLD = "held", _("Held for credit")
    CONFIRMED = "confirmed", _("Confirmed")
    DELIVERED = "delivered", _("Delivered")
    INVOICED = "invoiced", _("Invoiced")
    CANCELLED = "cancelled", _("Cancelled")


# States in which an order counts as a purchase (a transaction of domain §2).
PURCHASE_STATES = (OrderState.CONFIRMED, OrderState.DELIVERED, OrderState.INVOICED)


class PaymentMethod(models.TextChoices):
    CREDIT = "credit", _("On credit")  # 赊销
    CASH = "cash", _("Cash")


class Order(TimeStampedModel):
    number = models.CharField(_("order number"), max_length=40, unique=True)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("customer"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("entered by"),
        null=True,
        blank=True,
    )
    state = models.CharField(
        _("state"), max_length=10, choices=OrderState.choices, default=OrderState.DRAFT
    )
    order_date = models.DateField(_("order date"))
    delivered_on = models.DateField(_("delivered on"), null=True, blank=True)
    payment_method = models.CharField(
        _("payment"), max_length=10, choices=PaymentMethod.choices, default=PaymentMethod.CREDIT
    )
    currency = currency_field()
    # Totals of the lines, kept by the services that write lines.
    total_amount = MoneyField(_("amount"), default=0)
    total_cost = MoneyField(_("cost"), default=0)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-order_date", "-id"]
        indexes = [
            models.Index(fields=["customer", "order_date"], name="order_customer_date"),
            models.Index(fields=["order_date"], name="order_date"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def gross_profit(self):  # type: ignore[no-untyped-def]
        return self.total_amount - self.total_cost


class OrderLine(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order")
    )
    line_number = models.PositiveIntegerField(_("line"), default=1)
    product = models.ForeignKey(
        "catalog.Product",
        on_delete=models.PROTECT,
        related_name="order_lines",
        verbose_name=_("product"),
    )
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    unit_price = MoneyField(_("unit price"))
    unit_cost = MoneyField(_("unit cost"))
    discount_rate = models.DecimalField(
        _("discount"),
        max_digits=5,
        decimal_places=4,
        default=0,
        help_text=_("A share between 0 and 1 taken off the line."),
    )
    # quantity × unit price × (1 − discount), rounded to cents.
    amount = MoneyField(_("amount"))
    cost = MoneyField(_("cost"))

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "line_number"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="order_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(unit_price__gte=0), name="order_line_price_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(unit_cost__gte=0), name="order_line_cost_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(discount_rate__gte=0, discount_rate__lte=1),
                name="order_line_discount_share",
            ),
            models.UniqueConstraint(
                fields=["order", "line_number"], name="order_line_number_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.line_number}"


class Return(TimeStampedModel):
    """Goods sent back (退货). Its amount reduces the customer's revenue."""

    number = models.CharField(_("return number"), max_length=40, unique=True)
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="returns", verbose_name=_("order")
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="returns",
        verbose_name=_("customer"),
    )
    returned_on = models.DateField(_("returned on"))
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    amount = MoneyField(_("amount"), default=0)
    cost = MoneyField(_("cost"), default=0)
    currency = currency_field()

    class Meta:
        verbose_name = _("return")
        verbose_name_plural = _("returns")
        ordering = ["-returned_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="return_amount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class ReturnLine(models.Model):
    sales_return = models.ForeignKey(
        Return, on_delete=models.CASCADE, related_name="lines", verbose_name=_("return")
    )
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="return_lines")
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    amount = MoneyField(_("amount"))

    class Meta:
        verbose_name = _("return line")
        verbose_name_plural = _("return lines")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="return_line_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sales_return_id}/{self.order_line_id}"
