"""Credit API: the credit settings in force and their history, and changing them (finance, top
management and administrators). A change is laid over the settings in force and stored as a
new version; a bad value is refused naming its key, and the attempt is logged."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from kehu.accounts.models import User
from kehu.core.schemas import InputSchema, Text, error_responses
from kehu.credit.events import refusals_logged
from kehu.credit.selectors.settings import credit_settings_current, credit_settings_history
from kehu.credit.services.settings import credit_settings_update

router = Router(tags=["credit"])

HISTORY_LENGTH = 20


class SettingsVersionOut(Schema):
    id: int
    changes: dict[str, Any]
    reason: str
    changed_by: str | None
    changed_at: dt.datetime


class SettingsOut(Schema):
    values: dict[str, Any] = Field(description="the settings in force (defaults merged)")
    history: list[SettingsVersionOut]


class SettingsChangeIn(InputSchema):
    changes: dict[str, Any] = Field(
        description='what to change, nested like the values, e.g. {"check": {"tolerance_share": '
        '"0.05"}}'
    )
    reason: Text = Field("", max_length=255)


def _settings_out() -> dict[str, Any]:
    history = [
        {
            "id": version.pk,
            "changes": version.changes,
            "reason": version.reason,
            "changed_by": str(version.changed_by) if version.changed_by else None,
            "changed_at": version.changed_at,
        }
        for version in credit_settings_history()[:HISTORY_LENGTH]
    ]
    return {"values": credit_settings_current(), "history": history}


@router.get(
    "/credit/settings",
    response={200: SettingsOut, **error_responses()},
    summary="The credit settings in force and the last changes",
)
def credit_settings_read(request: HttpRequest) -> object:
    return _settings_out()


@router.patch(
    "/credit/settings",
    response={200: SettingsOut, **error_responses(403)},
    summary="Change credit settings (finance, top management, administrators)",
)
def credit_settings_change(request: HttpRequest, payload: SettingsChangeIn) -> object:
    user: User = request.user  # type: ignore[assignment]
    with refusals_logged(action="credit_settings_update", actor=user):
        credit_settings_update(changes=payload.changes, actor=user, reason=payload.reason)
    return _settings_out()
