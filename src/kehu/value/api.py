"""The value reports: the pyramid and the concentration of value of a snapshot, the value
matrix and the loss-makers (profitability after the cost to serve).

Pyramid and concentration: company-wide figures, as the snapshot computed them; `visible_count`
says how many customers of each class the caller may see. Matrix and profitability: figures and
customers of the customers the caller may see, filtered. No snapshot yet, or an unknown one,
answers 404.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Status

from kehu.accounts.models import User
from kehu.core.schemas import error_responses
from kehu.value import lifetime
from kehu.value.report_figures import (
    COST_COMPONENTS,
    CustomerFilters,
    concentration_report,
    loss_reason,
    matrix_customers,
    matrix_report,
    profitability_customers,
    profitability_report,
    pyramid_report,
    snapshot_for_report,
)
from kehu.value.schemas import (
    ConcentrationOut,
    ConcentrationQuery,
    LifetimeCustomersOut,
    LifetimeCustomersQuery,
    LifetimeOut,
    LifetimeQuery,
    MatrixOut,
    MatrixQuery,
    ProfitabilityOut,
    ProfitabilityQuery,
    PyramidOut,
    ReportFilterQuery,
    SegmentActionIn,
    SegmentActionOut,
    SegmentsOut,
    SegmentsQuery,
    SnapshotQuery,
)
from kehu.value.segments import segment_snapshot, segment_worksheet
from kehu.value.services_segments import segment_action_complete, segment_action_record

router = Router(tags=["value"])
PROFITABILITY_MONEY = (
    "revenue",
    "cost_of_goods",
    "gross_profit",
    *COST_COMPONENTS,
    "cost_to_serve",
    "net_profit",
)


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


def _filters(query: ReportFilterQuery) -> CustomerFilters:
    return CustomerFilters(
        region_id=query.region,
        owner_id=query.owner,
        kind=query.kind or "",
        search=(query.q or "").strip(),
    )


@router.get(
    "/value/matrix",
    response={200: MatrixOut, **error_responses(404)},
    summary="The value matrix (volume × loyalty) of a snapshot: figures per quadrant, customers",
)
def matrix_get(request: HttpRequest, query: Query[MatrixQuery]) -> object:
    """Over the customers the caller sees that match the filter; the list is of one quadrant
    when `quadrant` is given."""
    user: User = request.user  # type: ignore[assignment]
    snapshot = snapshot_for_report(query.snapshot)
    filters = _filters(query)
    report = matrix_report(user=user, snapshot=snapshot, filters=filters)
    rows = matrix_customers(
        user=user,
        snapshot=snapshot,
        filters=filters,
        quadrant=query.quadrant or "",
        sort=query.sort,
    )
    listed = rows[query.offset : query.offset + query.limit]
    return {
        **report.__dict__,
        "customers_total": rows.count(),
        "customers": [
            {
                "customer_id": row.customer_id,
                "code": row.customer.code,
                "name": row.customer.name,
                "quadrant": row.quadrant,
                "revenue": row.revenue,
                "loyalty_score": float(row.loyalty_score),
                "gross_profit": row.gross_profit,
                "net_profit": row.net_profit,
            }
            for row in listed
        ],
    }


@router.get(
    "/value/profitability",
    response={200: ProfitabilityOut, **error_responses(404)},
    summary="Customers by net profit after the cost to serve, loss-makers first",
)
def profitability_get(request: HttpRequest, query: Query[ProfitabilityQuery]) -> object:
    """Over the customers the caller sees that match the filter: the loss-makers' count, loss,
    share of revenue and cost components, and the customers worst first."""
    user: User = request.user  # type: ignore[assignment]
    snapshot = snapshot_for_report(query.snapshot)
    filters = _filters(query)
    report = profitability_report(user=user, snapshot=snapshot, filters=filters)
    rows = profitability_customers(
        user=user,
        snapshot=snapshot,
        filters=filters,
        only_losses=query.only_losses,
        sort=query.sort,
    )
    listed = rows[query.offset : query.offset + query.limit]
    return {
        **report.__dict__,
        "loss_components": [
            {"key": key, "label": label, "amount": amount}
            for key, label, amount in report.components
        ],
        "customers_total": rows.count(),
        "customers": [
            {
                "customer_id": row.customer_id,
                "code": row.customer.code,
                "name": row.customer.name,
                **{field: getattr(row, field) for field in PROFITABILITY_MONEY},
                "reason": loss_reason(row) if row.net_profit < 0 else "",
            }
            for row in listed
        ],
    }


@router.get(
    "/value/segments",
    response={200: SegmentsOut, **error_responses(404)},
    summary="The segment worksheet: per product line its best and worst customers, next actions",
)
def segments_get(request: HttpRequest, query: Query[SegmentsQuery]) -> object:
    """Over the customers the caller sees; the snapshot of `snapshot`, else the newest of
    `period`, else the newest. An unknown `line` gives no segment."""
    user: User = request.user  # type: ignore[assignment]
    snapshot = segment_snapshot(snapshot_id=query.snapshot, period=query.period)
    return segment_worksheet(
        user=user,
        snapshot=snapshot,
        line_id=query.line,
        search=(query.q or "").strip(),
        sort=query.sort or "",
    )


@router.post(
    "/value/segments/actions",
    response={201: SegmentActionOut, **error_responses()},
    summary="Record the next action of a product line (or of one of its customers)",
)
def segment_action_post(request: HttpRequest, payload: SegmentActionIn) -> object:
    """422 names the field: an empty text, a due date in the past, an unknown line, customer
    (or one the caller may not see) or owner."""
    user: User = request.user  # type: ignore[assignment]
    action = segment_action_record(
        actor=user,
        line_id=payload.line,
        customer_id=payload.customer,
        text=payload.text,
        owner_id=payload.owner,
        due_on=payload.due_on,
        reason=payload.reason,
    )
    return Status(201, action)


@router.post(
    "/value/segments/actions/{action_id}/done",
    response={200: SegmentActionOut, **error_responses(404, 409)},
    summary="Mark a next action of the segment worksheet done",
)
def segment_action_done_post(request: HttpRequest, action_id: int) -> object:
    user: User = request.user  # type: ignore[assignment]
    return segment_action_complete(actor=user, action_id=action_id)


@router.get(
    "/value/lifetime",
    response={200: LifetimeOut, **error_responses(404)},
    summary="Lifetime value of a snapshot: figures, models compared, holdout series, what-if",
)
def lifetime_get(request: HttpRequest, query: Query[LifetimeQuery]) -> object:
    """Company-wide figures as the snapshot computed them (`visible_*`: the caller's share).
    `retention_change` adds the what-if; 422 when the snapshot has no lifetime figures or the
    retention would leave 0–100%."""
    user: User = request.user  # type: ignore[assignment]
    snapshot = snapshot_for_report(query.snapshot)
    report = lifetime.lifetime_report(user=user, snapshot=snapshot)
    what_if = None
    if query.retention_change is not None:
        what_if = lifetime.retention_what_if(
            snapshot.parameters.get("lifetime"), query.retention_change
        )
    return lifetime.lifetime_figures(report, what_if)


@router.get(
    "/value/lifetime/customers",
    response={200: LifetimeCustomersOut, **error_responses(404)},
    summary="The customers of a snapshot the caller sees, with their lifetime figures",
)
def lifetime_customers_get(request: HttpRequest, query: Query[LifetimeCustomersQuery]) -> object:
    user: User = request.user  # type: ignore[assignment]
    snapshot = snapshot_for_report(query.snapshot)
    rows = lifetime.lifetime_customers(
        user=user,
        snapshot=snapshot,
        filters=lifetime.LifetimeFilters(
            pyramid_class=query.pyramid_class or "",
            band=query.band or "",
            search=(query.q or "").strip(),
        ),
        sort=query.sort,
    )
    return {
        "snapshot": snapshot,
        "total": rows.count(),
        "customers": [
            {
                "customer_id": row.customer_id,
                "code": row.customer.code,
                "name": row.customer.name,
                "pyramid_class": row.pyramid_class,
                "lifetime_value": row.lifetime_value,
                "probability_alive": row.probability_alive,
                "expected_purchases": row.expected_purchases,
                "expected_spend": row.expected_spend,
            }
            for row in rows[query.offset : query.offset + query.limit]
        ],
    }
