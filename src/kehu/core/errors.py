"""One exception hierarchy for business rules, each with the HTTP status the API renders."""

from __future__ import annotations

from typing import Any


class KehuError(Exception):
    """Base of every business-rule error. Rendered as {"message": ..., "detail": ...}."""

    status_code = 400

    def __init__(self, message: str, *, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class ValidationFailed(KehuError):
    status_code = 422


class NotFound(KehuError):
    status_code = 404


class PermissionDenied(KehuError):
    status_code = 403


class Conflict(KehuError):
    status_code = 409
