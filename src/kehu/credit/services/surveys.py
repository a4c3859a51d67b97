"""The credit survey 客户信用状况调查表 (§5.1): a customer's statement lines and the non-financial
facts on a date, with the statements and the bank's letter attached.

Impossible figures are refused with a message naming the field: a negative amount where the
statements cannot hold one, liabilities with no assets, quick assets beyond current assets,
current assets beyond total assets, current liabilities beyond total liabilities, a turnover
from a zero average of total assets. Facts are checked against the survey questions of the
scorecard template in force (its `survey_choice` indicators and their choice tables); with no
template in force they are kept as given.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.core.errors import PermissionDenied, ValidationFailed
from kehu.credit.default_template import DISPUTES_FACT
from kehu.credit.events import credit_event_record
from kehu.credit.models import (
    AttachmentKind,
    CreditEventKind,
    CreditSurvey,
    CreditSurveyAttachment,
    IndicatorSource,
    ScorecardIndicator,
)
from kehu.customers.models import Customer
from kehu.customers.selectors import customers_visible_to

# The statement lines of the survey, in the order of the form.
SURVEY_FIGURES: tuple[str, ...] = (
    "quick_assets",
    "current_assets",
    "current_liabilities",
    "total_assets_start",
    "total_assets_end",
    "total_liabilities",
    "sales_revenue",
    "net_profit",
    "equity",
    "capital_year_1",
    "capital_year_2",
    "capital_year_3",
    "profit_year_1",
    "profit_year_2",
    "profit_year_3",
)
# Lines a balance sheet or an income statement never shows below zero (profit and equity may).
NOT_NEGATIVE_FIGURES = frozenset(
    {
        "quick_assets",
        "current_assets",
        "current_liabilities",
        "total_assets_start",
        "total_assets_end",
        "total_liabilities",
        "sales_revenue",
        "capital_year_1",
        "capital_year_2",
        "capital_year_3",
    }
)
MAX_AMOUNT = Decimal("9999999999999999.99")

ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
# Allowed file types by extension, with the first bytes each must start with (None: any).
ATTACHMENT_TYPES: dict[str, tuple[bytes, ...] | None] = {
    ".pdf": (b"%PDF",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".xlsx": (b"PK\x03\x04",),
    ".docx": (b"PK\x03\x04",),
    ".xls": (b"\xd0\xcf\x11\xe0",),
    ".doc": (b"\xd0\xcf\x11\xe0",),
}


def _field_label(field: str) -> str:
    try:
        return str(getattr(CreditSurvey._meta.get_field(field), "verbose_name", field))
    except FieldDoesNotExist:  # not a column of the survey: the name as given
        return field


def _field_error(field: str, message: str) -> ValidationFailed:
    """A refusal naming the field: its label for people, its name in the detail."""
    return ValidationFailed(f"{_field_label(field)}: {message}", detail={"field": field})


def _amount(field: str, raw: Any) -> Decimal | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise _field_error(field, _("%(value)r is not an amount") % {"value": raw})
    try:
        value = Decimal(str(raw).replace(",", "").strip()) if not isinstance(raw, Decimal) else raw
    except (InvalidOperation, ValueError) as error:
        raise _field_error(field, _("%(value)r is not an amount") % {"value": raw}) from error
    if not value.is_finite():
        raise _field_error(field, _("%(value)r is not an amount") % {"value": raw})
    if abs(value) > MAX_AMOUNT:
        raise _field_error(field, _("the amount is too large"))
    if value != value.quantize(Decimal("0.01")):
        raise _field_error(field, _("an amount has at most two decimals"))
    return value.quantize(Decimal("0.01"))


def survey_figures_clean(figures: dict[str, Any]) -> dict[str, Decimal | None]:
    """The statement lines as Decimals (None when unknown), or ValidationFailed naming the
    first impossible field."""
    unknown = sorted(set(figures) - set(SURVEY_FIGURES))
    if unknown:
        raise ValidationFailed(
            _("unknown survey figures: %(names)s") % {"names": ", ".join(unknown)},
            detail={"field": unknown[0]},
        )
    values = {name: _amount(name, figures.get(name)) for name in SURVEY_FIGURES}
    for name in SURVEY_FIGURES:
        value = values[name]
        if name in NOT_NEGATIVE_FIGURES and value is not None and value < 0:
            raise _field_error(name, _("this figure cannot be negative"))
    assets = values["total_assets_end"]
    liabilities = values["total_liabilities"]
    if liabilities is not None and liabilities > 0 and assets is not None and assets == 0:
        raise _field_error(
            "total_assets_end", _("liabilities with no assets: enter the total assets")
        )
    current_liabilities = values["current_liabilities"]
    if current_liabilities and current_liabilities > 0 and assets is not None and assets == 0:
        raise _field_error(
            "total_assets_end", _("liabilities with no assets: enter the total assets")
        )
    quick, current = values["quick_assets"], values["current_assets"]
    if quick is not None and current is not None and quick > current:
        raise _field_error("quick_assets", _("quick assets cannot exceed current assets"))
    if current is not None and assets is not None and current > assets:
        raise _field_error(
            "current_assets", _("current assets cannot exceed total assets at the end of the year")
        )
    if (
        current_liabilities is not None
        and liabilities is not None
        and current_liabilities > (liabilities)
    ):
        raise _field_error(
            "current_liabilities", _("current liabilities cannot exceed total liabilities")
        )
    start = values["total_assets_start"]
    revenue = values["sales_revenue"]
    if (
        revenue is not None
        and revenue > 0
        and start is not None
        and assets is not None
        and start + assets == 0
    ):
        raise _field_error(
            "total_assets_start",
            _("a turnover from a zero average of total assets: enter the total assets"),
        )
    return values


def survey_questions() -> list[ScorecardIndicator]:
    """The survey questions of the template in force (its entered-in-the-survey indicators),
    in the template's order; empty when no template is in force."""
    return list(
        ScorecardIndicator.objects.filter(
            group__template__is_active=True, source=IndicatorSource.SURVEY_CHOICE
        )
        .select_related("group")
        .order_by("group__position", "position", "id")
    )


