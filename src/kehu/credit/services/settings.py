"""Changes of the credit settings: stored as a new version, never edited in place."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from kehu.accounts.models import User
from kehu.core.errors import PermissionDenied, ValidationFailed
from kehu.credit.events import credit_event_record
from kehu.credit.models import CreditEventKind, CreditSettings
from kehu.credit.selectors.settings import credit_settings_current
from kehu.credit.settings import merge, validate_settings


@transaction.atomic
def credit_settings_update(
    *, changes: dict[str, Any], actor: User | None, reason: str = ""
) -> CreditSettings:
    """Lay `changes` over the settings in force and store the result as a new version.
    Only finance, top management and administrators change credit settings."""
    if actor is not None and not actor.sees_all:
        raise PermissionDenied(
            "only finance, top management or an administrator may change credit settings"
        )
    if not changes:
        raise ValidationFailed("no credit setting to change", detail={"field": "changes"})
    before = credit_settings_current()
    values = validate_settings(merge(before, changes))
    version = CreditSettings.objects.create(
        values=values, changes=changes, reason=reason.strip(), changed_by=actor
    )
    credit_event_record(
        kind=CreditEventKind.SETTINGS_CHANGED,
        actor=actor,
        before={"changes_over": {key: before[key] for key in changes}},
        after={"changes": changes},
        reason={"reason": reason.strip()},
    )
    return version
