# SQL below is built from model table names and fixed expressions; values are parameters.
# ruff: noqa: S608
"""Scorecard templates and credit ratings (domain §5.2).

A template is never edited: `scorecard_template_create` stores a definition as a new version
and puts it in force, so every past rating keeps the version it was made with.

A rating scores every indicator of the template in force: computed indicators from the ledger
as of the rating date (credit/measures.py), the rest from the customer's latest survey made by
then. A missing input is kept as missing and scores the indicator's `missing_points`. The
rating keeps every value and the points it earned, the change from the customer's previous
rating, and it updates the customer's standing (CustomerCredit). A grade drop opens a
re-survey task for the owner (services/reviews.py).

`credit_ratings_run_period` is the quarterly re-rating of every customer, set-based: measures
for everyone in four statements, ratings and their items written in batches, one transaction
per batch (a run that stops is resumed: customers already rated for the period are skipped),
and one summary event.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from kehu.accounts.models import User
from kehu.core.errors import PermissionDenied, ValidationFailed
from kehu.credit.default_template import DEFAULT_TEMPLATE, DISPUTES_FACT
from kehu.credit.events import credit_event_record
from kehu.credit.measures import ledger_measures, survey_figure
from kehu.credit.models import (
    GRADE_RANK,
    CreditEvent,
    CreditEventKind,
    CreditRating,
    CreditRatingItem,
    CreditReviewTask,
    CreditSurvey,
    CustomerCredit,
    RatingTrigger,
    ReviewReason,
    ScorecardGroup,
    ScorecardIndicator,
    ScorecardTemplate,
    TaskState,
)
from kehu.credit.scorecard import (
    ZERO,
    choice_table,
    grade_for_score,
    number_scorer,
    validate_definition,
)
from kehu.credit.selectors.settings import credit_settings_current
from kehu.credit.services.reviews import credit_review_task_open
from kehu.customers.models import Customer

BATCH_SIZE = 2000
Progress = Callable[[int, int], None]


# --- Periods ----------------------------------------------------------------------------------


def quarter_of(day: dt.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def previous_quarter_end(today: dt.date) -> dt.date:
    """The last day of the quarter before `today`'s: the data date of the quarterly run."""
    first_month = (today.month - 1) // 3 * 3 + 1
    return dt.date(today.year, first_month, 1) - dt.timedelta(days=1)


# --- Templates ----------------------------------------------------------------------------------


def scorecard_template_active() -> ScorecardTemplate | None:
    return ScorecardTemplate.objects.filter(is_active=True).first()


