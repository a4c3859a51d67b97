"""Customer pages: the list 客户列表 (search, filters, sort, pages, export) and the card."""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import asdict, dataclass
from decimal import Decimal

from django.conf import settings
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kehu.accounts.models import OrgUnit, User
from kehu.accounts.selectors import users_visible_to
from kehu.core.errors import NotFound
from kehu.customers import selectors
from kehu.customers.exports import EXCEL_MAX_ROWS, write_customer_workbook
from kehu.customers.models import Customer, CustomerKind, Lifecycle, Tag
from kehu.web.pagination import CappedPaginator

# Counting stops here: beyond it the list says "more than 10,000" (see CappedPaginator).
COUNT_CAP = 10_000
TAB_PAGE_SIZE = 20
# An export is written while the browser waits, at about 7,000 rows a second.
EXPORT_MAX_ROWS = 200_000
CARD_TABS = (
    "profile",
    "credit",
    "contacts",
    "orders",
    "invoices",
    "payments",
    "activities",
    "history",
)


def _page_size() -> int:
    return int(str(settings.KEHU["PAGE_SIZE"]))


def _export_limit() -> int:
    """Rows one export may hold: KEHU["EXPORT_MAX_ROWS"] (default 200,000, about half a minute
    of writing), never more than an Excel sheet holds."""
    configured = settings.KEHU.get("EXPORT_MAX_ROWS", EXPORT_MAX_ROWS)
    return min(int(str(configured)), EXCEL_MAX_ROWS)


def _positive_int(raw: str | None) -> int | None:
    try:
        value = int(raw or "")
    except ValueError:
        return None
    return value if value > 0 else None


@dataclass(frozen=True)
class CustomerFilters:
    """The list's query string, checked: unknown values are dropped, never passed on."""

    search: str = ""
    kind: str = ""
    lifecycle: str = ""
    region_id: int | None = None
    owner_id: int | None = None
    tag: str = ""
    sort: str = "code"

    @classmethod
    def from_query(cls, query: QueryDict) -> CustomerFilters:
        sort = query.get("sort", "code")
        if sort.lstrip("-") not in selectors.SORTABLE_FIELDS:
            sort = "code"
        kind = query.get("kind", "")
        lifecycle = query.get("lifecycle", "")
        return cls(
            search=query.get("q", "").strip()[:100],
            kind=kind if kind in CustomerKind.values else "",
            lifecycle=lifecycle if lifecycle in Lifecycle.values else "",
            region_id=_positive_int(query.get("region")),
            owner_id=_positive_int(query.get("owner")),
            tag=query.get("tag", "").strip()[:60],
            sort=sort,
        )

    @property
    def is_filtered(self) -> bool:
        return any(
            (self.search, self.kind, self.lifecycle, self.region_id, self.owner_id, self.tag)
        )

    def queryset(self, *, user: User, today: dt.date):  # type: ignore[no-untyped-def]
        return selectors.customer_list(user=user, today=today, **asdict(self))


@dataclass(frozen=True)
class CustomerRow:
    customer: Customer
    lifecycle: str
    lifecycle_label: str
    open_balance: Decimal


def _rows(customers: list[Customer], *, user: User, today: dt.date) -> list[CustomerRow]:
    balances = selectors.customer_open_balances(
        user=user, customer_ids=[customer.pk for customer in customers]
    )
    labels = dict(Lifecycle.choices)
    rows = []
    for customer in customers:
        state = customer.lifecycle_on(today)
        rows.append(
            CustomerRow(
                customer=customer,
                lifecycle=state,
                lifecycle_label=str(labels[state]),
                open_balance=balances[customer.pk],
            )
        )
    return rows


def _is_partial(request: HttpRequest, target: str) -> bool:
    htmx = getattr(request, "htmx", None)
    if not htmx:
        return False
    return not htmx.history_restore_request and htmx.target == target


