"""The value panel of the customer card: the customer's classes in the latest snapshot with the
numbers that put it there, and its classes over the last periods (a fragment loaded with htmx,
so the card itself stays as fast as before)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET

from kehu.accounts.models import User
from kehu.core.errors import NotFound
from kehu.value.evidence import customer_value_evidence
from kehu.value.migration import class_label


@require_GET
def customer_value_panel(request: HttpRequest, customer_id: int) -> HttpResponse:
    """/value/customers/<id>/panel/: the classes with their evidence, and the history."""
    user: User = request.user  # type: ignore[assignment]
    try:
        found = customer_value_evidence(user=user, customer_id=customer_id)
    except NotFound as error:
        raise Http404(error.message) from error
    history = []
    if found is not None:
        history = [
            {
                "line": line,
                "pyramid": class_label("pyramid_class", line.pyramid_class),
                "money": class_label("money_class", line.money_class),
                "quadrant": class_label("quadrant", line.quadrant),
            }
            for line in found.history
        ]
    return render(
        request,
        "value/card_panel.html",
        {"found": found, "history": history, "customer_id": customer_id},
    )


urlpatterns: list[URLPattern] = [
    path("customers/<int:customer_id>/panel/", customer_value_panel, name="customer_panel"),
]
