"""Products and their categories (the product lines of domain §4.7)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from kehu.core.models import TimeStampedModel
from kehu.core.money import MoneyField, currency_field


class ProductCategory(models.Model):
    """A product line: the unit the segment worksheet 市场细分作业单 is made per."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Product(TimeStampedModel):
    code = models.CharField(_("product code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.ForeignKey(
        ProductCategory,
        on_delete=models.PROTECT,
        related_name="products",
        verbose_name=_("category"),
    )
    unit = models.CharField(_("unit"), max_length=20, default="件")
    list_price = MoneyField(_("list price"))
    standard_cost = MoneyField(_("standard cost"))
    currency = currency_field()
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(list_price__gte=0), name="product_list_price_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(standard_cost__gte=0),
                name="product_standard_cost_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