@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    today = timezone.localdate()
    filters = CustomerFilters.from_query(request.GET)
    # Page over ids only (a narrow sort, no joins), then read the page's 50 rows by id.
    ids = filters.queryset(user=user, today=today).values_list("pk", flat=True)
    paginator = CappedPaginator(ids, _page_size(), cap=COUNT_CAP)
    page = paginator.get_page(request.GET.get("page"))
    customers = selectors.customers_in_order(user=user, ids=list(page.object_list))
    rows = _rows(customers, user=user, today=today)
    has_customers = bool(rows) or (
        filters.is_filtered and selectors.customers_visible_to(user).exists()
    )
    context = {
        "filters": filters,
        "page": page,
        "rows": rows,
        "is_capped": paginator.is_capped,
        "count_cap": COUNT_CAP,
        "has_customers": has_customers,
    }
    partial = _is_partial(request, "customer-results")
    if partial:
        response = render(
            request, "customers/partials/list_results.html", {**context, "is_partial": True}
        )
    else:
        context.update(_filter_options(user))
        response = render(request, "customers/list.html", context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _filter_options(user: User) -> dict[str, object]:
    owners = list(users_visible_to(user).order_by("display_name", "username"))
    # Org units, indented by depth (a customer's region is one of them).
    regions = [
        (unit.pk, "\u3000" * max(0, unit.path.count("/") - 2) + unit.name)
        for unit in OrgUnit.objects.order_by("path")
    ]
    return {
        "kinds": CustomerKind.choices,
        "lifecycles": Lifecycle.choices,
        "regions": regions,
        "owners": owners,
        "tags": list(Tag.objects.order_by("name").values_list("name", flat=True)),
    }


@require_GET
def customer_export(request: HttpRequest) -> HttpResponseBase:
    """All customers matching the list's current filter (not only one page), as .xlsx."""
    user: User = request.user  # type: ignore[assignment]
    today = timezone.localdate()
    filters = CustomerFilters.from_query(request.GET)
    queryset = filters.queryset(user=user, today=today)
    limit = _export_limit()
    if queryset.order_by()[: limit + 1].count() > limit:
        return render(request, "customers/export_too_large.html", {"limit": limit}, status=422)
    output = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    write_customer_workbook(output=output, user=user, customers=queryset, today=today)
    output.seek(0)
    filename = f"customers-{today.isoformat()}.xlsx"
    return FileResponse(
        output,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@require_GET
def customer_card(request: HttpRequest, customer_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    try:
        customer = selectors.customer_get_visible(user=user, customer_id=customer_id)
    except NotFound as error:
        raise Http404(error.message) from error
    today = timezone.localdate()
    tab = request.GET.get("tab", "profile")
    if tab not in CARD_TABS:
        tab = "profile"
    counts = selectors.customer_record_counts(customer=customer)
    context: dict[str, object] = {
        "customer": customer,
        "tab": tab,
        "tabs": _tabs(counts),
        "today": today,
        **_tab_context(request, tab=tab, customer=customer, counts=counts, today=today),
    }
    if _is_partial(request, "card-tabs"):
        return render(request, "customers/partials/card_tabs.html", context)
    figures = selectors.customer_key_figures(customer=customer, today=today)
    monthly = selectors.customer_monthly_purchases(customer=customer, today=today, months=24)
    state = customer.lifecycle_on(today)
    context.update(
        {
            "figures": figures,
            "lifecycle": state,
            "lifecycle_label": dict(Lifecycle.choices)[state],
            "chart_monthly": {
                "labels": [month.strftime("%Y-%m") for month, _amount in monthly],
                "amounts": [float(amount) for _month, amount in monthly],
                "series": _("Purchases"),
            },
            "credit_used_share": _share(figures.open_balance, customer.credit_limit),
        }
    )
    response = render(request, "customers/card.html", context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _share(part: Decimal, whole: Decimal) -> int | None:
    """Percentage of the credit limit in use, capped at 100 for the bar; None without a limit."""
    if whole <= 0:
        return None
    return max(0, min(100, int(part * 100 / whole)))


def _tabs(counts: selectors.CustomerRecordCounts) -> list[tuple[str, str, int | None]]:
    return [
        ("profile", _("Profile"), None),
        ("credit", _("Credit"), None),
        ("contacts", _("Contacts"), counts.contacts),
        ("orders", _("Orders"), counts.orders),
        ("invoices", _("Invoices"), counts.invoices),
        ("payments", _("Payments"), counts.payments),
        ("activities", _("Activities"), counts.activities),
        ("history", _("History"), counts.history),
    ]


def _tab_context(
    request: HttpRequest,
    *,
    tab: str,
    customer: Customer,
    counts: selectors.CustomerRecordCounts,
    today: dt.date,
) -> dict[str, object]:
    page_number = request.GET.get("page")
    if tab == "contacts":
        return _contacts_tab(customer, page_number, today)
    if tab == "invoices":
        return _invoices_tab(customer, page_number, today)
    if tab == "history":
        return _history_tab(customer, page_number, counts.history)
    listings = {
        "orders": selectors.customer_orders,
        "payments": selectors.customer_payments,
        "activities": selectors.customer_activities,
    }
    if tab in listings:
        rows = listings[tab](customer=customer)
        return {"page": Paginator(rows, TAB_PAGE_SIZE).get_page(page_number)}
    return {}


def _contacts_tab(customer: Customer, page_number: str | None, today: dt.date) -> dict[str, object]:
    page = Paginator(selectors.customer_contacts(customer=customer), TAB_PAGE_SIZE).get_page(
        page_number
    )
    contacts = []
    for contact in page.object_list:
        birthday = contact.next_birthday(today)
        days = (birthday - today).days if birthday else None
        contacts.append((contact, birthday, days))
    return {"page": page, "contacts": contacts}


def _invoices_tab(customer: Customer, page_number: str | None, today: dt.date) -> dict[str, object]:
    page = Paginator(selectors.customer_invoices(customer=customer), TAB_PAGE_SIZE).get_page(
        page_number
    )
    invoices = [
        (invoice, (today - invoice.due_date).days if invoice.is_overdue(today) else 0)
        for invoice in page.object_list
    ]
    return {"page": page, "invoices": invoices}


def _history_tab(customer: Customer, page_number: str | None, total: int) -> dict[str, object]:
    # The number of versions is known: page over a range of that length, read only one page.
    page = Paginator(range(total), TAB_PAGE_SIZE).get_page(page_number)
    entries = selectors.customer_history(
        customer=customer, offset=page.start_index() - 1 if total else 0, limit=TAB_PAGE_SIZE
    )
    return {"page": page, "entries": entries}
