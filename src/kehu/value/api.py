"""The value reports: the pyramid and the concentration of value of a snapshot.

Company-wide figures, as the snapshot computed them; `visible_count` says how many customers of
each class the caller may see. No snapshot yet, or an unknown one, answers 404.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router

from kehu.accounts.models import User
from kehu.core.schemas import error_responses
from kehu.value.report_figures import concentration_report, pyramid_report, snapshot_for_report
from kehu.value.schemas import ConcentrationOut, ConcentrationQuery, PyramidOut, SnapshotQuery

router = Router(tags=["value"])


@router.get(
    "/value/pyramid",
    response={200: PyramidOut, **error_responses(404)},
    summary="The customer pyramid of a snapshot: counts, value and shares per class",
)
def pyramid_get(request: HttpRequest, query: Query[SnapshotQuery]) -> object:
    user: User = request.user  # type: ignore[assignment]
    snapshot = snapshot_for_report(query.snapshot)
    return pyramid_report(user=user, snapshot=snapshot)


@router.get(
    "/value/concentration",
    response={200: ConcentrationOut, **error_responses(404)},
    summary="The 80/20 figures, Gini and (for profit) the whale curve of a snapshot",
)
def concentration_get(request: HttpRequest, query: Query[ConcentrationQuery]) -> object:
    snapshot = snapshot_for_report(query.snapshot)
    return concentration_report(snapshot=snapshot, measure=query.measure or snapshot.measure)
