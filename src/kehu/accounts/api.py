"""Who am I: the logged-in user, their role and what they see."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from kehu.accounts.schemas import MeOut
from kehu.core.schemas import error_responses

router = Router(tags=["accounts"])


@router.get("/me", response={200: MeOut, **error_responses()}, summary="Who am I")
def me(request: HttpRequest) -> object:
    return request.user
