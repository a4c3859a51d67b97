"""The navigation of the page shell: one list, filtered by role.

Later features (value, receivables, credit) add an entry to NAVIGATION; nothing else changes.
An entry names either a URL pattern (`url_name`) or, for a page another app mounts, a path
below the site root (`path`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kehu.accounts.models import Role


@dataclass(frozen=True)
class NavigationItem:
    key: str
    label: str | Promise
    icon: str  # a name of an icon in web/partials/icon.html
    url_name: str = ""
    path: str = ""  # relative to the site root, used when url_name is empty or not mounted
    roles: frozenset[str] | None = None  # None: everybody

    def url(self) -> str:
        if self.url_name:
            try:
                return reverse(self.url_name)
            except NoReverseMatch:
                pass
        return f"{get_script_prefix()}{self.path}"

    def is_allowed(self, user: object) -> bool:
        if self.roles is None:
            return True
        return bool(getattr(user, "is_superuser", False)) or getattr(user, "role", "") in self.roles


NAVIGATION: tuple[NavigationItem, ...] = (
    NavigationItem(key="home", label=_("Home"), icon="home", url_name="web:home"),
    NavigationItem(
        key="customers",
        label=_("Customers"),
        icon="users",
        url_name="customers:list",
        path="customers/",
    ),
    NavigationItem(
        key="imports",
        label=_("Imports"),
        icon="upload",
        path="imports/",
        roles=frozenset({Role.ADMINISTRATOR, Role.FINANCE}),
    ),
    NavigationItem(
        key="receivables",
        label=_("Receivables"),  # 应收账款
        icon="wallet",
        url_name="receivables:aging",
        path="receivables/",
    ),
    NavigationItem(
        key="value",
        label=_("Customer value"),  # 客户价值
        icon="chart",
        url_name="value:pyramid",
        path="value/",
    ),
    NavigationItem(
        key="credit",
        label=_("Credit"),  # 信用管理
        icon="shield",
        url_name="credit:overview",
        path="credit/",
    ),
    NavigationItem(
        key="schedules",
        label=_("Schedules"),  # 定时任务
        icon="clock",
        url_name="schedules:list",
        path="settings/schedules/",
        roles=frozenset({Role.ADMINISTRATOR, Role.TOP_MANAGEMENT, Role.FINANCE}),
    ),
    NavigationItem(key="api", label=_("API docs"), icon="code", path="api/docs"),
)


@dataclass(frozen=True)
class NavigationLink:
    key: str
    label: str | Promise
    icon: str
    url: str
    is_active: bool


def navigation_for(request: HttpRequest) -> list[NavigationLink]:
    """The entries this user may open, the one for the current page marked active."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    links = []
    home = reverse("web:home")
    for item in NAVIGATION:
        if not item.is_allowed(user):
            continue
        url = item.url()
        is_active = request.path == url if url == home else request.path.startswith(url)
        links.append(
            NavigationLink(
                key=item.key, label=item.label, icon=item.icon, url=url, is_active=is_active
            )
        )
    return links
