"""Writes of customers and contacts: the single entry point for pages, API, CLI and imports."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, Min

from kehu.accounts.models import User
from kehu.core.errors import ValidationFailed
from kehu.customers.models import Contact, Customer
from kehu.sales.models import PURCHASE_STATES, Order

CUSTOMER_EDITABLE_FIELDS = frozenset(
    {
        "name",
        "kind",
        "industry",
        "ownership",
        "size",
        "region",
        "territory",
        "province",
        "city",
        "address",
        "postal_code",
        "latitude",
        "longitude",
        "phone",
        "email",
        "source_channel",
        "competitor",
        "owner",
        "notes",
        "credit_limit",
        "payment_terms_days",
    }
)


def _check_fields(fields: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationFailed(
            f"these fields cannot be set: {', '.join(sorted(unknown))}",
            detail={"fields": sorted(unknown)},
        )


@transaction.atomic
def customer_create(
    *, code: str, name: str, owner: User, actor: User | None = None, **fields: Any
) -> Customer:
    _check_fields(fields, CUSTOMER_EDITABLE_FIELDS - {"owner"})
    code = code.strip()
    if not code:
        raise ValidationFailed("a customer needs a code", detail={"field": "code"})
    if not name.strip():
        raise ValidationFailed("a customer needs a name", detail={"field": "name"})
    if Customer.objects.filter(code=code).exists():
        raise ValidationFailed(f"customer code {code!r} is taken", detail={"field": "code"})
    customer = Customer(code=code, name=name.strip(), owner=owner, **fields)
    customer._history_user = actor  # type: ignore[attr-defined]
    customer.full_clean(exclude=["tags"])
    customer.save()
    return customer


@transaction.atomic
def customer_update(
    *, customer: Customer, actor: User | None, reason: str = "", **fields: Any
) -> Customer:
    """Change a card. History keeps who, when, before, after and why (`reason`)."""
    _check_fields(fields, CUSTOMER_EDITABLE_FIELDS)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    changed = [name for name, value in fields.items() if getattr(customer, name) != value]
    if not changed:
        return customer
    for name in changed:
        setattr(customer, name, fields[name])
    customer.full_clean(exclude=["tags"])
    customer._history_user = actor  # type: ignore[attr-defined]
    customer._change_reason = reason  # type: ignore[attr-defined]
    customer.save(update_fields=[*changed, "updated_at"])
    return customer


@transaction.atomic
def contact_create(
    *, customer: Customer, name: str, actor: User | None = None, **fields: Any
) -> Contact:
    if not name.strip():
        raise ValidationFailed("a contact needs a name", detail={"field": "name"})
    contact = Contact(customer=customer, name=name.strip(), **fields)
    contact.full_clean()
    contact._history_user = actor  # type: ignore[attr-defined]
    contact.save()
    return contact


def customer_purchase_stats_refresh(*, customer_ids: Iterable[int] | None = None) -> int:
    """Recompute first/last purchase and purchase count from the orders (domain §2).

    Called by the sales services and by imports after they write orders; returns how many
    customers changed.
    """
    orders = Order.objects.filter(state__in=PURCHASE_STATES)
    customers = Customer.objects.all()
    if customer_ids is not None:
        ids = list(customer_ids)
        orders = orders.filter(customer_id__in=ids)
        customers = customers.filter(pk__in=ids)
    stats = {
        row["customer_id"]: row
        for row in orders.values("customer_id").annotate(
            first=Min("order_date"), last=Max("order_date"), count=Count("id")
        )
    }
    changed: list[Customer] = []
    for customer in customers.only(
        "pk", "first_purchase_on", "last_purchase_on", "purchase_count"
    ).iterator(chunk_size=5000):
        row = stats.get(customer.pk)
        values = (row["first"], row["last"], row["count"]) if row else (None, None, 0)
        if (
            customer.first_purchase_on,
            customer.last_purchase_on,
            customer.purchase_count,
        ) != values:
            (customer.first_purchase_on, customer.last_purchase_on, customer.purchase_count) = (
                values
            )
            changed.append(customer)
    with transaction.atomic():
        Customer.objects.bulk_update(
            changed, ["first_purchase_on", "last_purchase_on", "purchase_count"], batch_size=2000
        )
    return len(changed)
