"""Credit pages: the survey form and detail, the credit line application form, the list of
applications (search, filters, sorting, paging, .xlsx export), an application with its
decision form and history, a customer's lines and securities, and my re-survey tasks.

Every refused change goes through credit/events.py `refusals_logged`, so the credit log keeps
the attempt while nothing changed; the page shows the message on the field it names."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kehu.accounts.models import User
from kehu.core.errors import KehuError, NotFound
from kehu.credit.events import refusals_logged
from kehu.credit.models import (
    ApplicationState,
    AttachmentKind,
    CreditLineApplication,
    CreditSurvey,
    CreditSurveyAttachment,
    SecurityKind,
    TaskState,
)
from kehu.credit.selectors import lines as line_selectors
from kehu.credit.selectors.settings import credit_settings_current
from kehu.credit.selectors.surveys import (
    survey_get_visible,
    survey_latest,
    survey_ratios,
    surveys_of,
)
from kehu.credit.services import lines as line_services
from kehu.credit.services.reviews import credit_review_task_close
from kehu.credit.services.surveys import (
    DISPUTES_KEY,
    MAX_DISPUTES,
    SURVEY_FIGURES,
    credit_survey_attachment_add,
    credit_survey_record,
    question_choices,
    survey_questions,
)
from kehu.customers.models import Customer
from kehu.customers.selectors import customer_get_visible, related_visible_to
from kehu.receivables.views.collections import _xlsx

APPLICATION_SORTS = {
    "applied_on": "applied_on",
    "customer": "customer__code",
    "requested": "requested_amount",
    "state": "state",
}
FACT_PREFIX = "fact_"


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _customer(request: HttpRequest, customer_id: int) -> Customer:
    try:
        return customer_get_visible(user=_user(request), customer_id=customer_id)
    except NotFound as error:
        raise Http404(error.message) from error


def _page_size() -> int:
    from django.conf import settings

    return int(str(settings.KEHU["PAGE_SIZE"]))


def _attach_error(
    form: forms.Form, error: KehuError, aliases: dict[str, str] | None = None
) -> None:
    """Put a service's refusal on the field it names, or on the form."""
    field_name = error.detail.get("field") if isinstance(error.detail, dict) else None
    field_name = str(field_name) if field_name else None
    if field_name and field_name.startswith("facts."):
        field_name = FACT_PREFIX + field_name.removeprefix("facts.")
    if aliases and field_name in aliases:
        field_name = aliases[field_name]
    form.add_error(field_name if field_name in form.fields else None, error.message)


# --- The survey ---------------------------------------------------------------------------------

FIGURE_LABELS = {
    "quick_assets": gettext_lazy("Quick assets"),
    "current_assets": gettext_lazy("Current assets"),
    "current_liabilities": gettext_lazy("Current liabilities"),
    "total_assets_start": gettext_lazy("Total assets at the start of the year"),
    "total_assets_end": gettext_lazy("Total assets at the end of the year"),
    "total_liabilities": gettext_lazy("Total liabilities"),
    "sales_revenue": gettext_lazy("Sales revenue"),
    "net_profit": gettext_lazy("Net profit"),
    "equity": gettext_lazy("Owners' equity"),
    "capital_year_1": gettext_lazy("Capital three years ago"),
    "capital_year_2": gettext_lazy("Capital two years ago"),
    "capital_year_3": gettext_lazy("Capital last year"),
    "profit_year_1": gettext_lazy("Profit three years ago"),
    "profit_year_2": gettext_lazy("Profit two years ago"),
    "profit_year_3": gettext_lazy("Profit last year"),
}


