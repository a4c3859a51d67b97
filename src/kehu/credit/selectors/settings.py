"""The credit settings in force."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from kehu.credit.models import CreditSettings
from kehu.credit.settings import DEFAULTS, merge


def credit_settings_current() -> dict[str, Any]:
    """The credit settings in force: the newest stored version over the defaults."""
    latest = CreditSettings.objects.order_by("-id").first()
    return merge(DEFAULTS, latest.values) if latest else merge(DEFAULTS, {})


def credit_settings_history() -> QuerySet[CreditSettings]:
    return CreditSettings.objects.select_related("changed_by").order_by("-id")
