"""Pre-loaded lookups: one query per chunk of distinct codes, never one per row."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from kehu.accounts.models import OrgUnit, User
from kehu.catalog.models import Product
from kehu.customers.models import Customer
from kehu.imports.kinds.base import in_chunks
from kehu.imports.validation import CellError


def _distinct(values: Iterable[str | None]) -> set[str]:
    return {value for value in values if value is not None}


class Users:
    """Users by username; a user must be active to own records."""

    def __init__(self, usernames: Iterable[str | None]) -> None:
        self.by_username: dict[str, User] = {}
        for chunk in in_chunks(_distinct(usernames)):
            for user in User.objects.filter(username__in=chunk):
                self.by_username[user.username] = user

    def __call__(self, username: str) -> int:
        user = self.by_username.get(username)
        if user is None:
            raise CellError(_("No user with the username %(name)r.") % {"name": username})
        if not user.is_active:
            raise CellError(
                _("User %(name)r is not active and cannot own customers.") % {"name": username}
            )
        return user.pk


class OrgUnits:
    """Org units by code, or by name when the name is unique."""

    def __init__(self) -> None:
        self.by_code: dict[str, int] = {}
        self.by_name: dict[str, list[int]] = {}
        for unit_id, code, name in OrgUnit.objects.values_list("id", "code", "name"):
            self.by_code[code] = unit_id
            self.by_name.setdefault(name, []).append(unit_id)

    def __call__(self, value: str) -> int:
        if value in self.by_code:
            return self.by_code[value]
        found = self.by_name.get(value, [])
        if len(found) == 1:
            return found[0]
        if found:
            raise CellError(
                _("%(count)d org units are named %(name)r; give the code.")
                % {"count": len(found), "name": value}
            )
        raise CellError(_("No org unit with the code or name %(name)r.") % {"name": value})


@dataclass(frozen=True)
class CustomerRef:
    id: int
    owner_id: int
    currency: str
    payment_terms_days: int


class Customers:
    """Existing customers by code, for the kinds that point at a customer."""

    def __init__(self, codes: Iterable[str | None]) -> None:
        self.by_code: dict[str, CustomerRef] = {}
        for chunk in in_chunks(_distinct(codes)):
            for row in Customer.objects.filter(code__in=chunk).values_list(
                "code", "id", "owner_id", "currency", "payment_terms_days"
            ):
                self.by_code[row[0]] = CustomerRef(*row[1:])

    def __call__(self, code: str) -> CustomerRef:
        found = self.by_code.get(code)
        if found is None:
            raise CellError(_("No customer with the code %(code)r.") % {"code": code})
        return found


@dataclass(frozen=True)
class ProductRef:
    id: int
    standard_cost: Decimal


class Products:
    def __init__(self, codes: Iterable[str | None]) -> None:
        self.by_code: dict[str, ProductRef] = {}
        for chunk in in_chunks(_distinct(codes)):
            for code, product_id, cost in Product.objects.filter(code__in=chunk).values_list(
                "code", "id", "standard_cost"
            ):
                self.by_code[code] = ProductRef(product_id, cost)

    def __call__(self, code: str) -> ProductRef:
        found = self.by_code.get(code)
        if found is None:
            raise CellError(_("No product with the code %(code)r.") % {"code": code})
        return found
