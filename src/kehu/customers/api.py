"""Customers and their contacts: list, read, create, change, and the history of a card.

A customer the user may not see answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

from typing import Any, cast

from django.db import IntegrityError
from django.db.models import Field
from django.http import HttpRequest
from django.utils import timezone
from ninja import Path, Query, Router, Status

from kehu.accounts.models import OrgUnit, User
from kehu.core.errors import Conflict, NotFound, ValidationFailed
from kehu.core.schemas import MAX_ID, error_responses, page_of
from kehu.customers.models import Contact, Customer
from kehu.customers.schemas import (
    ContactCreateIn,
    ContactOut,
    ContactPatchIn,
    CustomerCreateIn,
    CustomerHistoryEntryOut,
    CustomerHistoryQuery,
    CustomerListQuery,
    CustomerOut,
    CustomerPageOut,
    CustomerPatchIn,
)
from kehu.customers.selectors import (
    customer_get_visible,
    customer_history,
    customer_list,
    related_visible_to,
)
from kehu.customers.services import (
    CUSTOMER_CREDIT_FIELDS,
    contact_create,
    contact_update,
    customer_create,
    customer_credit_terms_authorize,
    customer_owner_authorize,
    customer_update,
)

router = Router(tags=["customers"])

CustomerId = Path(..., ge=1, le=MAX_ID, description="the customer's id")
ContactId = Path(..., ge=1, le=MAX_ID, description="the contact's id")
CREDIT_DEFAULTS = {
    name: cast(Field, Customer._meta.get_field(name)).get_default()
    for name in CUSTOMER_CREDIT_FIELDS
}


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _owner(user_id: int) -> User:
    owner = User.objects.select_related("org_unit").filter(pk=user_id).first()
    if owner is None:
        raise ValidationFailed(f"there is no user {user_id}", detail={"field": "owner_id"})
    return owner


def _region(unit_id: int | None) -> OrgUnit | None:
    if unit_id is None:
        return None
    region = OrgUnit.objects.filter(pk=unit_id).first()
    if region is None:
        raise ValidationFailed(f"there is no org unit {unit_id}", detail={"field": "region_id"})
    return region


# ---------------------------------------------------------------------------------------------
# Customers


@router.get(
    "/customers",
    response={200: CustomerPageOut, **error_responses()},
    summary="List the customers you may see",
)
def customers_list(request: HttpRequest, filters: Query[CustomerListQuery]) -> object:
    queryset = customer_list(
        user=_user(request),
        search=filters.search,
        kind=filters.kind or "",
        lifecycle=filters.lifecycle or "",
        region_id=filters.region,
        owner_id=filters.owner,
        tag=filters.tag,
        sort=filters.sort,
        today=timezone.localdate(),
    )
    return page_of(queryset.prefetch_related("tags"), filters)


@router.post(
    "/customers",
    response={201: CustomerOut, **error_responses(403, 409)},
    summary="Create a customer",
)
def customers_create(request: HttpRequest, payload: CustomerCreateIn) -> object:
    actor = _user(request)
    fields: dict[str, Any] = payload.model_dump(exclude={"code", "name", "owner_id", "region_id"})
    owner = _owner(payload.owner_id) if payload.owner_id is not None else actor
    customer_owner_authorize(actor=actor, owner=owner)
    if any(fields[name] != default for name, default in CREDIT_DEFAULTS.items()):
        customer_credit_terms_authorize(actor=actor)
    fields["region"] = _region(payload.region_id)
    try:
        customer = customer_create(
            code=payload.code, name=payload.name, owner=owner, actor=actor, **fields
        )
    except IntegrityError as error:
        # Someone saved the same code between the check and the insert.
        if Customer.objects.filter(code=payload.code.strip()).exists():
            raise ValidationFailed(
                f"customer code {payload.code.strip()!r} is taken", detail={"field": "code"}
            ) from error
        raise Conflict("the customer could not be saved; try again") from error
    return Status(201, customer_get_visible(user=actor, customer_id=customer.pk))


@router.get(
    "/customers/{customer_id}",
    response={200: CustomerOut, **error_responses(404)},
    summary="A customer card",
)
def customers_retrieve(request: HttpRequest, customer_id: int = CustomerId) -> object:
    return customer_get_visible(user=_user(request), customer_id=customer_id)


@router.patch(
    "/customers/{customer_id}",
    response={200: CustomerOut, **error_responses(403, 404, 409)},
    summary="Change a customer card",
    description=(
        "Only the fields sent change. Changes are kept in the history with who, when and the "
        "optional reason. Credit limit and payment terms are set only by finance, top "
        "management or an administrator."
    ),
)
def customers_update(
    request: HttpRequest, payload: CustomerPatchIn, customer_id: int = CustomerId
) -> object:
    actor = _user(request)
    customer = customer_get_visible(user=actor, customer_id=customer_id)
    fields: dict[str, Any] = payload.model_dump(exclude_unset=True)
    reason = fields.pop("reason", "")
    if "owner_id" in fields:
        owner = _owner(fields.pop("owner_id"))
        if owner.pk != customer.owner_id:
            customer_owner_authorize(actor=actor, owner=owner)
        fields["owner"] = owner
    if "region_id" in fields:
        fields["region"] = _region(fields.pop("region_id"))
    if any(
        name in fields and fields[name] != getattr(customer, name)
        for name in CUSTOMER_CREDIT_FIELDS
    ):
        customer_credit_terms_authorize(actor=actor)
    customer_update(customer=customer, actor=actor, reason=reason, **fields)
    return customer_get_visible(user=actor, customer_id=customer.pk)


@router.get(
    "/customers/{customer_id}/history",
    response={200: list[CustomerHistoryEntryOut], **error_responses(404)},
    summary="Who changed a card, when, what and why (newest first)",
)
def customers_history(
    request: HttpRequest, page: Query[CustomerHistoryQuery], customer_id: int = CustomerId
) -> object:
    customer = customer_get_visible(user=_user(request), customer_id=customer_id)
    return customer_history(customer=customer, offset=page.offset, limit=page.limit)


# ---------------------------------------------------------------------------------------------
# Contacts


def _contact_get_visible(*, user: User, contact_id: int) -> Contact:
    contact = related_visible_to(user, Contact.objects.filter(pk=contact_id)).first()
    if contact is None:
        raise NotFound(f"contact {contact_id} not found")
    return contact


@router.get(
    "/customers/{customer_id}/contacts",
    response={200: list[ContactOut], **error_responses(404)},
    summary="A customer's contacts",
)
def contacts_list(request: HttpRequest, customer_id: int = CustomerId) -> object:
    user = _user(request)
    customer = customer_get_visible(user=user, customer_id=customer_id)
    return list(related_visible_to(user, Contact.objects.filter(customer=customer)))


@router.post(
    "/customers/{customer_id}/contacts",
    response={201: ContactOut, **error_responses(403, 404, 409)},
    summary="Add a contact to a customer",
)
def contacts_create(
    request: HttpRequest, payload: ContactCreateIn, customer_id: int = CustomerId
) -> object:
    actor = _user(request)
    customer = customer_get_visible(user=actor, customer_id=customer_id)
    fields = payload.model_dump(exclude={"name"})
    contact = contact_create(customer=customer, name=payload.name, actor=actor, **fields)
    return Status(201, contact)


@router.get(
    "/contacts/{contact_id}",
    response={200: ContactOut, **error_responses(404)},
    summary="A contact",
)
def contacts_retrieve(request: HttpRequest, contact_id: int = ContactId) -> object:
    return _contact_get_visible(user=_user(request), contact_id=contact_id)


@router.patch(
    "/contacts/{contact_id}",
    response={200: ContactOut, **error_responses(403, 404, 409)},
    summary="Change a contact (contacts keep history: they are changed, not deleted)",
)
def contacts_update(
    request: HttpRequest, payload: ContactPatchIn, contact_id: int = ContactId
) -> object:
    actor = _user(request)
    contact = _contact_get_visible(user=actor, contact_id=contact_id)
    fields: dict[str, Any] = payload.model_dump(exclude_unset=True)
    reason = fields.pop("reason", "")
    return contact_update(contact=contact, actor=actor, reason=reason, **fields)
