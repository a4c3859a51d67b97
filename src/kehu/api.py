"""The JSON API: one NinjaAPI, one router per app, one error handler."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import django_auth

from kehu.core.errors import KehuError

api = NinjaAPI(
    title="Kehu API",
    version="1",
    description="Kehu 客户 — customer value and credit management.",
    auth=django_auth,
    urls_namespace="api",
)


@api.exception_handler(KehuError)
def _kehu_error(request: HttpRequest, error: KehuError) -> HttpResponse:
    return api.create_response(
        request, {"message": error.message, "detail": error.detail}, status=error.status_code
    )


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, error: ValidationError) -> HttpResponse:
    return api.create_response(
        request, {"message": "the request is not valid", "detail": error.errors}, status=422
    )


@api.exception_handler(AuthenticationError)
def _authentication_error(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request, {"message": "log in first", "detail": None}, status=401
    )


def _register_routers() -> None:
    from kehu.customers.api import router as customers_router

    api.add_router("/customers", customers_router)


_register_routers()
