"""API schemas for activities and complaints."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

from kehu.accounts.schemas import UserRefOut
from kehu.core.schemas import DatedPageQuery, MoneyOut
from kehu.service.models import (
    ActivityKind,
    ActivityOutcome,
    ComplaintCategory,
    ComplaintState,
)


class ContactRefOut(Schema):
    id: int
    name: str


class ActivityListQuery(DatedPageQuery):
    kind: ActivityKind | None = Field(None, description="only activities of this kind")


class ActivityOut(Schema):
    id: int
    customer_id: int
    kind: ActivityKind
    occurred_on: dt.date
    owner: UserRefOut
    contact: ContactRefOut | None
    subject: str
    outcome: ActivityOutcome | None = Field(description="null when not recorded")
    outcome_note: str
    cost: MoneyOut
    currency: str

    @staticmethod
    def resolve_outcome(activity: object) -> str | None:
        return activity.outcome or None  # type: ignore[attr-defined]


class ActivityPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[ActivityOut]


class ComplaintListQuery(DatedPageQuery):
    state: ComplaintState | None = Field(None, description="only complaints in this state")


class ComplaintOut(Schema):
    id: int
    customer_id: int
    received_on: dt.date
    category: ComplaintCategory
    text: str
    owner: UserRefOut = Field(description="the first person asked (首问负责制)")
    state: ComplaintState
    resolved_on: dt.date | None


class ComplaintPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[ComplaintOut]
