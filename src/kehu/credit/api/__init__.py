"""The credit API: one router per area, each declaring its full paths under /credit/ (or under
/customers/{id}/credit/... for what hangs off a customer)."""

from kehu.credit.api import accountability, holds, lines, ratings, settings

routers = (
    ratings.router,
    lines.router,
    holds.router,
    accountability.router,
    settings.router,
)
