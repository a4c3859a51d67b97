"""Reads of customers. Every read a user triggers starts from what that user may see.

This is the one place access is decided (domain §1): a rep sees their own customers, a
manager their unit's subtree, finance, top management and administrators see all. Pages, the
API and exports all start from `customers_visible_to`; what hangs off a customer (contacts,
orders, invoices, payments, activities) is filtered through `customer__in` of the same set.
"""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from kehu.accounts.models import User
from kehu.core.errors import NotFound
from kehu.customers.lifecycle import lifecycle_q
from kehu.customers.models import Customer

M = TypeVar("M", bound=Model)


def _visibility_q(user: User, prefix: str = "") -> Q | None:
    """None means everything; otherwise the filter on customers the user may see."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.sees_all:
        return None
    if user.is_manager and user.org_unit_id is not None:
        assert user.org_unit is not None
        return Q(**{f"{prefix}owner__org_unit__path__startswith": user.org_unit.path})
    return Q(**{f"{prefix}owner": user})


def customers_visible_to(user: User) -> QuerySet[Customer]:
    condition = _visibility_q(user)
    queryset = Customer.objects.all()
    return queryset if condition is None else queryset.filter(condition)


def related_visible_to(user: User, queryset: QuerySet[M]) -> QuerySet[M]:
    """Filter rows that hang off a customer (they have a `customer` field) by the same rule."""
    condition = _visibility_q(user, prefix="customer__")
    return queryset if condition is None else queryset.filter(condition)


def customer_get_visible(*, user: User, customer_id: int) -> Customer:
    """The customer, or NotFound when it does not exist *or* the user may not see it."""
    customer = (
        customers_visible_to(user)
        .select_related("owner", "region")
        .prefetch_related("tags")
        .filter(pk=customer_id)
        .first()
    )
    if customer is None:
        raise NotFound(f"customer {customer_id} not found")
    return customer


SORTABLE_FIELDS = {
    "code": "code",
    "name": "name",
    "kind": "kind",
    "region": "region__name",
    "owner": "owner__username",
    "last_purchase": "last_purchase_on",
    "first_purchase": "first_purchase_on",
    "purchases": "purchase_count",
    "credit_limit": "credit_limit",
}


def customer_list(
    *,
    user: User,
    search: str = "",
    kind: str = "",
    lifecycle: str = "",
    region_id: int | None = None,
    owner_id: int | None = None,
    tag: str = "",
    sort: str = "code",
    today: dt.date | None = None,
) -> QuerySet[Customer]:
    """The filtered, sorted list; `sort` is a key of SORTABLE_FIELDS, '-' for descending."""
    queryset = customers_visible_to(user).select_related("owner", "region")
    if search:
        term = search.strip()
        queryset = queryset.filter(
            Q(code__istartswith=term)
            | Q(name__icontains=term)
            | Q(phone__contains=term)
            | Q(city__icontains=term)
        )
    if kind:
        queryset = queryset.filter(kind=kind)
    if lifecycle:
        queryset = queryset.filter(lifecycle_q(lifecycle, today or timezone.localdate()))
    if region_id:
        queryset = queryset.filter(region_id=region_id)
    if owner_id:
        queryset = queryset.filter(owner_id=owner_id)
    if tag:
        queryset = queryset.filter(tags__name=tag)
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    field = SORTABLE_FIELDS.get(key, "code")
    order = f"-{field}" if descending else field
    tiebreak = "-pk" if descending else "pk"
    return queryset.order_by(order, tiebreak)
