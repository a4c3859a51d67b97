"""Credit pages: the scorecard proposal learned from the company's history (domain §5.2).
`urlpatterns` is included by credit/urls.py.

/credit/template/proposal/ (finance, top management, administrators; others 403):
- GET: an as-of date (default today) and "Compute proposal";
- POST action=compute: the figures (AUC, KS, Gini, CV AUC, rows, bad rate), per indicator the
  current and the proposed bands, IV and IV share, the attributes left out, and "Accept as a new
  template version", which posts the definition back signed (TimestampSigner, one hour) so that
  it cannot be changed on the way;
- POST action=accept: checks the signature and stores the definition as a new template version
  in force (calibration/proposal.py), then back to the template page. A refusal (no authority,
  a bad or expired signature, an invalid definition) is logged as a "refused" credit event.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kehu.accounts.models import User
from kehu.core.errors import KehuError, PermissionDenied, ValidationFailed
from kehu.credit.calibration.proposal import (
    Proposal,
    scorecard_proposal_accept,
    scorecard_proposal_from_history,
)
from kehu.credit.events import refusals_logged
from kehu.credit.scorecard import mapping_in_words

SIGNING_SALT = "kehu.credit.template_proposal"
SIGNATURE_MAX_AGE = 60 * 60  # seconds
UNITS = {"avg_days_beyond_terms": " d", "oldest_overdue_days": " d", "years_trading": " y"}


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def may_propose(user: User) -> bool:
    return bool(user.sees_all)


def sign_definition(definition: dict[str, Any]) -> str:
    return signing.TimestampSigner(salt=SIGNING_SALT).sign_object(definition, compress=True)


def unsign_definition(signed: str) -> Any:
    """The definition a proposal page signed; a bad or expired signature → ValidationFailed."""
    signer = signing.TimestampSigner(salt=SIGNING_SALT)
    try:
        return signer.unsign_object(signed, max_age=SIGNATURE_MAX_AGE)
    except signing.SignatureExpired as error:
        raise ValidationFailed(
            _("This proposal is more than an hour old: compute it again before accepting it."),
            detail={"field": "definition"},
        ) from error
    except signing.BadSignature as error:
        raise ValidationFailed(
            _(
                "The proposal sent back is not the one Kehu computed (its signature does not "
                "match): compute it again."
            ),
            detail={"field": "definition"},
        ) from error


def _as_of(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip()) if text.strip() else timezone.localdate()
    except ValueError as error:
        raise ValidationFailed(
            _("%(date)s is not a date (YYYY-MM-DD).") % {"date": text}, detail={"field": "as_of"}
        ) from error


def _rows(proposal: Proposal) -> list[dict[str, Any]]:
    language = "zh" if (get_language() or "zh-hans").lower().startswith("zh") else "en"
    return [
        {
            "indicator": item,
            "current": mapping_in_words(
                item.current_mapping, unit=UNITS.get(item.measure, ""), language=language
            ),
            "proposed": mapping_in_words(
                item.proposed_mapping, unit=UNITS.get(item.measure, ""), language=language
            ),
            "iv_share": f"{item.iv_share:.1%}",
        }
        for item in proposal.indicators
    ]


@require_http_methods(["GET", "POST"])
def template_proposal(request: HttpRequest) -> HttpResponse:
    """/credit/template/proposal/: compute a proposal of points from the history; accept it."""
    user = _user(request)
    action = request.POST.get("action", "compute") if request.method == "POST" else ""
    if not may_propose(user):
        if action == "accept":
            try:
                with refusals_logged(action="scorecard_proposal_accept", actor=user):
                    scorecard_proposal_accept(definition=None, actor=user)
            except PermissionDenied as refused:
                raise DjangoPermissionDenied(refused.message) from refused
        raise DjangoPermissionDenied(
            _("Only finance, top management or an administrator may change the template.")
        )
    as_of_text = request.POST.get("as_of", "") or request.GET.get("as_of", "")
    context: dict[str, Any] = {
        "as_of": as_of_text or timezone.localdate().isoformat(),
        "proposal": None,
        "error": None,
    }
    status = 200
    if action == "accept":
        try:
            with refusals_logged(action="scorecard_proposal_accept", actor=user):
                definition = unsign_definition(request.POST.get("definition", ""))
                created = scorecard_proposal_accept(definition=definition, actor=user)
        except KehuError as refused:
            context["error"] = refused
            status = 422
        else:
            messages.success(
                request,
                _("Version %(version)s of %(name)s, with the proposed points, is now in force.")
                % {"version": created.version, "name": created.name},
            )
            return redirect("credit:template")
    elif action == "compute":
        try:
            proposal = scorecard_proposal_from_history(as_of=_as_of(as_of_text))
        except KehuError as refused:
            context["error"] = refused
            status = 422
        else:
            context.update(
                proposal=proposal,
                rows=_rows(proposal),
                bad_rate=f"{proposal.bad_rate:.1%}",
                signed_definition=sign_definition(proposal.definition),
            )
    return render(request, "credit/template_proposal.html", context, status=status)


urlpatterns: list[URLPattern] = [
    path("template/proposal/", template_proposal, name="template_proposal"),
]
