"""Credit pages: ratings (domain §5.2). `urlpatterns` is included by credit/urls.py.

- /credit/: the overview — grade distribution chart, the rated customers (search, grade, owner,
  change, sort, pages) and their .xlsx export;
- /credit/customers/<id>/rating/: a customer's rating by group, its history, "rate now";
- /credit/customers/<id>/card/: the same, short, for the customer card's Credit tab (htmx);
- /credit/template/: the template in force, its versions, and a new version from JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from dataclasses import dataclass
from typing import Any

import xlsxwriter
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kehu.accounts.models import User
from kehu.accounts.selectors import users_visible_to
from kehu.core.errors import KehuError, NotFound
from kehu.credit.default_template import DEFAULT_TEMPLATE
from kehu.credit.events import refusals_logged
from kehu.credit.models import Grade, IndicatorSource
from kehu.credit.scorecard import mapping_in_words
from kehu.credit.selectors.ratings import (
    CHANGE_FILTERS,
    RATED_SORTS,
    credit_grade_distribution,
    credit_rated_customers,
    credit_rating_breakdown,
    credit_ratings_of_customer,
    rated_customers_in_order,
    scorecard_template_in_force,
    scorecard_templates,
)
from kehu.credit.services.ratings import credit_rating_run, scorecard_template_create
from kehu.customers.selectors import customer_get_visible
from kehu.web.pagination import CappedPaginator

COUNT_CAP = 10_000
HISTORY_ROWS = 12
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GRADE_COLOURS = {"AAA": "#1b7f4b", "AA": "#3a9d5d", "A": "#7bb661", "B": "#e0a030", "C": "#c8443a"}


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _page_size() -> int:
    return int(str(settings.KEHU["PAGE_SIZE"]))


def _export_limit() -> int:
    return int(str(settings.KEHU.get("EXPORT_MAX_ROWS", 100_000)))


def _is_partial(request: HttpRequest, target: str) -> bool:
    htmx = getattr(request, "htmx", None)
    if not htmx:
        return False
    return not htmx.history_restore_request and htmx.target == target


def may_rate(user: User) -> bool:
    return bool(user.sees_all or user.is_manager)


def may_edit_template(user: User) -> bool:
    return bool(user.sees_all)


def _customer(user: User, customer_id: int) -> Any:
    try:
        return customer_get_visible(user=user, customer_id=customer_id)
    except NotFound as error:
        raise Http404(error.message) from error


# --- The overview ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverviewFilters:
    search: str = ""
    grade: str = ""
    owner_id: int | None = None
    change: str = ""
    sort: str = "code"  # as the column headers assume (kehu.sort_header)

    @classmethod
    def from_query(cls, query: QueryDict) -> OverviewFilters:
        owner = query.get("owner", "")
        sort = query.get("sort", "code")
        return cls(
            search=query.get("q", "").strip()[:100],
            grade=query.get("grade", "") if query.get("grade", "") in Grade.values else "",
            owner_id=int(owner) if owner.isdigit() and len(owner) < 19 else None,
            change=query.get("change", "") if query.get("change", "") in CHANGE_FILTERS else "",
            sort=sort if sort.lstrip("-") in RATED_SORTS else "code",
        )

    @property
    def is_filtered(self) -> bool:
        return bool(self.search or self.grade or self.owner_id or self.change)

    def queryset(self, user: User) -> Any:
        return credit_rated_customers(
            user=user,
            search=self.search,
            grade=self.grade,
            owner_id=self.owner_id,
            change=self.change,
            sort=self.sort,
        )


def _chart(distribution: list[Any]) -> dict[str, Any]:
    return {
        "grades": [row.grade for row in distribution],
        "counts": [row.count for row in distribution],
        "colours": [GRADE_COLOURS[row.grade] for row in distribution],
        "labels": {"customers": _("Customers")},
        "urls": [f"{reverse('credit:overview')}?grade={row.grade}" for row in distribution],
    }


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """/credit/: grades of the visible customers and the rated customers' list."""
    user = _user(request)
    filters = OverviewFilters.from_query(request.GET)
    ids = filters.queryset(user).values_list("pk", flat=True)
    paginator = CappedPaginator(ids, _page_size(), cap=COUNT_CAP)
    page = paginator.get_page(request.GET.get("page"))
    customers = rated_customers_in_order(ids=list(page.object_list))
    distribution = credit_grade_distribution(user=user)
    rated_total = sum(row.count for row in distribution)
    context = {
        "filters": filters,
        "page": page,
        "customers": customers,
        "is_capped": paginator.is_capped,
        "count_cap": COUNT_CAP,
        "distribution": distribution,
        "rated_total": rated_total,
        "chart_grades": _chart(distribution),
        "grades": Grade.values,
        "change_choices": [("dropped", _("Grade dropped")), ("rose", _("Grade rose"))],
    }
    if _is_partial(request, "rating-results"):
        response = render(
            request, "credit/ratings_overview_results.html", {**context, "is_partial": True}
        )
    else:
        context["owners"] = list(users_visible_to(user).order_by("display_name", "username"))
        response = render(request, "credit/ratings_overview.html", context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


@require_GET
def overview_export(request: HttpRequest) -> HttpResponseBase:
    """Every rated customer matching the overview's filter (not only one page), as .xlsx."""
    user = _user(request)
    filters = OverviewFilters.from_query(request.GET)
    queryset = filters.queryset(user)
    limit = _export_limit()
    if queryset.order_by()[: limit + 1].count() > limit:
        return HttpResponse(
            _("More than %(limit)s customers match: narrow the filter.") % {"limit": limit},
            status=422,
            content_type="text/plain; charset=utf-8",
        )
    output = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    workbook = xlsxwriter.Workbook(output, {"constant_memory": True})
    sheet = workbook.add_worksheet(_("Ratings"))
    bold = workbook.add_format({"bold": True, "bg_color": "#EEF0F4", "bottom": 1})
    points = workbook.add_format({"num_format": "0.00"})
    dated = workbook.add_format({"num_format": "yyyy-mm-dd"})
    header = [
        _("Customer code"), _("Name"), _("Owner rep"), _("Grade"), _("Score"),
        _("Score change"), _("Grade change"), _("Missing inputs"), _("As of"), _("Period"),
        _("Template version"),
    ]  # fmt: skip
    sheet.set_column(0, 0, 14)
    sheet.set_column(1, 1, 36)
    sheet.set_column(2, len(header), 13)
    for column, title in enumerate(header):
        sheet.write_string(0, column, str(title), bold)
    sheet.freeze_panes(1, 2)
    rows = queryset.select_related("owner", "credit__rating__template")
    for line, customer in enumerate(rows.iterator(chunk_size=2000), start=1):
        rating = customer.credit.rating
        sheet.write_string(line, 0, customer.code)
        sheet.write_string(line, 1, customer.name)
        sheet.write_string(line, 2, str(customer.owner))
        sheet.write_string(line, 3, rating.grade)
        sheet.write_number(line, 4, float(rating.score), points)
        if rating.score_change is not None:
            sheet.write_number(line, 5, float(rating.score_change), points)
        if rating.grade_change is not None:
            sheet.write_number(line, 6, rating.grade_change)
        sheet.write_number(line, 7, rating.missing_count)
        sheet.write_datetime(line, 8, dt.datetime.combine(rating.rated_on, dt.time()), dated)
        sheet.write_string(line, 9, rating.period)
        sheet.write_number(line, 10, rating.template.version)
    workbook.close()
    output.seek(0)
    return FileResponse(
        output,
        as_attachment=True,
        filename=f"credit-ratings-{timezone.localdate().isoformat()}.xlsx",
        content_type=XLSX,
    )


# --- A customer's rating -------------------------------------------------------------------------


def _rating_context(user: User, customer_id: int) -> dict[str, Any]:
    customer = _customer(user, customer_id)
    breakdown = credit_rating_breakdown(user=user, customer_id=customer.pk)
    history = list(credit_ratings_of_customer(user=user, customer_id=customer.pk)[:HISTORY_ROWS])
    return {
        "customer": customer,
        "breakdown": breakdown,
        "history": history,
        "may_rate": may_rate(user),
        "today": timezone.localdate(),
    }


@require_GET
def customer_rating(request: HttpRequest, customer_id: int) -> HttpResponse:
    """/credit/customers/<id>/rating/: the latest rating by group, and the history."""
    context = _rating_context(_user(request), customer_id)
    return render(request, "credit/ratings_customer.html", context)


@require_GET
def card_tab(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The Credit tab of the customer card (a fragment loaded with htmx)."""
    context = _rating_context(_user(request), customer_id)
    return render(request, "credit/card_rating.html", context)


@require_POST
def rating_run(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Rate now (managers and finance); back to the rating page with the outcome."""
    user = _user(request)
    customer = _customer(user, customer_id)
    if not may_rate(user):
        raise DjangoPermissionDenied(_("Only managers and finance may rate a customer."))
    try:
        with refusals_logged(action="credit_rating_run", actor=user, customer=customer):
            rating = credit_rating_run(customer=customer, actor=user)
    except KehuError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("%(customer)s is rated %(grade)s with %(score)s points.")
            % {"customer": customer.name, "grade": rating.grade, "score": rating.score},
        )
    target = request.POST.get("next", "")
    if target == "card":
        return redirect(f"{reverse('customers:card', args=[customer.pk])}?tab=credit")
    return redirect("credit:customer_rating", customer_id=customer.pk)


# --- The template --------------------------------------------------------------------------------

SOURCE_LABELS = dict(IndicatorSource.choices)


def _template_rows(template: Any) -> list[dict[str, Any]]:
    units = {"avg_days_beyond_terms": " d", "oldest_overdue_days": " d", "years_trading": " y"}
    language = "zh" if (get_language() or "zh-hans").lower().startswith("zh") else "en"
    rows = []
    for group in template.groups.all():
        indicators = [
            {
                "indicator": indicator,
                "source": SOURCE_LABELS.get(indicator.source, indicator.source),
                "words": mapping_in_words(
                    indicator.mapping, unit=units.get(indicator.measure, ""), language=language
                ),
            }
            for indicator in group.indicators.all()
        ]
        rows.append({"group": group, "indicators": indicators})
    return rows


@require_http_methods(["GET", "POST"])
def template_page(request: HttpRequest) -> HttpResponse:
    """/credit/template/: the template in force, its versions; a new version from JSON."""
    user = _user(request)
    may_edit = may_edit_template(user)
    definition_text = ""
    error: KehuError | None = None
    status = 200
    if request.method == "POST":
        if not may_edit:
            raise DjangoPermissionDenied(
                _("Only finance, top management or an administrator may change the template.")
            )
        upload = request.FILES.get("file")
        definition_text = (
            upload.read().decode("utf-8", errors="replace")
            if upload is not None
            else request.POST.get("definition", "")
        )
        try:
            with refusals_logged(action="scorecard_template_create", actor=user):
                try:
                    definition = json.loads(definition_text)
                except json.JSONDecodeError as decode_error:
                    raise KehuError(
                        _("The definition is not valid JSON: %(error)s") % {"error": decode_error},
                        detail={"field": "definition"},
                    ) from decode_error
                created = scorecard_template_create(definition=definition, actor=user)
        except KehuError as refused:
            error = refused
            status = 422
        else:
            messages.success(
                request,
                _("Version %(version)s of %(name)s is now in force.")
                % {"version": created.version, "name": created.name},
            )
            return redirect("credit:template")
    template = scorecard_template_in_force()
    if not definition_text:
        definition_text = json.dumps(
            _definition_of(template) if template is not None else DEFAULT_TEMPLATE,
            ensure_ascii=False,
            indent=2,
        )
    context = {
        "template": template,
        "rows": _template_rows(template) if template is not None else [],
        "versions": list(scorecard_templates()[:50]),
        "may_edit": may_edit,
        "definition_text": definition_text,
        "error": error,
    }
    return render(request, "credit/ratings_template.html", context, status=status)


def _definition_of(template: Any) -> dict[str, Any]:
    """A template as a definition (to start a new version from)."""
    return {
        "code": template.code,
        "name": template.name,
        "total_points": str(template.total_points),
        "grade_bands": template.grade_bands,
        "notes": template.notes,
        "groups": [
            {
                "code": group.code,
                "name": group.name,
                "name_en": group.name_en,
                "points": str(group.points),
                "indicators": [
                    {
                        "code": indicator.code,
                        "name": indicator.name,
                        "name_en": indicator.name_en,
                        "points": str(indicator.points),
                        "source": indicator.source,
                        "measure": indicator.measure,
                        "is_financial": indicator.is_financial,
                        "mapping": indicator.mapping,
                        "missing_points": str(indicator.missing_points),
                    }
                    for indicator in group.indicators.all()
                ],
            }
            for group in template.groups.all()
        ],
    }


urlpatterns: list[URLPattern] = [
    path("", overview, name="overview"),
    path("ratings/export/", overview_export, name="ratings_export"),
    path("customers/<int:customer_id>/rating/", customer_rating, name="customer_rating"),
    path("customers/<int:customer_id>/rating/run/", rating_run, name="rating_run"),
    path("customers/<int:customer_id>/card/", card_tab, name="card_tab"),
    path("template/", template_page, name="template"),
]
