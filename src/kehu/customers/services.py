"""Writes of customers and contacts: the single entry point for pages, API, CLI and imports."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, Min, OuterRef, Subquery
from django.db.models.functions import Coalesce

from kehu.accounts.models import User
from kehu.core.errors import PermissionDenied, ValidationFailed
from kehu.customers.models import BirthdayCalendar, Contact, Customer
from kehu.customers.search import SEARCHED_FIELDS, search_text_of
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
    customer.search_text = search_text_of(
        name=customer.name, city=customer.city, code=customer.code, phone=customer.phone
    )
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
    if SEARCHED_FIELDS.intersection(changed):
        customer.search_text = search_text_of(
            name=customer.name, city=customer.city, code=customer.code, phone=customer.phone
        )
        changed.append("search_text")
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
    _check_birthday(contact)
    contact.full_clean()
    contact._history_user = actor  # type: ignore[attr-defined]
    contact.save()
    return contact


def customer_purchase_stats_refresh(*, customer_ids: Iterable[int] | None = None) -> int:
    """Recompute first/last purchase and purchase count from the orders (domain §2).

    Called by the sales services and by imports after they write orders; returns how many
    customers changed. Set-based, in chunks of customers: one grouped read of their orders,
    one read of their current values, and one UPDATE … SET … = (subquery) of those that
    changed (no per-customer statements, no CASE lists).
    """
    if customer_ids is None:
        ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    else:
        ids = sorted(set(customer_ids))
    changed = 0
    with transaction.atomic():
        for start in range(0, len(ids), _STATS_CHUNK):
            changed += _purchase_stats_refresh_chunk(ids[start : start + _STATS_CHUNK])
    return changed


# Customers per statement: well below SQLite's limit of bound values.
_STATS_CHUNK = 5_000


def _purchase_stats_refresh_chunk(ids: list[int]) -> int:
    purchases = Order.objects.filter(state__in=PURCHASE_STATES)
    stats = {
        row["customer_id"]: (row["first"], row["last"], row["count"])
        for row in purchases.filter(customer_id__in=ids)
        .values("customer_id")
        .annotate(first=Min("order_date"), last=Max("order_date"), count=Count("id"))
    }
    changed = [
        pk
        for pk, *values in Customer.objects.filter(pk__in=ids).values_list(
            "pk", "first_purchase_on", "last_purchase_on", "purchase_count"
        )
        if tuple(values) != stats.get(pk, (None, None, 0))
    ]
    if changed:
        of_customer = purchases.filter(customer_id=OuterRef("pk")).order_by().values("customer_id")
        Customer.objects.filter(pk__in=changed).update(
            first_purchase_on=Subquery(
                of_customer.annotate(value=Min("order_date")).values("value")
            ),
            last_purchase_on=Subquery(
                of_customer.annotate(value=Max("order_date")).values("value")
            ),
            purchase_count=Coalesce(
                Subquery(of_customer.annotate(value=Count("id")).values("value")), 0
            ),
        )
    return len(changed)


CONTACT_EDITABLE_FIELDS = frozenset(
    {
        "name",
        "role",
        "title",
        "phone",
        "email",
        "birthday_calendar",
        "birth_year",
        "birth_month",
        "birth_day",
        "birth_month_is_leap",
        "preferences",
        "is_primary",
    }
)
# Credit terms are set by the credit process (domain §5), not by whoever edits the card.
CUSTOMER_CREDIT_FIELDS = frozenset({"credit_limit", "payment_terms_days"})


@transaction.atomic
def contact_update(
    *, contact: Contact, actor: User | None, reason: str = "", **fields: Any
) -> Contact:
    """Change a contact. Contacts keep history, so they are changed, never deleted here."""
    _check_fields(fields, CONTACT_EDITABLE_FIELDS)
    if "name" in fields:
        fields["name"] = str(fields["name"]).strip()
        if not fields["name"]:
            raise ValidationFailed("a contact needs a name", detail={"field": "name"})
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    changed = [name for name, value in fields.items() if getattr(contact, name) != value]
    if not changed:
        return contact
    for name in changed:
        setattr(contact, name, fields[name])
    _check_birthday(contact)
    contact.full_clean()
    contact._history_user = actor  # type: ignore[attr-defined]
    contact._change_reason = reason  # type: ignore[attr-defined]
    contact.save(update_fields=[*changed, "updated_at"])
    return contact


def _check_birthday(contact: Contact) -> None:
    if contact.birth_month_is_leap and contact.birthday_calendar != BirthdayCalendar.LUNAR:
        raise ValidationFailed(
            "only a lunar birthday can fall in a leap month",
            detail={"field": "birth_month_is_leap"},
        )


def customer_owner_authorize(*, actor: User, owner: User) -> None:
    """May `actor` make `owner` the owner rep of a customer? Raises PermissionDenied if not.

    A rep only themselves; a manager the people of their unit's subtree; finance, top
    management and administrators anyone.
    """
    if not owner.is_active:
        raise ValidationFailed(
            f"user {owner.username!r} is not active and cannot own customers",
            detail={"field": "owner_id"},
        )
    if owner.pk == actor.pk or actor.sees_all:
        return
    if actor.is_manager and actor.org_unit_id is not None:
        assert actor.org_unit is not None
        unit = owner.org_unit
        if unit is not None and unit.path.startswith(actor.org_unit.path):
            return
    raise PermissionDenied(
        f"you may not make {owner.username!r} the owner of a customer",
        detail={"field": "owner_id"},
    )


def customer_credit_terms_authorize(*, actor: User) -> None:
    """Only finance, top management and administrators set a credit limit or payment terms."""
    if not actor.sees_all:
        raise PermissionDenied(
            "only finance, top management or an administrator may set credit terms",
            detail={"fields": sorted(CUSTOMER_CREDIT_FIELDS)},
        )
