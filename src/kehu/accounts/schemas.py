"""API schemas for people and org units."""

from __future__ import annotations

from ninja import Schema

from kehu.accounts.models import Role


class OrgUnitRefOut(Schema):
    id: int
    code: str
    name: str
    kind: str


class UserRefOut(Schema):
    """Who someone is, briefly: enough to show a name and link to them."""

    id: int
    username: str
    display_name: str


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    role: Role
    org_unit: OrgUnitRefOut | None
    sees_all: bool
    is_manager: bool