class SurveyForm(forms.Form):
    surveyed_on = forms.DateField(
        label=gettext_lazy("Surveyed on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    fiscal_year = forms.IntegerField(
        label=gettext_lazy("Fiscal year of the statements"),
        required=False,
        min_value=1900,
        max_value=9999,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in SURVEY_FIGURES:
            self.fields[name] = forms.DecimalField(
                label=FIGURE_LABELS[name],
                required=False,
                max_digits=18,
                decimal_places=2,
                help_text=gettext_lazy("Yuan; leave blank when unknown"),
            )
        self.questions = survey_questions()
        for question in self.questions:
            self.fields[FACT_PREFIX + question.measure] = forms.ChoiceField(
                label=question.name,
                required=False,
                choices=[("", "—"), *question_choices(question)],
            )
        self.fields[FACT_PREFIX + DISPUTES_KEY] = forms.IntegerField(
            label=gettext_lazy("Disputes in the last three years"),
            required=False,
            min_value=0,
            max_value=MAX_DISPUTES,
            help_text=gettext_lazy(
                "Lawsuits, arbitration and serious quarrels over payment; blank when unknown"
            ),
        )
        self.fields["bank_opinion"] = forms.CharField(
            label=gettext_lazy("The bank's opinion"),
            required=False,
            max_length=4000,
            widget=forms.Textarea(attrs={"rows": 3}),
        )
        self.fields["notes"] = forms.CharField(
            label=gettext_lazy("Notes"),
            required=False,
            max_length=4000,
            widget=forms.Textarea(attrs={"rows": 3}),
        )
        self.fields["statements"] = forms.FileField(
            label=gettext_lazy("Financial statements"),
            required=False,
            help_text=gettext_lazy("PDF, image or Office file, up to 10 MB"),
        )
        self.fields["bank_letter"] = forms.FileField(
            label=gettext_lazy("Bank's letter"), required=False
        )

    def figure_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in SURVEY_FIGURES]

    def fact_fields(self) -> list[forms.BoundField]:
        questions = [self[FACT_PREFIX + question.measure] for question in self.questions]
        return [*questions, self[FACT_PREFIX + DISPUTES_KEY]]

    def other_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("bank_opinion", "notes", "statements", "bank_letter")]


@require_http_methods(["GET", "POST"])
def survey_new(request: HttpRequest, customer_id: int) -> HttpResponse:
    user = _user(request)
    customer = _customer(request, customer_id)
    today = timezone.localdate()
    form = SurveyForm(
        request.POST or None,
        request.FILES or None,
        initial={"surveyed_on": today, "fiscal_year": today.year - 1},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                with (
                    refusals_logged(action="survey_record", actor=user, customer=customer),
                    transaction.atomic(),
                ):
                    survey = credit_survey_record(
                        customer=customer,
                        actor=user,
                        surveyed_on=data["surveyed_on"],
                        fiscal_year=data["fiscal_year"],
                        figures={name: data[name] for name in SURVEY_FIGURES},
                        facts={
                            name.removeprefix(FACT_PREFIX): value
                            for name, value in data.items()
                            if name.startswith(FACT_PREFIX)
                        },
                        bank_opinion=data["bank_opinion"],
                        notes=data["notes"],
                        today=today,
                    )
                    for field_name, kind in (
                        ("statements", AttachmentKind.STATEMENT),
                        ("bank_letter", AttachmentKind.BANK_LETTER),
                    ):
                        if data[field_name]:
                            try:
                                credit_survey_attachment_add(
                                    survey=survey,
                                    actor=user,
                                    upload=data[field_name],
                                    kind=kind,
                                )
                            except KehuError as error:
                                error.detail = {"field": field_name}
                                raise
                messages.success(request, _("The survey is recorded."))
                return redirect("credit:survey_detail", survey.pk)
            except KehuError as error:
                _attach_error(form, error)
        status = 422
    context = {
        "customer": customer,
        "form": form,
        "surveys": surveys_of(user=user, customer=customer)[:10],
    }
    return render(request, "credit/survey_form.html", context, status=status)


class AttachmentForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=AttachmentKind.choices)
    file = forms.FileField(
        label=gettext_lazy("File"), help_text=gettext_lazy("PDF, image or Office file, up to 10 MB")
    )


