"""Every page needs a signed-in user (one rule, in one place, instead of decorators)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import resolve_url
from django.views.i18n import set_language
from django_htmx.http import HttpResponseClientRedirect


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Django's rule (views marked `login_not_required` are open) with two exceptions.

    - The JSON API authenticates on its own and answers 401, never a redirect.
    - The language switch works on the login page too.

    An htmx request whose session has expired gets an HX-Redirect to the login page, so the
    login form does not land inside a table.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):  # type: ignore[no-untyped-def]
        match = request.resolver_match
        if match is not None and "api" in match.namespaces:
            return None
        if view_func is set_language:
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)

    def handle_no_permission(  # type: ignore[no-untyped-def, override]
        self, request: HttpRequest, view_func
    ) -> HttpResponse:
        htmx = getattr(request, "htmx", None)
        if htmx:
            page = htmx.current_url_abs_path or request.get_full_path()
            login = redirect_to_login(
                page, resolve_url(self.get_login_url(view_func)), REDIRECT_FIELD_NAME
            )
            return HttpResponseClientRedirect(login["Location"])
        return super().handle_no_permission(request, view_func)


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    """Chinese (zh-Hans) unless the person chose another language with the switch.

    Django's LocaleMiddleware would follow the browser's Accept-Language first; Kehu's users
    work in Chinese on browsers set to anything, so only the language cookie (set by the
    switch) overrides the default on pages, unless KEHU["HONOUR_BROWSER_LANGUAGE"] is true.
    """

    def process_request(self, request: HttpRequest) -> None:
        # The JSON API follows Accept-Language: a client that asks for a language means it.
        is_api = request.path.startswith("/api/")
        if not is_api and not settings.KEHU.get("HONOUR_BROWSER_LANGUAGE", False):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        super().process_request(request)