def question_choices(indicator: ScorecardIndicator) -> list[tuple[str, str]]:
    """(value, label) of the answers an indicator accepts, best first (most points), so the
    order does not depend on how the database keeps the JSON keys."""
    mapping = indicator.mapping if isinstance(indicator.mapping, dict) else {}
    choices = mapping.get("choices") or {}
    labels = mapping.get("labels") or {}

    def points(key: str) -> Decimal:
        try:
            return Decimal(str(choices[key]))
        except (InvalidOperation, ValueError):
            return Decimal(0)

    ordered = sorted(choices, key=lambda key: (-points(key), str(key)))
    return [(str(key), str(labels.get(key, key))) for key in ordered]


# The number of disputes (lawsuits, arbitration, serious quarrels over payment) in the last
# three years: entered in the survey, added to the bad debts Kehu counts (default_template.py).
DISPUTES_KEY = DISPUTES_FACT
MAX_DISPUTES = 999


def survey_facts_clean(facts: dict[str, Any]) -> dict[str, str]:
    """The answers, checked against the template in force when there is one. An empty answer
    is no answer (the rating shows it as missing)."""
    if not isinstance(facts, dict):
        raise ValidationFailed(_("the facts must be a mapping"), detail={"field": "facts"})
    answers = {
        str(key): str(value).strip()
        for key, value in facts.items()
        if value is not None and str(value).strip()
    }
    if DISPUTES_KEY in answers:
        disputes = answers[DISPUTES_KEY]
        if not disputes.isdigit() or int(disputes) > MAX_DISPUTES:
            raise ValidationFailed(
                _("disputes: %(value)r is not a whole number of disputes 0–%(max)s")
                % {"value": disputes, "max": MAX_DISPUTES},
                detail={"field": f"facts.{DISPUTES_KEY}"},
            )
        answers[DISPUTES_KEY] = str(int(disputes))
    questions = survey_questions()
    if not questions:
        return answers
    allowed = {question.measure: question for question in questions}
    for key, value in answers.items():
        if key == DISPUTES_KEY:
            continue
        question = allowed.get(key)
        if question is None:
            raise ValidationFailed(
                _("%(key)s: not a question of the survey in force") % {"key": key},
                detail={"field": f"facts.{key}"},
            )
        accepted = [choice for choice, _label in question_choices(question)]
        if value not in accepted:
            raise ValidationFailed(
                _("%(question)s: %(value)r is not an answer; choose one of %(choices)s")
                % {"question": question.name, "value": value, "choices": ", ".join(accepted)},
                detail={"field": f"facts.{key}", "choices": accepted},
            )
    return answers