@require_http_methods(["GET", "POST"])
def survey_detail(request: HttpRequest, survey_id: int) -> HttpResponse:
    user = _user(request)
    try:
        survey = survey_get_visible(user=user, survey_id=survey_id)
    except NotFound as error:
        raise Http404(error.message) from error
    form = AttachmentForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                with refusals_logged(
                    action="survey_attachment_add", actor=user, customer=survey.customer
                ):
                    credit_survey_attachment_add(
                        survey=survey,
                        actor=user,
                        upload=form.cleaned_data["file"],
                        kind=form.cleaned_data["kind"],
                    )
                messages.success(request, _("The file is attached."))
                return redirect("credit:survey_detail", survey.pk)
            except KehuError as error:
                _attach_error(form, error)
        status = 422
    questions = {question.measure: question for question in survey_questions()}
    facts = []
    for key, value in survey.facts.items():
        question = questions.get(key)
        labels = dict(question_choices(question)) if question is not None else {}
        if key == DISPUTES_KEY:
            name = _("Disputes in the last three years")
        else:
            name = question.name if question is not None else key
        facts.append((name, labels.get(value, value)))
    context = {
        "survey": survey,
        "customer": survey.customer,
        "figures": [(FIGURE_LABELS[name], getattr(survey, name)) for name in SURVEY_FIGURES],
        "ratios": survey_ratios(survey),
        "facts": facts,
        "attachments": survey.attachments.all(),
        "form": form,
    }
    return render(request, "credit/survey_detail.html", context, status=status)


@require_GET
def survey_attachment(request: HttpRequest, attachment_id: int) -> FileResponse:
    attachment = (
        CreditSurveyAttachment.objects.filter(
            pk=attachment_id,
            survey__in=related_visible_to(_user(request), CreditSurvey.objects.all()),
        )
        .select_related("survey")
        .first()
    )
    if attachment is None:
        raise Http404(_("attachment not found"))
    return FileResponse(
        attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name
    )


# --- The application form -----------------------------------------------------------------------


class SurveyChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A survey is chosen by its date and who made it, not by its number."""

    def label_from_instance(self, obj: CreditSurvey) -> str:
        return _("Survey of %(date)s by %(person)s") % {
            "date": obj.surveyed_on.isoformat(),
            "person": obj.surveyed_by,
        }


class ApplicationForm(forms.Form):
    requested_amount = forms.DecimalField(
        label=gettext_lazy("Requested line"), min_value=0, max_digits=18, decimal_places=2
    )
    payment_terms_days = forms.IntegerField(
        label=gettext_lazy("Payment terms (days)"), min_value=0, max_value=365
    )
    valid_until = forms.DateField(
        label=gettext_lazy("Valid until"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    temporary_amount = forms.DecimalField(
        label=gettext_lazy("Temporary increase"),
        required=False,
        min_value=0,
        max_digits=18,
        decimal_places=2,
    )
    temporary_from = forms.DateField(
        label=gettext_lazy("Temporary increase from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    temporary_until = forms.DateField(
        label=gettext_lazy("Temporary increase until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    survey: forms.ModelChoiceField[CreditSurvey] = SurveyChoiceField(
        label=gettext_lazy("Credit survey"), queryset=CreditSurvey.objects.none(), required=False
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    bank_opinion = forms.CharField(
        label=gettext_lazy("The bank's opinion"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    APPLICATION_TERMS = (
        "requested_amount",
        "payment_terms_days",
        "valid_until",
        "temporary_amount",
        "temporary_from",
        "temporary_until",
        "reason",
        "survey",
        "bank_opinion",
    )

    def application_terms(self) -> dict[str, Any]:
        """The cleaned terms, as `credit_line_application_submit` takes them."""
        return {name: self.cleaned_data[name] for name in self.APPLICATION_TERMS}


@require_http_methods(["GET", "POST"])
def application_new(request: HttpRequest, customer_id: int) -> HttpResponse:
    user = _user(request)
    customer = _customer(request, customer_id)
    today = timezone.localdate()
    proposal = line_services.credit_line_propose(customer=customer, as_of=today)
    latest = survey_latest(customer=customer)
    months = int(credit_settings_current()["line_validity_months"])
    initial = {
        "requested_amount": proposal.amount,
        "payment_terms_days": customer.payment_terms_days,
        "valid_until": today + relativedelta(months=months) - dt.timedelta(days=1),
        "survey": latest,
    }
    form = ApplicationForm(request.POST or None, initial=initial)
    form.fields["survey"].queryset = surveys_of(user=user, customer=customer)  # type: ignore[attr-defined]
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                with refusals_logged(action="application_submit", actor=user, customer=customer):
                    application = line_services.credit_line_application_submit(
                        customer=customer,
                        applied_by=user,
                        **form.application_terms(),
                        today=today,
                    )
                messages.success(request, _("The application is submitted."))
                return redirect("credit:application_detail", application.pk)
            except KehuError as error:
                _attach_error(form, error)
        status = 422
    context = {
        "customer": customer,
        "form": form,
        "proposal": proposal,
        "grade": proposal.grade,
        "survey": latest,
        "ratios": survey_ratios(latest) if latest is not None else [],
        "line": line_selectors.line_in_force(customer=customer),
    }
    return render(request, "credit/application_form.html", context, status=status)


# --- Applications list --------------------------------------------------------------------------


def _application_filters(request: HttpRequest) -> dict[str, Any]:
    state = request.GET.get("state", "")
    sort = request.GET.get("sort", "-applied_on")
    if sort.lstrip("-") not in APPLICATION_SORTS:
        sort = "-applied_on"
    return {
        "q": request.GET.get("q", "").strip()[:100],
        "state": state if state in ApplicationState.values else "",
        "waiting": request.GET.get("waiting") == "1",
        "sort": sort,
    }


def _applications(user: User, filters: dict[str, Any]) -> Any:
    if filters["waiting"]:
        queryset = line_selectors.applications_waiting_for(user)
    else:
        queryset = line_selectors.applications_visible_to(user)
    if filters["state"]:
        queryset = queryset.filter(state=filters["state"])
    if filters["q"]:
        q = filters["q"]
        queryset = queryset.filter(
            Q(customer__code__icontains=q)
            | Q(customer__name__icontains=q)
            | Q(group__code__icontains=q)
            | Q(group__name__icontains=q)
        )
    key = filters["sort"]
    field = APPLICATION_SORTS[key.lstrip("-")]
    order = f"-{field}" if key.startswith("-") else field
    return queryset.order_by(order, "-id")


@require_GET
def applications(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    filters = _application_filters(request)
    page = Paginator(_applications(user, filters), _page_size()).get_page(request.GET.get("page"))
    for application in page.object_list:
        application.required_role_label = line_selectors.role_label(application.required_role)
    context = {
        "filters": filters,
        "is_filtered": bool(filters["q"] or filters["state"] or filters["waiting"]),
        "page": page,
        "rows": list(page.object_list),
        "states": ApplicationState.choices,
        "target": "application-results",
    }
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.history_restore_request and htmx.target == "application-results":
        return render(request, "credit/application_results.html", {**context, "is_partial": True})
    return render(request, "credit/application_list.html", context)


@require_GET
def applications_export(request: HttpRequest) -> FileResponse:
    user = _user(request)
    filters = _application_filters(request)
    states = dict(ApplicationState.choices)

    def rows() -> Any:
        for application in _applications(user, filters).iterator(chunk_size=1000):
            subject = application.customer or application.group
            yield (
                application.pk,
                application.applied_on,
                getattr(subject, "code", ""),
                getattr(subject, "name", ""),
                str(application.applied_by),
                application.proposed_amount,
                application.requested_amount,
                application.temporary_amount,
                application.payment_terms_days,
                application.valid_until,
                str(states.get(application.state, application.state)),
                line_selectors.role_label(application.required_role),
                str(application.decided_by or ""),
                application.approved_amount,
            )

    return _xlsx(
        filename=f"credit-applications-{timezone.localdate().isoformat()}.xlsx",
        sheet=_("Credit line applications"),
        columns=[
            (_("No."), 8),
            (_("Applied on"), 12),
            (_("Code"), 14),
            (_("Customer or group"), 30),
            (_("Applied by"), 14),
            (_("Proposed line"), 16),
            (_("Requested line"), 16),
            (_("Temporary increase"), 16),
            (_("Payment terms (days)"), 10),
            (_("Valid until"), 12),
            (_("State"), 14),
            (_("Approver role"), 16),
            (_("Decided by"), 14),
            (_("Approved line"), 16),
        ],
        rows=rows(),
    )


# --- One application ------------------------------------------------------------------------------


class DecisionForm(forms.Form):
    action = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[
            ("approve", gettext_lazy("Approve")),
            ("cut", gettext_lazy("Approve a lower line")),
            ("refuse", gettext_lazy("Refuse")),
            ("return", gettext_lazy("Send back")),
        ],
    )
    amount = forms.DecimalField(
        label=gettext_lazy("Approved line (for a cut)"),
        required=False,
        min_value=0,
        max_digits=18,
        decimal_places=2,
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ResubmitForm(ApplicationForm):
    pass


def _application(request: HttpRequest, application_id: int) -> CreditLineApplication:
    try:
        return line_selectors.application_get_visible(
            user=_user(request), application_id=application_id
        )
    except NotFound as error:
        raise Http404(error.message) from error


def _history_note(event: Any) -> str:
    reason = event.reason if isinstance(event.reason, dict) else {}
    if event.kind == "refused":
        return str(reason.get("message", ""))
    return str(reason.get("comment") or reason.get("reason") or "")


@require_http_methods(["GET", "POST"])
def application_detail(request: HttpRequest, application_id: int) -> HttpResponse:
    user = _user(request)
    application = _application(request, application_id)
    today = timezone.localdate()
    total = application.requested_amount + (application.temporary_amount or Decimal(0))
    may_decide = (
        application.state == ApplicationState.SUBMITTED
        and application.applied_by_id != user.pk
        and line_selectors.user_may_approve(user, total)
    )
    is_applicant = application.applied_by_id == user.pk
    which = request.POST.get("form", "") if request.method == "POST" else ""
    decision_form = DecisionForm(request.POST if which == "decision" else None, prefix="decision")
    resubmit_form = None
    if is_applicant and application.state == ApplicationState.RETURNED:
        resubmit_form = ResubmitForm(
            request.POST if which == "resubmit" else None,
            prefix="resubmit",
            initial={
                "requested_amount": application.requested_amount,
                "payment_terms_days": application.payment_terms_days,
                "valid_until": application.valid_until,
                "temporary_amount": application.temporary_amount,
                "temporary_from": application.temporary_from,
                "temporary_until": application.temporary_until,
                "survey": application.survey,
                "reason": application.reason,
                "bank_opinion": application.bank_opinion,
            },
        )
        queryset = (
            surveys_of(user=user, customer=application.customer)
            if application.customer is not None
            else CreditSurvey.objects.none()
        )
        resubmit_form.fields["survey"].queryset = queryset  # type: ignore[attr-defined]
    status = 200
    if request.method == "POST":
        form: forms.Form | None = {
            "decision": decision_form,
            "resubmit": resubmit_form,
            "withdraw": forms.Form(request.POST),
        }.get(which)
        if form is None:
            return HttpResponse(status=400)
        if form.is_valid():
            data = form.cleaned_data
            action = {"decision": f"application_{data.get('action', '')}"}.get(
                which, f"application_{which}"
            )
            try:
                with refusals_logged(
                    action=action,
                    actor=user,
                    customer=application.customer,
                    group=application.group,
                    application=application,
                ):
                    if which == "decision":
                        line_services.credit_line_application_decide(
                            application=application,
                            approver=user,
                            action=data["action"],
                            amount=data["amount"],
                            comment=data["comment"],
                            today=today,
                        )
                    elif which == "resubmit":
                        line_services.credit_line_application_resubmit(
                            application=application,
                            actor=user,
                            requested_amount=data["requested_amount"],
                            payment_terms_days=data["payment_terms_days"],
                            valid_until=data["valid_until"],
                            temporary_amount=data["temporary_amount"],
                            temporary_from=data["temporary_from"],
                            temporary_until=data["temporary_until"],
                            reason=data["reason"],
                            bank_opinion=data["bank_opinion"],
                            survey=data["survey"],
                            today=today,
                        )
                    else:
                        line_services.credit_line_application_withdraw(
                            application=application, actor=user
                        )
                messages.success(request, _("Saved."))
                return redirect("credit:application_detail", application.pk)
            except KehuError as error:
                _attach_error(form, error)
                messages.error(request, error.message)
        status = 422
    survey = application.survey
    proposal = (
        line_services.credit_line_propose(
            customer=application.customer,
            as_of=application.applied_on,
            payment_terms_days=application.payment_terms_days,
        )
        if application.customer is not None
        else None
    )
    context = {
        "application": application,
        "total": total,
        "required_role_label": line_selectors.role_label(application.required_role),
        "grade": line_selectors.grade_of(application.customer) if application.customer else "",
        "survey": survey,
        "ratios": survey_ratios(survey) if survey is not None else [],
        "proposal": proposal,
        "history": [
            (event, _history_note(event))
            for event in line_selectors.application_history(application)
        ],
        "may_decide": may_decide,
        "is_applicant": is_applicant,
        "may_withdraw": is_applicant and application.is_open,
        "decision_form": decision_form,
        "resubmit_form": resubmit_form,
    }
    return render(request, "credit/application_detail.html", context, status=status)


# --- A customer's lines and securities ------------------------------------------------------------


class SecurityForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=SecurityKind.choices)
    description = forms.CharField(label=gettext_lazy("Description"), max_length=255)
    amount = forms.DecimalField(
        label=gettext_lazy("Secured amount"), min_value=0, max_digits=18, decimal_places=2
    )
    valid_from = forms.DateField(
        label=gettext_lazy("Valid from"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    valid_until = forms.DateField(
        label=gettext_lazy("Valid until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


@require_http_methods(["GET", "POST"])
def customer_lines(request: HttpRequest, customer_id: int) -> HttpResponse:
    user = _user(request)
    customer = _customer(request, customer_id)
    today = timezone.localdate()
    may_record = user.sees_all or user.is_manager
    form = SecurityForm(request.POST or None, initial={"valid_from": today})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                with refusals_logged(action="security_record", actor=user, customer=customer):
                    line_services.credit_security_record(
                        customer=customer, actor=user, **form.cleaned_data
                    )
                messages.success(request, _("The security is recorded."))
                return redirect("credit:lines", customer.pk)
            except KehuError as error:
                _attach_error(form, error)
                messages.error(request, error.message)
        status = 422
    lines = list(line_selectors.lines_of(user=user, customer=customer)[:50])
    context = {
        "customer": customer,
        "lines": [(line, line.amount_on(today)) for line in lines],
        "securities": related_visible_to(
            user, customer.credit_securities.select_related("recorded_by")
        )[:50],
        "applications": line_selectors.applications_visible_to(user).filter(customer=customer)[:20],
        "surveys": surveys_of(user=user, customer=customer)[:10],
        "form": form,
        "may_record": may_record,
        "today": today,
    }
    return render(request, "credit/line_list.html", context, status=status)


# --- My re-survey tasks ---------------------------------------------------------------------------


@require_GET
def tasks(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    state = request.GET.get("state", TaskState.OPEN)
    if state not in TaskState.values:
        state = TaskState.OPEN
    page = Paginator(line_selectors.tasks_of(user=user, state=state), _page_size()).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "rows": list(page.object_list),
        "state": state,
        "states": TaskState.choices,
        "today": timezone.localdate(),
        "target": "task-results",
    }
    return render(request, "credit/tasks_list.html", context)


@require_POST
def task_close(request: HttpRequest, task_id: int) -> HttpResponse:
    user = _user(request)
    try:
        task = line_selectors.task_get_for(user=user, task_id=task_id)
    except NotFound as error:
        raise Http404(error.message) from error
    state = request.POST.get("state", TaskState.DONE)
    try:
        with refusals_logged(action="task_close", actor=user, customer=task.customer):
            credit_review_task_close(
                task=task, actor=user, state=state, note=request.POST.get("note", "")[:4000]
            )
        messages.success(request, _("The task is closed."))
    except KehuError as error:
        messages.error(request, error.message)
    return redirect(reverse("credit:tasks"))


urlpatterns = [
    path("customers/<int:customer_id>/survey/new/", survey_new, name="survey_new"),
    path("surveys/<int:survey_id>/", survey_detail, name="survey_detail"),
    path(
        "surveys/attachments/<int:attachment_id>/",
        survey_attachment,
        name="survey_attachment",
    ),
    path("customers/<int:customer_id>/apply/", application_new, name="application_new"),
    path("customers/<int:customer_id>/lines/", customer_lines, name="lines"),
    path("applications/", applications, name="applications"),
    path("applications/export.xlsx", applications_export, name="applications_export"),
    path("applications/<int:application_id>/", application_detail, name="application_detail"),
    path("tasks/", tasks, name="tasks"),
    path("tasks/<int:task_id>/close/", task_close, name="task_close"),
]
