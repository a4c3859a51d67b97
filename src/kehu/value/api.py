"""The value reports: the pyramid and the concentration of value of a snapshot, the value
matrix and the loss-makers (profitability after the cost to serve).

Pyramid and concentration: company-wide figures, as the snapshot computed them; `visible_count`
says how many customers of each class the caller may see. Matrix and profitability: figures and
customers of the customers the caller may see, filtered. No snapshot yet, or an unknown one,
answers 404.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router

from kehu.accounts.models import User
from kehu.core.schemas import error_responses
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
    MatrixOut,
    MatrixQuery,
    ProfitabilityOut,
    ProfitabilityQuery,
    PyramidOut,
    ReportFilterQuery,
    SnapshotQuery,
)

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
