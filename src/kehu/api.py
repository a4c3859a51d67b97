"""The JSON API: one NinjaAPI, one router per app, one way of answering errors.

Every error is rendered as {"message": ..., "detail": ...}. A wrong request answers 4xx naming
what is wrong (for field errors, detail is [{"field", "location", "message"}]); never a 500.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import django_auth

from kehu.core.errors import KehuError

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="Kehu API",
    version="1",
    description="Kehu 客户 — customer value and credit management.",
    auth=django_auth,
    urls_namespace="api",
    # Swagger UI from ninja's own static files ("ninja" is in INSTALLED_APPS), and no call to
    # the online validator: the docs page loads nothing from outside.
    docs=Swagger(settings={"validatorUrl": None}),
)


def _error(request: HttpRequest, status: int, message: str, detail: Any = None) -> HttpResponse:
    return api.create_response(request, {"message": message, "detail": detail}, status=status)


def _field_errors(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Ninja's validation errors as [{"field", "location", "message"}], JSON-safe."""
    result = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ())]
        source = location[0] if location else ""
        # ("body", "payload", "code") → "code"; ("body", "payload") → "" (the whole body);
        # ("query", "limit") → "limit".
        parts = location[2:] if source == "body" else location[1:]
        result.append(
            {
                "field": ".".join(parts),
                "location": source,
                "message": str(error.get("msg", "")),
            }
        )
    return result


def _summary(fields: list[dict[str, str]]) -> str:
    return "; ".join(
        f"{item['field']}: {item['message']}" if item["field"] else item["message"]
        for item in fields
    )


@api.exception_handler(KehuError)
def _kehu_error(request: HttpRequest, error: KehuError) -> HttpResponse:
    return _error(request, error.status_code, error.message, error.detail)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, error: ValidationError) -> HttpResponse:
    fields = _field_errors(error.errors)
    named = _summary(fields)
    return _error(
        request, 422, _("the request is not valid: %(errors)s") % {"errors": named}, fields
    )


@api.exception_handler(DjangoValidationError)
def _django_validation_error(request: HttpRequest, error: DjangoValidationError) -> HttpResponse:
    """Model validation (full_clean) that a schema could not catch: 422 with field messages."""
    if hasattr(error, "error_dict"):
        fields = [
            {"field": "" if name == "__all__" else name, "location": "body", "message": message}
            for name, messages in error.message_dict.items()
            for message in messages
        ]
    else:
        fields = [{"field": "", "location": "body", "message": m} for m in error.messages]
    named = _summary(fields)
    return _error(request, 422, _("the data is not valid: %(errors)s") % {"errors": named}, fields)


@api.exception_handler(IntegrityError)
def _integrity_error(request: HttpRequest, error: IntegrityError) -> HttpResponse:
    """A constraint the database enforced after the checks passed: usually a race."""
    logger.warning("integrity error answered as 409: %s", error)
    return _error(
        request, 409, _("the change conflicts with data saved at the same time; try again")
    )


@api.exception_handler(AuthenticationError)
def _authentication_error(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    return _error(request, 401, _("log in first"))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    # Ninja raises these for an unreadable body (400) and a failed CSRF check (403).
    return _error(request, error.status_code, str(error))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, error: Http404) -> HttpResponse:
    return _error(request, 404, _("not found"))


def _register_routers() -> None:
    """One router per app, each declaring its full paths (what hangs off a customer lives in
    its own app, under /customers/{id}/...)."""
    from kehu.accounts.api import router as accounts_router
    from kehu.catalog.api import router as catalog_router
    from kehu.credit.api import routers as credit_routers
    from kehu.customers.api import router as customers_router
    from kehu.receivables.api import router as receivables_router
    from kehu.sales.api import router as sales_router
    from kehu.service.api import router as service_router
    from kehu.value.api import router as value_router
    from kehu.value.api_migration import router as value_migration_router

    for router in (
        accounts_router,
        customers_router,
        sales_router,
        receivables_router,
        service_router,
        catalog_router,
        value_router,
        value_migration_router,
        *credit_routers,
    ):
        api.add_router("", router)


_register_routers()
