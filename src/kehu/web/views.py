"""The page shell: sign in and out, and the home page."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kehu.customers.models import CustomerKind, Lifecycle
from kehu.web.selectors import dashboard_for


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django's rule): a link cannot sign anybody out."""


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    dashboard = dashboard_for(user=request.user, today=today)  # type: ignore[arg-type]
    lifecycle_rows = [
        (state, label, dashboard.by_lifecycle[state]) for state, label in Lifecycle.choices
    ]
    kind_rows = [(kind, label, dashboard.by_kind[kind]) for kind, label in CustomerKind.choices]
    chart_lifecycle = {
        "labels": [str(label) for _state, label, _count in lifecycle_rows],
        "keys": [state for state, _label, _count in lifecycle_rows],
        "values": [count for _state, _label, count in lifecycle_rows],
    }
    chart_orders = {
        "labels": [row.month.strftime("%Y-%m") for row in dashboard.orders_by_month],
        "amounts": [float(row.amount) for row in dashboard.orders_by_month],
        "counts": [row.count for row in dashboard.orders_by_month],
        "amount_label": _("Amount"),
        "count_label": _("Orders"),
    }
    return render(
        request,
        "web/home.html",
        {
            "dashboard": dashboard,
            "lifecycle_rows": lifecycle_rows,
            "kind_rows": kind_rows,
            "lifecycle_labels": dict(Lifecycle.choices),
            "chart_lifecycle": chart_lifecycle,
            "chart_orders": chart_orders,
            "today": today,
        },
    )
