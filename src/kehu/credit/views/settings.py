"""Credit pages: the credit settings (which events check credit, the tolerance, when a customer
goes on hold, the re-survey triggers, the line proposal and the accountability shares).
Everyone may read them; finance, top management and administrators change them, each change a
new version with its reason. `urlpatterns` is included by credit/urls.py."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from kehu.accounts.models import User
from kehu.core.errors import KehuError
from kehu.credit.events import refusals_logged
from kehu.credit.selectors.settings import credit_settings_current, credit_settings_history
from kehu.credit.services.settings import credit_settings_update
from kehu.credit.settings import GRADES

HUNDRED = Decimal(100)
CHECKPOINT_CHOICES = [
    ("confirm", gettext_lazy("Order confirmation")),
    ("deliver", gettext_lazy("Delivery")),
    ("invoice", gettext_lazy("Invoicing")),
]


def _percent(label: str, *, required: bool = True) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, required=required, min_value=0, max_digits=7, decimal_places=2
    )


def _days(label: str, *, minimum: int = 1, maximum: int = 3650) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=minimum, max_value=maximum)


class CreditSettingsForm(forms.Form):
    checkpoints = forms.MultipleChoiceField(
        label=gettext_lazy("Events that check credit"),
        choices=CHECKPOINT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )
    tolerance_percent = _percent(gettext_lazy("Tolerance over the line (%)"))
    hold_overdue_days = _days(gettext_lazy("On credit hold when an item is overdue beyond (days)"))
    review_overdue_days = _days(gettext_lazy("Re-survey when an item is overdue beyond (days)"))
    review_line_expiry_days = _days(gettext_lazy("Re-survey when a line ends within (days)"))
    review_task_due_days = _days(gettext_lazy("A re-survey task is due after (days)"))
    line_validity_months = _days(gettext_lazy("A line runs for (months)"), maximum=120)
    proposal_months = _days(gettext_lazy("Proposal: months of purchases averaged"), maximum=60)
    equity_cap_percent = _percent(
        gettext_lazy("Proposal: at most this share of equity (%, blank: no cap)"), required=False
    )
    round_to = forms.DecimalField(
        label=gettext_lazy("Proposal: rounded down to (yuan)"),
        min_value=Decimal("0.01"),
        max_digits=18,
        decimal_places=2,
    )
    unapproved_giver_percent = _percent(
        gettext_lazy("Bad debt from unapproved credit: the giver pays (%)")
    )
    handler_percent = _percent(gettext_lazy("Bad debt inside a line: the handler pays (%)"))
    approver_percent = _percent(gettext_lazy("Bad debt inside a line: the approver pays (%)"))
    reason = forms.CharField(label=gettext_lazy("Why"), max_length=255)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for grade in GRADES:
            self.fields[f"factor_{grade}"] = forms.DecimalField(
                label=_("Grade factor %(grade)s") % {"grade": grade},
                min_value=0,
                max_digits=6,
                decimal_places=3,
            )

    def factor_fields(self) -> list[forms.BoundField]:
        return [self[f"factor_{grade}"] for grade in GRADES]


def _initial(values: dict[str, Any]) -> dict[str, Any]:
    proposal, shares = values["proposal"], values["accountability"]
    cap = proposal["equity_cap_share"]
    initial = {
        "checkpoints": values["check"]["checkpoints"],
        "tolerance_percent": Decimal(values["check"]["tolerance_share"]) * HUNDRED,
        "hold_overdue_days": values["hold"]["overdue_days"],
        "review_overdue_days": values["review"]["overdue_days"],
        "review_line_expiry_days": values["review"]["line_expiry_days"],
        "review_task_due_days": values["review"]["task_due_days"],
        "line_validity_months": values["line_validity_months"],
        "proposal_months": proposal["months"],
        "equity_cap_percent": Decimal(cap) * HUNDRED if cap != "" else None,
        "round_to": Decimal(proposal["round_to"]),
        "unapproved_giver_percent": Decimal(shares["unapproved_giver_share"]) * HUNDRED,
        "handler_percent": Decimal(shares["handler_share"]) * HUNDRED,
        "approver_percent": Decimal(shares["approver_share"]) * HUNDRED,
    }
    for grade in GRADES:
        initial[f"factor_{grade}"] = Decimal(proposal["grade_factors"][grade])
    return {key: _plain(value) for key, value in initial.items()}


def _plain(value: Any) -> Any:
    """Decimals without trailing zeros (50.0000 → 50), for the form and for the stored dict."""
    if isinstance(value, Decimal):
        return value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize()
    return value


def _share(percent: Decimal) -> str:
    return str(_plain(percent / HUNDRED))


def _values_of(data: dict[str, Any]) -> dict[str, Any]:
    """The form's data as the settings' nested values (shares, strings, whole numbers)."""
    cap = data["equity_cap_percent"]
    return {
        "check": {
            "checkpoints": list(data["checkpoints"]),
            "tolerance_share": _share(data["tolerance_percent"]),
        },
        "hold": {"overdue_days": data["hold_overdue_days"]},
        "review": {
            "overdue_days": data["review_overdue_days"],
            "line_expiry_days": data["review_line_expiry_days"],
            "task_due_days": data["review_task_due_days"],
        },
        "line_validity_months": data["line_validity_months"],
        "proposal": {
            "months": data["proposal_months"],
            "grade_factors": {grade: str(_plain(data[f"factor_{grade}"])) for grade in GRADES},
            "equity_cap_share": "" if cap is None else _share(cap),
            "round_to": str(_plain(data["round_to"])),
        },
        "accountability": {
            "unapproved_giver_share": _share(data["unapproved_giver_percent"]),
            "handler_share": _share(data["handler_percent"]),
            "approver_share": _share(data["approver_percent"]),
        },
    }


def _changes(current: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    """Only what differs, nested like the values (numbers compared as numbers)."""
    changes: dict[str, Any] = {}
    for key, value in wanted.items():
        if isinstance(value, dict):
            nested = _changes(current[key], value)
            if nested:
                changes[key] = nested
        elif not _same(current[key], value):
            changes[key] = value
    return changes


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, list) or isinstance(right, list):
        return list(left) == list(right)
    if left == "" or right == "":
        return left == right
    try:
        return Decimal(str(left)) == Decimal(str(right))
    except ArithmeticError:
        return left == right


@require_http_methods(["GET", "POST"])
def credit_settings_page(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    current = credit_settings_current()
    may_change = user.sees_all
    form = CreditSettingsForm(
        request.POST if request.method == "POST" else None, initial=_initial(current)
    )
    status = 200
    if request.method == "POST":
        if not may_change:
            status = 403
            form.add_error(
                None,
                _("Only finance, top management or an administrator may change credit settings."),
            )
        elif form.is_valid():
            changes = _changes(current, _values_of(form.cleaned_data))
            try:
                with refusals_logged(action="credit_settings_update", actor=user):
                    credit_settings_update(
                        changes=changes, actor=user, reason=form.cleaned_data["reason"]
                    )
            except KehuError as error:
                form.add_error(None, error.message)
                status = 422
            else:
                messages.success(request, _("The credit settings are changed."))
                return redirect("credit:settings")
        else:
            status = 422
    context = {
        "form": form,
        "may_change": may_change,
        "history": credit_settings_history()[:20],
    }
    return render(request, "credit/settings.html", context, status=status)


urlpatterns: list[URLPattern] = [
    path("settings/", credit_settings_page, name="settings"),
]
