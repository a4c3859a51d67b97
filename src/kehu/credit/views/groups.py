"""Credit group pages (§5.3): related companies, a group and its subsidiaries, sharing one group
line that is checked as well as each member's own line.

The list of groups the user sees (search, sorting, paging, .xlsx export, a form for a new
group), one group with its members, lines, exposure against its line and applications, and the
application for a group line. The rules live in the services (credit/services/lines.py) and
the selectors; every refused change goes through `refusals_logged` and shows the service's
message."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kehu.accounts.models import User
from kehu.core.errors import KehuError
from kehu.core.money import ZERO
from kehu.credit.events import refusals_logged
from kehu.credit.models import (
    OPEN_APPLICATION_STATES,
    CreditEvent,
    CreditGroup,
    CreditLine,
    CreditLineApplication,
    CreditLineState,
    CreditSurvey,
    CustomerCredit,
)
from kehu.credit.selectors import lines as line_selectors
from kehu.credit.selectors.exposure import exposure_of
from kehu.credit.selectors.settings import credit_settings_current
from kehu.credit.services import lines as line_services
from kehu.credit.views.lines import ApplicationForm, _attach_error, _customer, _page_size, _user
from kehu.customers.models import Customer
from kehu.customers.selectors import customers_visible_to, related_visible_to
from kehu.receivables.views.collections import _xlsx

GROUP_SORTS = ("code", "name", "members", "line", "valid_until", "exposure", "share", "open")
# Sorted in the database; the others (exposure, share used) are computed per group.
DATABASE_SORTS = {
    "code": "code",
    "name": "name",
    "members": "member_count",
    "open": "open_applications",
}
HUNDRED = Decimal(100)


def _may_manage(user: User) -> bool:
    """Whether to offer the forms that change groups (the service decides, and says why not)."""
    return bool(user.sees_all or user.is_manager)


def _group(request: HttpRequest, group_id: int) -> CreditGroup:
    """A group the user sees (every member, by the selector's rule). A group without members
    yet is shown to those who may fill it, so that a new group can get its members."""
    user = _user(request)
    group = CreditGroup.objects.filter(pk=group_id).first()
    if group is not None:
        if line_selectors.group_visible_to(user, group):
            return group
        if _may_manage(user) and not line_selectors.group_member_ids(group):
            return group
    raise Http404(_("credit group %(number)s not found") % {"number": group_id})


# --- Figures of a group -------------------------------------------------------------------------


@dataclass
class GroupRow:
    group: CreditGroup
    member_ids: list[int]
    line: CreditLine | None  # the group line in force (state active)
    line_today: Decimal | None  # what it allows today (None: no line)
    exposure: Decimal
    open_applications: int

    @property
    def member_count(self) -> int:
        return len(self.member_ids)

    @property
    def share_used(self) -> Decimal | None:
        """The group exposure as a percentage of the line allowed today."""
        if not self.line_today:
            return None
        return (self.exposure * HUNDRED / self.line_today).quantize(Decimal("0.1"))

    @property
    def meter_width(self) -> Decimal:
        return min(self.share_used or ZERO, HUNDRED)

    @property
    def available(self) -> Decimal | None:
        if self.line_today is None:
            return None
        return max(self.line_today - self.exposure, ZERO)


def _group_rows(groups: list[CreditGroup], today: dt.date) -> list[GroupRow]:
    """The members, line in force, exposure and open applications of each group."""
    ids = [group.pk for group in groups]
    members: dict[int, list[int]] = {group_id: [] for group_id in ids}
    for group_id, customer_id in (
        CustomerCredit.objects.filter(group_id__in=ids)
        .order_by("customer_id")
        .values_list("group_id", "customer_id")
    ):
        members[group_id].append(customer_id)
    lines = {
        line.group_id: line
        for line in CreditLine.objects.filter(
            group_id__in=ids, state=CreditLineState.ACTIVE
        ).order_by("id")
    }
    open_counts = Counter(
        CreditLineApplication.objects.filter(
            group_id__in=ids, state__in=OPEN_APPLICATION_STATES
        ).values_list("group_id", flat=True)
    )
    rows = []
    for group in groups:
        line = lines.get(group.pk)
        member_ids = members[group.pk]
        rows.append(
            GroupRow(
                group=group,
                member_ids=member_ids,
                line=line,
                line_today=line.amount_on(today) if line is not None else None,
                exposure=exposure_of(customer_ids=member_ids).total if member_ids else ZERO,
                open_applications=open_counts.get(group.pk, 0),
            )
        )
    return rows


def _sort_key(key: str) -> Any:
    def value(row: GroupRow) -> tuple[bool, Any]:
        figure: Any = {
            "line": row.line.amount if row.line is not None else None,
            "valid_until": row.line.valid_until if row.line is not None else None,
            "exposure": row.exposure,
            "share": row.share_used,
        }[key]
        return (figure is None, figure if figure is not None else 0)

    return value


# --- The list -----------------------------------------------------------------------------------


def _filters(request: HttpRequest) -> dict[str, Any]:
    sort = request.GET.get("sort", "code")
    if sort.lstrip("-") not in GROUP_SORTS:
        sort = "code"
    return {"q": request.GET.get("q", "").strip()[:100], "sort": sort}


def _visible(user: User) -> QuerySet[CreditGroup]:
    """The groups of the selector, and for those who may fill them the groups with no member
    yet (as on the group's page)."""
    visible = line_selectors.groups_visible_to(user)
    if user.sees_all or not _may_manage(user):
        return visible
    empty = CreditGroup.objects.exclude(
        Exists(CustomerCredit.objects.filter(group=OuterRef("pk")))
    ).values("pk")
    return CreditGroup.objects.filter(Q(pk__in=visible.values("pk")) | Q(pk__in=empty))


def _groups(user: User, filters: dict[str, Any]) -> QuerySet[CreditGroup]:
    queryset = _visible(user)
    if filters["q"]:
        q = filters["q"]
        member = CustomerCredit.objects.filter(group=OuterRef("pk")).filter(
            Q(customer__name__icontains=q) | Q(customer__code__icontains=q)
        )
        queryset = queryset.filter(Q(code__icontains=q) | Q(name__icontains=q) | Exists(member))
    queryset = queryset.annotate(
        member_count=Count("members", distinct=True),
        open_applications=Count(
            "applications",
            filter=Q(applications__state__in=OPEN_APPLICATION_STATES),
            distinct=True,
        ),
    )
    key = filters["sort"].lstrip("-")
    if key in DATABASE_SORTS:
        field = DATABASE_SORTS[key]
        queryset = queryset.order_by(f"-{field}" if filters["sort"].startswith("-") else field)
    return queryset.order_by(*queryset.query.order_by, "code", "id")


def _sorted_rows(user: User, filters: dict[str, Any], today: dt.date) -> list[GroupRow]:
    """All the groups' rows in the order asked for (the figures are computed per group)."""
    rows = _group_rows(list(_groups(user, filters)), today)
    key = filters["sort"].lstrip("-")
    if key not in DATABASE_SORTS:
        present = [row for row in rows if _sort_key(key)(row)[0] is False]
        missing = [row for row in rows if _sort_key(key)(row)[0] is True]
        present.sort(key=_sort_key(key), reverse=filters["sort"].startswith("-"))
        rows = present + missing
    return rows


class GroupForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Group code"), max_length=40)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    notes = forms.CharField(
        label=gettext_lazy("Notes"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


@require_http_methods(["GET", "POST"])
def groups(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    today = timezone.localdate()
    form = GroupForm(request.POST or None, prefix="group")
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                with refusals_logged(action="group_create", actor=user):
                    group = line_services.credit_group_create(
                        code=data["code"], name=data["name"], notes=data["notes"], actor=user
                    )
                messages.success(
                    request,
                    _("Group %(code)s is created: add its members.") % {"code": group.code},
                )
                return redirect("credit:group_detail", group.pk)
            except KehuError as error:
                _attach_error(form, error)
                messages.error(request, error.message)
        status = 422
    filters = _filters(request)
    paginator: Paginator[Any]
    if filters["sort"].lstrip("-") in DATABASE_SORTS:
        paginator = Paginator(_groups(user, filters), _page_size())
        page = paginator.get_page(request.GET.get("page"))
        rows = _group_rows(list(page.object_list), today)
    else:
        paginator = Paginator(_sorted_rows(user, filters, today), _page_size())
        page = paginator.get_page(request.GET.get("page"))
        rows = list(page.object_list)
    context = {
        "filters": filters,
        "is_filtered": bool(filters["q"]),
        "page": page,
        "rows": rows,
        "form": form,
        "may_manage": _may_manage(user),
        "show_form": status == 422,
        "today": today,
    }
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.history_restore_request and htmx.target == "group-results":
        return render(request, "credit/groups_results.html", {**context, "is_partial": True})
    return render(request, "credit/groups_list.html", context, status=status)


@require_GET
def groups_export(request: HttpRequest) -> FileResponse:
    user = _user(request)
    today = timezone.localdate()
    filters = _filters(request)
    rows = _sorted_rows(user, filters, today)
    names = dict(
        Customer.objects.filter(pk__in=[pk for row in rows for pk in row.member_ids]).values_list(
            "pk", "code"
        )
    )

    def lines() -> Any:
        for row in rows:
            yield (
                row.group.code,
                row.group.name,
                row.member_count,
                ", ".join(names.get(pk, "") for pk in row.member_ids),
                row.line.amount if row.line is not None else None,
                row.line.valid_from if row.line is not None else None,
                row.line.valid_until if row.line is not None else None,
                row.line_today,
                row.exposure,
                float(row.share_used) if row.share_used is not None else None,
                row.open_applications,
            )

    return _xlsx(
        filename=f"credit-groups-{today.isoformat()}.xlsx",
        sheet=_("Credit groups"),
        columns=[
            (_("Group code"), 14),
            (_("Name"), 30),
            (_("Members"), 10),
            (_("Member codes"), 30),
            (_("Group line"), 16),
            (_("Valid from"), 12),
            (_("Valid until"), 12),
            (_("Line in force today"), 16),
            (_("Group exposure"), 16),
            (_("Share used (%)"), 12),
            (_("Open applications"), 12),
        ],
        rows=lines(),
    )


# --- One group ----------------------------------------------------------------------------------


class MemberForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Customer code"),
        max_length=40,
        widget=forms.TextInput(attrs={"list": "group-member-choices", "autocomplete": "off"}),
    )


def _member_rows(row: GroupRow, today: dt.date) -> list[dict[str, Any]]:
    customers = Customer.objects.in_bulk(row.member_ids)
    standings = CustomerCredit.objects.in_bulk(row.member_ids)
    own_lines = {
        line.customer_id: line
        for line in CreditLine.objects.filter(
            customer_id__in=row.member_ids, state=CreditLineState.ACTIVE
        )
    }
    members: list[dict[str, Any]] = []
    for customer_id in row.member_ids:
        line = own_lines.get(customer_id)
        exposure = exposure_of(customer_ids=[customer_id]).total
        standing = standings.get(customer_id)
        members.append(
            {
                "customer": customers[customer_id],
                "line": line,
                "line_today": line.amount_on(today) if line is not None else None,
                "exposure": exposure,
                "share": (exposure * HUNDRED / row.exposure).quantize(Decimal("0.1"))
                if row.exposure
                else None,
                "grade": standing.grade if standing is not None else "",
            }
        )
    members.sort(key=lambda member: (-member["exposure"], member["customer"].code))
    return members


def _chart(row: GroupRow, members: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "members": [
            {
                "code": member["customer"].code,
                "name": member["customer"].name,
                "exposure": float(member["exposure"]),
            }
            for member in members
        ],
        "line": float(row.line_today) if row.line_today is not None else None,
        "exposure": float(row.exposure),
        "labels": {
            "exposure": _("Group exposure"),
            "line": _("Group line"),
            "share": _("share of the group exposure"),
        },
    }


@require_http_methods(["GET", "POST"])
def group_detail(request: HttpRequest, group_id: int) -> HttpResponse:
    user = _user(request)
    group = _group(request, group_id)
    today = timezone.localdate()
    form = MemberForm(request.POST or None, prefix="member")
    status = 200
    move_from: CreditGroup | None = None
    if request.method == "POST":
        if form.is_valid():
            code = form.cleaned_data["code"].strip()
            customer = customers_visible_to(user).filter(code=code).first()
            standing = (
                CustomerCredit.objects.filter(customer=customer).select_related("group").first()
            )
            current = standing.group if standing is not None else None
            if customer is None:
                form.add_error(
                    "code", _("no customer with the code %(code)s that you see") % {"code": code}
                )
            elif current == group:
                form.add_error(
                    "code",
                    _("%(code)s is already a member of this group") % {"code": customer.code},
                )
            elif current is not None and request.POST.get("member-confirm") != "1":
                # The service moves a customer from its group into this one; say so first.
                move_from = current
            else:
                try:
                    with refusals_logged(
                        action="group_member_set", actor=user, customer=customer, group=group
                    ):
                        line_services.credit_group_member_set(
                            customer=customer, group=group, actor=user
                        )
                    if current is not None:
                        messages.success(
                            request,
                            _("%(customer)s moved from group %(old)s into this group.")
                            % {"customer": customer.code, "old": current.code},
                        )
                    else:
                        messages.success(
                            request,
                            _("%(customer)s is added to the group.") % {"customer": customer.code},
                        )
                    return redirect("credit:group_detail", group.pk)
                except KehuError as error:
                    _attach_error(form, error, aliases={"customer": "code"})
                    messages.error(request, error.message)
        status = 422 if move_from is None else 200
    row = _group_rows([group], today)[0]
    members = _member_rows(row, today)
    lines = list(
        CreditLine.objects.filter(group=group)
        .select_related("approved_by", "application")
        .order_by("-valid_from", "-id")[:50]
    )
    events = (
        CreditEvent.objects.filter(group=group)
        .filter(Q(customer__isnull=True) | Q(customer__in=customers_visible_to(user)))
        .select_related("actor", "customer")
        .order_by("-occurred_at", "-id")[:30]
    )
    choices = (
        customers_visible_to(user)
        .exclude(pk__in=row.member_ids)
        .order_by("code")
        .values_list("code", "name")[:200]
        if _may_manage(user)
        else []
    )
    context = {
        "group": group,
        "row": row,
        "members": members,
        "lines": [(line, line.amount_on(today)) for line in lines],
        "applications": line_selectors.applications_visible_to(user).filter(group=group)[:50],
        "events": events,
        "chart": _chart(row, members),
        "form": form,
        "move_from": move_from,
        "may_manage": _may_manage(user),
        "member_choices": choices,
        "today": today,
    }
    return render(request, "credit/group_detail.html", context, status=status)


@require_POST
def group_member_remove(request: HttpRequest, group_id: int, customer_id: int) -> HttpResponse:
    user = _user(request)
    group = _group(request, group_id)
    customer = Customer.objects.filter(pk=customer_id, credit__group=group).first()
    if customer is None:
        raise Http404(
            _("customer %(number)s is not a member of this group") % {"number": customer_id}
        )
    try:
        with refusals_logged(action="group_member_set", actor=user, customer=customer, group=group):
            line_services.credit_group_member_set(customer=customer, group=None, actor=user)
        messages.success(
            request,
            _("%(customer)s is taken out of the group.") % {"customer": customer.code},
        )
    except KehuError as error:
        messages.error(request, error.message)
    if not line_selectors.group_visible_to(user, group) and not _may_manage(user):
        return redirect("credit:groups")
    return redirect("credit:group_detail", group.pk)


@require_GET
def customer_group(request: HttpRequest, customer_id: int) -> HttpResponse:
    """From a customer (its lines, its card) to its group, when the user sees the group."""
    customer = _customer(request, customer_id)
    standing = CustomerCredit.objects.filter(customer=customer).select_related("group").first()
    group = standing.group if standing is not None else None
    if group is None:
        messages.info(request, _("%(code)s is in no credit group.") % {"code": customer.code})
        return redirect("credit:lines", customer.pk)
    if not line_selectors.group_visible_to(_user(request), group):
        messages.info(
            request,
            _(
                "%(customer)s is in group %(group)s, but you do not see all of its members, so "
                "the group is not shown to you."
            )
            % {"customer": customer.code, "group": group.code},
        )
        return redirect("credit:lines", customer.pk)
    return redirect("credit:group_detail", group.pk)


# --- Applying for a group line ------------------------------------------------------------------


def _terms_of(group: CreditGroup, line: CreditLine | None, member_ids: list[int]) -> int:
    """The payment terms offered first: the group line's, else the members' most common."""
    if line is not None:
        return line.payment_terms_days
    terms = Counter(
        Customer.objects.filter(pk__in=member_ids).values_list("payment_terms_days", flat=True)
    )
    return terms.most_common(1)[0][0] if terms else 30


@require_http_methods(["GET", "POST"])
def group_application_new(request: HttpRequest, group_id: int) -> HttpResponse:
    user = _user(request)
    group = _group(request, group_id)
    today = timezone.localdate()
    row = _group_rows([group], today)[0]
    months = int(credit_settings_current()["line_validity_months"])
    terms = _terms_of(group, row.line, row.member_ids)
    initial: dict[str, Any] = {
        "payment_terms_days": terms,
        "valid_until": today + relativedelta(months=months) - dt.timedelta(days=1),
    }
    form = ApplicationForm(request.POST or None, initial=initial)
    form.fields["survey"].queryset = related_visible_to(  # type: ignore[attr-defined]
        user, CreditSurvey.objects.filter(customer_id__in=row.member_ids).select_related("customer")
    ).order_by("-surveyed_on", "-id")
    form.fields["survey"].label_from_instance = lambda survey: (  # type: ignore[attr-defined]
        f"{survey.customer.code} {survey.surveyed_on:%Y-%m-%d}"
    )
    form.fields["survey"].help_text = _("A survey of one of the members, if one goes with it")
    for name in ("valid_until", "temporary_from", "temporary_until"):
        # A date input takes ISO dates whatever the language's date format.
        form.fields[name].widget.format = "%Y-%m-%d"  # type: ignore[attr-defined]
    if request.method == "POST" and form.is_valid():
        terms = form.cleaned_data["payment_terms_days"]
    members = Customer.objects.filter(pk__in=row.member_ids).order_by("code")
    proposals = [
        (
            member,
            line_services.credit_line_propose(
                customer=member, as_of=today, payment_terms_days=terms
            ),
        )
        for member in members
    ]
    proposed = line_services.credit_group_line_propose(
        group=group, as_of=today, payment_terms_days=terms
    )
    if not form.is_bound:
        form.initial["requested_amount"] = proposed
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                with refusals_logged(action="application_submit", actor=user, group=group):
                    application = line_services.credit_line_application_submit(
                        group=group,
                        applied_by=user,
                        **form.application_terms(),
                        today=today,
                    )
                messages.success(
                    request,
                    _("The application is submitted; it waits for a %(role)s.")
                    % {"role": line_selectors.role_label(application.required_role)},
                )
                return redirect("credit:application_detail", application.pk)
            except KehuError as error:
                _attach_error(form, error)
                messages.error(request, error.message)
        status = 422
    context = {
        "group": group,
        "row": row,
        "form": form,
        "proposals": proposals,
        "proposed": proposed,
        "terms": terms,
        "open_application": line_selectors.applications_visible_to(user)
        .filter(group=group, state__in=OPEN_APPLICATION_STATES)
        .first(),
    }
    return render(request, "credit/group_application_form.html", context, status=status)


urlpatterns = [
    path("groups/", groups, name="groups"),
    path("groups/export.xlsx", groups_export, name="groups_export"),
    path("groups/<int:group_id>/", group_detail, name="group_detail"),
    path(
        "groups/<int:group_id>/members/<int:customer_id>/remove/",
        group_member_remove,
        name="group_member_remove",
    ),
    path("groups/<int:group_id>/apply/", group_application_new, name="group_application_new"),
    path("customers/<int:customer_id>/group/", customer_group, name="customer_group"),
]
