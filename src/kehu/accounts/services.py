"""Writes for users and org units."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from kehu.accounts.models import ApprovalAuthority, OrgUnit, Role, User
from kehu.core.errors import ValidationFailed

# Domain §5.3 / credit issue defaults, in yuan (10万 = 100,000).
DEFAULT_AUTHORITY: dict[str, Decimal | None] = {
    Role.CUSTOMER_MANAGER: Decimal("100000"),
    Role.DIRECT_SALES_MANAGER: Decimal("500000"),
    Role.REGIONAL_MANAGER: Decimal("2000000"),
    Role.TOP_MANAGEMENT: None,
}


@transaction.atomic
def org_unit_create(*, name: str, code: str, kind: str, parent: OrgUnit | None = None) -> OrgUnit:
    if kind != OrgUnit.Kind.COMPANY and parent is None:
        raise ValidationFailed(f"an org unit of kind {kind} needs a parent")
    unit = OrgUnit.objects.create(name=name, code=code, kind=kind, parent=parent)
    unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
    unit.save(update_fields=["path"])
    return unit


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    role: str,
    org_unit: OrgUnit | None = None,
    display_name: str = "",
    email: str = "",
    is_superuser: bool = False,
) -> User:
    if role not in Role.values:
        raise ValidationFailed(
            f"unknown role {role!r}; choose one of {', '.join(Role.values)}",
            detail={"field": "role"},
        )
    if User.objects.filter(username=username).exists():
        raise ValidationFailed(f"user {username!r} already exists", detail={"field": "username"})
    user = User(
        username=username,
        role=role,
        org_unit=org_unit,
        display_name=display_name,
        email=email,
        is_superuser=is_superuser,
        is_staff=is_superuser or role == Role.ADMINISTRATOR,
    )
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def approval_authorities_ensure_defaults() -> None:
    for role, amount in DEFAULT_AUTHORITY.items():
        ApprovalAuthority.objects.get_or_create(role=role, defaults={"max_amount": amount})