def _check_sees(actor: User, customer: Customer) -> None:
    if not customers_visible_to(actor).filter(pk=customer.pk).exists():
        raise PermissionDenied(
            _("you cannot see customer %(code)s") % {"code": customer.code},
            detail={"customer_id": customer.pk},
        )


@transaction.atomic
def credit_survey_record(
    *,
    customer: Customer,
    actor: User,
    surveyed_on: dt.date,
    figures: dict[str, Any],
    facts: dict[str, Any],
    fiscal_year: int | None = None,
    bank_opinion: str = "",
    notes: str = "",
    today: dt.date | None = None,
) -> CreditSurvey:
    """Record a survey of a customer the actor sees; writes a "survey_recorded" event."""
    _check_sees(actor, customer)
    if today is not None and surveyed_on > today:
        raise _field_error("surveyed_on", _("the survey date is in the future"))
    if fiscal_year is not None and not 1900 <= fiscal_year <= surveyed_on.year:
        raise _field_error(
            "fiscal_year", _("%(year)s is not a past fiscal year") % {"year": fiscal_year}
        )
    values = survey_figures_clean(figures)
    answers = survey_facts_clean(facts)
    survey = CreditSurvey.objects.create(
        customer=customer,
        surveyed_on=surveyed_on,
        surveyed_by=actor,
        fiscal_year=fiscal_year,
        facts=answers,
        bank_opinion=bank_opinion.strip(),
        notes=notes.strip(),
        **values,
    )
    credit_event_record(
        kind=CreditEventKind.SURVEY_RECORDED,
        actor=actor,
        customer=customer,
        after={
            "survey": survey.pk,
            "surveyed_on": surveyed_on.isoformat(),
            "figures": {name: str(value) for name, value in values.items() if value is not None},
            "facts": answers,
        },
    )
    return survey


def _check_upload(upload: UploadedFile) -> str:
    name = PurePath(upload.name or "").name
    suffix = PurePath(name).suffix.lower()
    if not name or suffix not in ATTACHMENT_TYPES:
        raise ValidationFailed(
            _("%(name)s: attach a file of type %(types)s")
            % {"name": name or _("the file"), "types": ", ".join(sorted(ATTACHMENT_TYPES))},
            detail={"field": "file"},
        )
    if upload.size is None or upload.size == 0:
        raise ValidationFailed(
            _("%(name)s: the file is empty") % {"name": name}, detail={"field": "file"}
        )
    if upload.size > ATTACHMENT_MAX_BYTES:
        raise ValidationFailed(
            _("%(name)s: the file is larger than %(size)s MB")
            % {"name": name, "size": ATTACHMENT_MAX_BYTES // (1024 * 1024)},
            detail={"field": "file"},
        )
    magic = ATTACHMENT_TYPES[suffix]
    if magic is not None:
        upload.seek(0)
        head = upload.read(16)
        upload.seek(0)
        if not any(head.startswith(prefix) for prefix in magic):
            raise ValidationFailed(
                _("%(name)s: the content is not a %(suffix)s file")
                % {"name": name, "suffix": suffix},
                detail={"field": "file"},
            )
    return name


@transaction.atomic
def credit_survey_attachment_add(
    *, survey: CreditSurvey, actor: User, upload: UploadedFile, kind: str = AttachmentKind.OTHER
) -> CreditSurveyAttachment:
    """Attach the statements, the bank's letter or another paper to a survey."""
    _check_sees(actor, survey.customer)
    if kind not in AttachmentKind.values:
        raise ValidationFailed(
            _("kind: %(kind)r is not one of %(kinds)s")
            % {"kind": kind, "kinds": ", ".join(AttachmentKind.values)},
            detail={"field": "kind"},
        )
    name = _check_upload(upload)
    attachment = CreditSurveyAttachment(
        survey=survey, kind=kind, original_name=name[:255], uploaded_by=actor
    )
    attachment.file.save(name, upload, save=False)
    attachment.save()
    return attachment
