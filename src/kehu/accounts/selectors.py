"""Reads for users and org units."""

from __future__ import annotations

from django.db.models import QuerySet

from kehu.accounts.models import OrgUnit, User


def org_unit_subtree(unit: OrgUnit) -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(path__startswith=unit.path)


def users_visible_to(user: User) -> QuerySet[User]:
    """The people whose customers `user` may see: everyone, their unit's subtree, or themselves."""
    if user.sees_all:
        return User.objects.all()
    if user.is_manager and user.org_unit_id is not None:
        assert user.org_unit is not None
        return User.objects.filter(org_unit__path__startswith=user.org_unit.path)
    return User.objects.filter(pk=user.pk)
