"""Users, roles (domain §1), org units and approval authority."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from kehu.core.money import MoneyField


class Role(models.TextChoices):
    """Roles of domain §1."""

    SALES_REP = "sales_rep", _("Sales rep")  # 业务员
    CUSTOMER_MANAGER = "customer_manager", _("Customer manager")  # 客户经理
    DIRECT_SALES_MANAGER = "direct_sales_manager", _("Direct-sales manager")  # 直销部经理
    REGIONAL_MANAGER = "regional_manager", _("Regional company manager")  # 地区公司经理
    FINANCE = "finance", _("Credit / finance controller")
    TOP_MANAGEMENT = "top_management", _("Top management")
    ADMINISTRATOR = "administrator", _("Administrator")


MANAGER_ROLES = frozenset({Role.CUSTOMER_MANAGER, Role.DIRECT_SALES_MANAGER, Role.REGIONAL_MANAGER})
SEES_ALL_ROLES = frozenset({Role.FINANCE, Role.TOP_MANAGEMENT, Role.ADMINISTRATOR})


class OrgUnit(models.Model):
    """Company → region → team. `path` is a materialised path ("/1/4/9/") for subtree reads."""

    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        REGION = "region", _("Region")
        TEAM = "team", _("Team")

    name = models.CharField(_("name"), max_length=120)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    # Where the branch is, to classify customers by distance (domain §2).
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)

    class Meta:
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=30, choices=Role.choices, default=Role.SALES_REP)
    org_unit = models.ForeignKey(
        OrgUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("org unit"),
    )
    display_name = models.CharField(_("display name"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @property
    def sees_all(self) -> bool:
        return self.is_superuser or self.role in SEES_ALL_ROLES

    @property
    def is_manager(self) -> bool:
        return self.role in MANAGER_ROLES


class ApprovalAuthority(models.Model):
    """How much credit a role may approve on its own (domain §5.3), in yuan.

    A null `max_amount` means no upper bound (top management).
    """

    role = models.CharField(_("role"), max_length=30, choices=Role.choices, unique=True)
    max_amount = MoneyField(_("maximum amount"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("approval authority")
        verbose_name_plural = _("approval authorities")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_amount__isnull=True) | models.Q(max_amount__gte=0),
                name="approval_authority_amount_not_negative",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.max_amount or '∞'}"