def _template_store(
    *, definition: dict[str, Any], actor: User | None, version: int
) -> ScorecardTemplate:
    template = ScorecardTemplate.objects.create(
        code=definition["code"],
        version=version,
        name=definition["name"],
        total_points=Decimal(definition["total_points"]),
        grade_bands=definition["grade_bands"],
        is_active=True,
        notes=definition.get("notes", ""),
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    for group_position, group_item in enumerate(definition["groups"]):
        group = ScorecardGroup.objects.create(
            template=template,
            code=group_item["code"],
            name=group_item["name"],
            name_en=group_item.get("name_en", ""),
            points=Decimal(group_item["points"]),
            position=group_position,
        )
        ScorecardIndicator.objects.bulk_create(
            ScorecardIndicator(
                group=group,
                code=item["code"],
                name=item["name"],
                name_en=item.get("name_en", ""),
                points=Decimal(item["points"]),
                source=item["source"],
                measure=item["measure"],
                is_financial=item["is_financial"],
                mapping=item["mapping"],
                missing_points=Decimal(item["missing_points"]),
                position=position,
            )
            for position, item in enumerate(group_item["indicators"])
        )
    return template


@transaction.atomic
def scorecard_template_create(*, definition: Any, actor: User | None) -> ScorecardTemplate:
    """Store a definition (scorecard.py) as the next version of its code and put it in force.
    Only finance, top management and administrators change the template."""
    if actor is not None and not actor.sees_all:
        raise PermissionDenied(
            "only finance, top management or an administrator may change the scorecard template"
        )
    checked = validate_definition(definition)
    current = ScorecardTemplate.objects.select_for_update().filter(is_active=True).first()
    latest = (
        ScorecardTemplate.objects.filter(code=checked["code"]).aggregate(top=Max("version"))["top"]
        or 0
    )
    if current is not None:
        ScorecardTemplate.objects.filter(pk=current.pk).update(is_active=False)
    template = _template_store(definition=checked, actor=actor, version=latest + 1)
    credit_event_record(
        kind=CreditEventKind.TEMPLATE_CREATED,
        actor=actor,
        before={"template": current.pk, "code": current.code, "version": current.version}
        if current is not None
        else {},
        after={
            "template": template.pk,
            "code": template.code,
            "version": template.version,
            "total_points": checked["total_points"],
            "grade_bands": checked["grade_bands"],
        },
    )
    return template


@transaction.atomic
def scorecard_template_ensure_default() -> ScorecardTemplate:
    """The template in force; the first time, Kehu's default template (idempotent)."""
    current = ScorecardTemplate.objects.select_for_update().filter(is_active=True).first()
    if current is not None:
        return current
    return scorecard_template_create(definition=DEFAULT_TEMPLATE, actor=None)


# --- Scoring ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedIndicator:
    id: int
    code: str
    source: str
    measure: str
    mapping: Mapping[str, Any]
    points: Decimal
    missing_points: Decimal
    # The mapping, read once: number → points, or answer → points.
    score_number: Callable[[Decimal], Decimal] | None
    choices: Mapping[str, Decimal] | None


@dataclass(frozen=True)
class LoadedTemplate:
    template: ScorecardTemplate
    indicators: tuple[LoadedIndicator, ...]


def template_load(template: ScorecardTemplate) -> LoadedTemplate:
    indicators = ScorecardIndicator.objects.filter(group__template=template).order_by(
        "group__position", "position", "id"
    )
    return LoadedTemplate(
        template=template,
        indicators=tuple(
            LoadedIndicator(
                id=item.pk,
                code=item.code,
                source=item.source,
                measure=item.measure,
                mapping=item.mapping,
                points=item.points,
                missing_points=item.missing_points,
                score_number=None
                if item.mapping["kind"] == "table"
                else number_scorer(item.mapping, maximum=item.points),
                choices=choice_table(item.mapping, maximum=item.points)
                if item.mapping["kind"] == "table"
                else None,
            )
            for item in indicators
        ),
    )


class ScoredItem(NamedTuple):
    """One indicator's outcome (a tuple: millions are made by the quarterly run)."""

    indicator_id: int
    value: Decimal | None
    choice: str
    is_missing: bool
    points: Decimal


@dataclass(frozen=True)
class Scored:
    items: tuple[ScoredItem, ...]
    score: Decimal
    grade: str
    missing_count: int


def _disputes(survey: CreditSurvey | None) -> int | None:
    if survey is None:
        return None
    raw = (survey.facts or {}).get(DISPUTES_FACT)
    if isinstance(raw, bool) or raw is None or raw == "":
        return None
    try:
        count = int(str(raw))
    except ValueError:
        return None
    return count if count >= 0 else None


def _score_item(
    indicator: LoadedIndicator,
    measures: Mapping[str, Decimal | None],
    survey: CreditSurvey | None,
) -> ScoredItem:
    if indicator.source == "survey_choice":
        answer = (survey.facts or {}).get(indicator.measure) if survey is not None else None
        choice = answer if isinstance(answer, str) else ""
        assert indicator.choices is not None
        earned = indicator.choices.get(choice) if choice else None
        if earned is None:
            return ScoredItem(indicator.id, None, choice[:40], True, indicator.missing_points)
        return ScoredItem(indicator.id, None, choice, False, earned)
    if indicator.measure == "bad_debts_and_disputes":
        write_offs = measures.get("bad_debts") or ZERO
        disputes = _disputes(survey)
        if disputes is None:
            assert indicator.score_number is not None
            alone = indicator.score_number(write_offs)
            return ScoredItem(
                indicator.id, write_offs, "", True, min(alone, indicator.missing_points)
            )
        value: Decimal | None = write_offs + disputes
    elif indicator.source == "computed":
        value = measures.get(indicator.measure)
    else:
        value = survey_figure(survey, indicator.measure)
    if value is None:
        return ScoredItem(indicator.id, None, "", True, indicator.missing_points)
    assert indicator.score_number is not None
    return ScoredItem(indicator.id, value, "", False, indicator.score_number(value))


def score_customer(
    loaded: LoadedTemplate,
    *,
    measures: Mapping[str, Decimal | None],
    survey: CreditSurvey | None,
) -> Scored:
    items = tuple(_score_item(indicator, measures, survey) for indicator in loaded.indicators)
    score = sum((item.points for item in items), ZERO)
    return Scored(
        items=items,
        score=score,
        grade=grade_for_score(score, loaded.template.grade_bands),
        missing_count=sum(1 for item in items if item.is_missing),
    )


def _latest_surveys(as_of: dt.date, customer_ids: Iterable[int] | None) -> dict[int, CreditSurvey]:
    """Each customer's latest survey made by `as_of` (only that one is read)."""
    made = CreditSurvey.objects.filter(surveyed_on__lte=as_of)
    if customer_ids is not None:
        made = made.filter(customer_id__in=list(customer_ids))
    newer = CreditSurvey.objects.filter(
        Q(surveyed_on__gt=OuterRef("surveyed_on"))
        | Q(surveyed_on=OuterRef("surveyed_on"), pk__gt=OuterRef("pk")),
        customer_id=OuterRef("customer_id"),
        surveyed_on__lte=as_of,
    )
    latest = made.exclude(Exists(newer)).defer(
        "surveyed_by", "bank_opinion", "notes", "created_at", "updated_at"
    )
    return {survey.customer_id: survey for survey in latest.iterator(chunk_size=2000)}


@dataclass(frozen=True)
class Previous:
    rating_id: int
    score: Decimal
    grade: str


def _changes(scored: Scored, previous: Previous | None) -> tuple[Decimal | None, int | None]:
    if previous is None:
        return None, None
    return scored.score - previous.score, GRADE_RANK[scored.grade] - GRADE_RANK[previous.grade]


# --- One customer, on demand ------------------------------------------------------------------


def _may_rate(actor: User | None) -> bool:
    return actor is None or actor.sees_all or actor.is_manager


@transaction.atomic
def credit_rating_run(
    *,
    customer: Customer,
    actor: User | None,
    as_of: dt.date | None = None,
    trigger: str = RatingTrigger.ON_DEMAND,
) -> CreditRating:
    """Rate one customer now from its ledger as of `as_of` (default today) and its latest
    survey; managers and finance rate on demand."""
    if not _may_rate(actor):
        raise PermissionDenied("only managers and finance may rate a customer")
    template = scorecard_template_ensure_default()
    loaded = template_load(template)
    today = timezone.localdate()
    as_of = as_of or today
    if as_of > today:
        raise ValidationFailed(
            f"a rating cannot be made as of {as_of}: it is in the future", detail={"field": "as_of"}
        )
    standing, _created = CustomerCredit.objects.select_for_update().get_or_create(customer=customer)
    previous_rating = (
        CreditRating.objects.filter(pk=standing.rating_id).first() if standing.rating_id else None
    )
    previous = (
        Previous(previous_rating.pk, previous_rating.score, previous_rating.grade)
        if previous_rating is not None
        else None
    )
    measures = ledger_measures(
        as_of=as_of, customers=[(customer.pk, customer.first_purchase_on)], all_customers=False
    )[customer.pk]
    survey = _latest_surveys(as_of, [customer.pk]).get(customer.pk)
    scored = score_customer(loaded, measures=measures, survey=survey)
    score_change, grade_change = _changes(scored, previous)
    rating = CreditRating.objects.create(
        customer=customer,
        template=template,
        survey=survey,
        rated_on=as_of,
        period=quarter_of(as_of),
        trigger=trigger,
        score=scored.score,
        grade=scored.grade,
        previous_id=previous.rating_id if previous else None,
        score_change=score_change,
        grade_change=grade_change,
        missing_count=scored.missing_count,
        rated_by=actor if actor is not None and actor.is_authenticated else None,
    )
    CreditRatingItem.objects.bulk_create(
        CreditRatingItem(
            rating=rating,
            indicator_id=item.indicator_id,
            value=item.value,
            choice=item.choice,
            is_missing=item.is_missing,
            points=item.points,
        )
        for item in scored.items
    )
    standing.rating = rating
    standing.grade = scored.grade
    standing.save(update_fields=["rating", "grade", "updated_at"])
    credit_event_record(
        kind=CreditEventKind.RATED,
        actor=actor,
        customer=customer,
        before={"rating": previous.rating_id, "score": str(previous.score), "grade": previous.grade}
        if previous
        else {},
        after={
            "rating": rating.pk,
            "score": str(rating.score),
            "grade": rating.grade,
            "template": template.pk,
            "version": template.version,
            "period": rating.period,
            "as_of": as_of.isoformat(),
            "missing": scored.missing_count,
        },
        reason={"trigger": trigger},
    )
    if grade_change is not None and grade_change < 0 and previous is not None:
        credit_review_task_open(
            customer=customer,
            reason=ReviewReason.GRADE_DROP,
            today=today,
            detail={"from": previous.grade, "to": rating.grade, "rating": rating.pk},
            actor=actor,
        )
    return rating


# --- Everyone, once a quarter -------------------------------------------------------------------


@dataclass
class PeriodRun:
    period: str
    as_of: dt.date
    template_id: int
    rated: int = 0
    skipped: int = 0
    by_grade: Counter[str] = field(default_factory=Counter)
    rose: int = 0
    dropped: int = 0
    tasks_opened: int = 0
    missing_inputs: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "as_of": self.as_of.isoformat(),
            "template": self.template_id,
            "rated": self.rated,
            "skipped": self.skipped,
            "by_grade": dict(sorted(self.by_grade.items(), key=lambda item: -GRADE_RANK[item[0]])),
            "rose": self.rose,
            "dropped": self.dropped,
            "tasks_opened": self.tasks_opened,
            "missing_inputs": self.missing_inputs,
            "seconds": round(self.seconds, 2),
        }


def _customers_to_rate(as_of: dt.date) -> list[tuple[int, dt.date | None, int]]:
    """(id, first purchase, owner) of every customer that had bought by D or has a survey."""
    surveyed = CreditSurvey.objects.filter(surveyed_on__lte=as_of).values("customer_id")
    return list(
        Customer.objects.filter(Q(first_purchase_on__lte=as_of) | Q(pk__in=surveyed))
        .order_by("pk")
        .values_list("pk", "first_purchase_on", "owner_id")
    )


def _bulk_insert(table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Insert many rows: COPY on PostgreSQL, one executemany on SQLite."""
    if not rows:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            copy_sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            with cursor.cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


RATING_COLUMNS = (
    "customer_id", "template_id", "survey_id", "rated_on", "period", "trigger", "score",
    "grade", "previous_id", "score_change", "grade_change", "missing_count", "rated_by_id",
    "created_at",
)  # fmt: skip
ITEM_COLUMNS = ("rating_id", "indicator_id", "value", "choice", "is_missing", "points")


STANDING_COLUMNS = ("customer_id", "grade", "rating_id", "group_id", "updated_at")


def _standings_write(*, new: list[tuple[int, int, str]], existing: set[int]) -> None:
    """Point the standing (CustomerCredit) of each (customer, rating, grade) at its new rating:
    update the rows there are (UPDATE … FROM VALUES, 500 at a time), create the others."""
    table = CustomerCredit._meta.db_table
    now = timezone.now()
    updates = [row for row in new if row[0] in existing]
    for start in range(0, len(updates), 500):
        chunk = updates[start : start + 500]
        values = ", ".join(["(CAST(%s AS BIGINT), CAST(%s AS BIGINT), %s)"] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET rating_id = v.column2, grade = v.column3, updated_at = %s "
                f"FROM (VALUES {values}) AS v WHERE {table}.customer_id = v.column1",
                [now, *(value for row in chunk for value in row)],
            )
    _bulk_insert(
        table,
        STANDING_COLUMNS,
        [
            (customer_id, grade, rating_id, None, now)
            for customer_id, rating_id, grade in new
            if customer_id not in existing
        ],
    )
    existing.update(customer_id for customer_id, _rating, _grade in new)


def _grade_drop_tasks_open(
    drops: list[tuple[int, int, str, str, int]], *, today: dt.date, actor: User | None
) -> int:
    """Open re-survey tasks for (customer, owner, from, to, rating) drops in bulk, as
    reviews.credit_review_task_open does one by one: one open task per customer and reason."""
    if not drops:
        return 0
    already = set(
        CreditReviewTask.objects.filter(
            customer_id__in=[drop[0] for drop in drops],
            reason=ReviewReason.GRADE_DROP,
            state=TaskState.OPEN,
        ).values_list("customer_id", flat=True)
    )
    due_on = today + dt.timedelta(days=credit_settings_current()["review"]["task_due_days"])
    fresh = [drop for drop in drops if drop[0] not in already]
    tasks = CreditReviewTask.objects.bulk_create(
        CreditReviewTask(
            customer_id=customer_id,
            owner_id=owner_id,
            reason=ReviewReason.GRADE_DROP,
            detail={"from": before, "to": after, "rating": rating_id},
            due_on=due_on,
        )
        for customer_id, owner_id, before, after, rating_id in fresh
    )
    CreditEvent.objects.bulk_create(
        CreditEvent(
            kind=CreditEventKind.TASK_OPENED,
            actor=actor if actor is not None and actor.is_authenticated else None,
            customer_id=task.customer_id,
            after={"task": task.pk, "reason": task.reason, "due_on": due_on.isoformat()},
            reason=task.detail,
        )
        for task in tasks
    )
    return len(tasks)


def _batch_write(
    *,
    batch: list[tuple[int, dt.date | None, int]],
    loaded: LoadedTemplate,
    measures: Mapping[int, Mapping[str, Decimal | None]],
    surveys: Mapping[int, CreditSurvey],
    previous: Mapping[int, Previous],
    standing_ids: set[int],
    run: PeriodRun,
    actor: User | None,
    trigger: str,
    today: dt.date,
) -> None:
    """Score a batch of customers and write their ratings, items and standings in one
    transaction, with plain multi-row statements (the ORM's per-object work would dominate)."""
    rated_by_id = actor.pk if actor is not None and actor.is_authenticated else None
    template_id = loaded.template.pk
    now = timezone.now()
    scored_batch = []
    rating_rows = []
    for customer_id, _first, owner_id in batch:
        survey = surveys.get(customer_id)
        scored = score_customer(loaded, measures=measures[customer_id], survey=survey)
        before = previous.get(customer_id)
        score_change, grade_change = _changes(scored, before)
        scored_batch.append((customer_id, owner_id, scored, before, grade_change))
        rating_rows.append(
            (
                customer_id, template_id, survey.pk if survey else None, run.as_of, run.period,
                trigger, scored.score, scored.grade, before.rating_id if before else None,
                score_change, grade_change, scored.missing_count, rated_by_id, now,
            )
        )  # fmt: skip
    first, last = batch[0][0], batch[-1][0]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # A batch is resumable (the next run skips who is rated): no need to wait for its
            # WAL to reach the disk at commit; a crash loses at most the last batches.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        _bulk_insert(CreditRating._meta.db_table, RATING_COLUMNS, rating_rows)
        rating_ids = dict(
            CreditRating.objects.filter(
                period=run.period,
                trigger=trigger,
                rated_on=run.as_of,
                customer_id__gte=first,
                customer_id__lte=last,
            ).values_list("customer_id", "pk")
        )
        _bulk_insert(
            CreditRatingItem._meta.db_table,
            ITEM_COLUMNS,
            [
                (rating_ids[customer_id], item.indicator_id, item.value, item.choice,
                 item.is_missing, item.points)
                for customer_id, _owner, scored, _before, _change in scored_batch
                for item in scored.items
            ],
        )  # fmt: skip
        _standings_write(
            new=[
                (customer_id, rating_ids[customer_id], scored.grade)
                for customer_id, _owner, scored, _before, _change in scored_batch
            ],
            existing=standing_ids,
        )
        drops = [
            (customer_id, owner_id, before.grade, scored.grade, rating_ids[customer_id])
            for customer_id, owner_id, scored, before, change in scored_batch
            if before is not None and change is not None and change < 0
        ]
        run.tasks_opened += _grade_drop_tasks_open(drops, today=today, actor=actor)
    for _customer_id, _owner_id, scored, _before, change in scored_batch:
        run.rated += 1
        run.by_grade[scored.grade] += 1
        run.missing_inputs += scored.missing_count
        if change is not None and change > 0:
            run.rose += 1
        elif change is not None and change < 0:
            run.dropped += 1


def credit_ratings_run_period(
    *,
    as_of: dt.date | None = None,
    actor: User | None = None,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> PeriodRun:
    """Rate every customer that had bought by D (default: the end of the last quarter) or has
    a survey; customers already rated by the scheduled run of the period are skipped."""
    if not _may_rate(actor):
        raise PermissionDenied("only managers and finance may re-rate customers")
    started = time.perf_counter()
    today = timezone.localdate()
    as_of = as_of or previous_quarter_end(today)
    template = scorecard_template_ensure_default()
    loaded = template_load(template)
    run = PeriodRun(period=quarter_of(as_of), as_of=as_of, template_id=template.pk)
    trigger = RatingTrigger.SCHEDULED
    done = set(
        CreditRating.objects.filter(period=run.period, trigger=trigger).values_list(
            "customer_id", flat=True
        )
    )
    everyone = _customers_to_rate(as_of)
    customers = [row for row in everyone if row[0] not in done]
    run.skipped = len(everyone) - len(customers)
    total = len(customers)
    if progress is not None:
        progress(0, total)
    measures = ledger_measures(
        as_of=as_of,
        customers=[(customer_id, first) for customer_id, first, _owner in customers],
        all_customers=True,
    )
    surveys = _latest_surveys(as_of, None)
    previous = {
        customer_id: Previous(rating_id, score, grade)
        for customer_id, rating_id, score, grade in CustomerCredit.objects.filter(
            rating__isnull=False
        ).values_list("customer_id", "rating_id", "rating__score", "rating__grade")
    }
    standing_ids = set(CustomerCredit.objects.values_list("customer_id", flat=True))
    for start in range(0, total, batch_size):
        _batch_write(
            batch=customers[start : start + batch_size],
            loaded=loaded,
            measures=measures,
            surveys=surveys,
            previous=previous,
            standing_ids=standing_ids,
            run=run,
            actor=actor,
            trigger=trigger,
            today=today,
        )
        if progress is not None:
            progress(min(start + batch_size, total), total)
    run.seconds = time.perf_counter() - started
    with transaction.atomic():
        credit_event_record(
            kind=CreditEventKind.RATED,
            actor=actor,
            after=run.as_dict(),
            reason={"trigger": trigger},
        )
    return run
