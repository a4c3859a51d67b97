"""The demo company's fixed part: org tree, users with demo logins, authorities, catalogue, tags."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from kehu.accounts.models import OrgUnit, Role, User
from kehu.accounts.services import approval_authorities_ensure_defaults, org_unit_create
from kehu.catalog.models import Product, ProductCategory
from kehu.customers.models import Tag
from kehu.demo.names import person_names
from kehu.demo.reference import CATEGORIES, REGIONS, REPS_PER_TEAM, TAGS, TEAM_SUFFIXES

DEMO_PASSWORD = "kehu-demo"  # noqa: S105 - the documented shared password of the demo logins
COMPANY_CODE = "hq"


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    display_name: str
    org_unit: str


@dataclass
class Company:
    """Ids and arrays the customer generator draws from."""

    region_ids: list[int]
    team_ids: list[list[int]]  # per region
    rep_ids: list[list[list[int]]]  # per region, per team
    customer_manager_ids: list[list[int]]  # per region, per team
    direct_sales_manager_ids: list[int]  # per region
    regional_manager_ids: list[int]  # per region
    finance_ids: list[int]
    top_management_id: int
    logins: list[DemoLogin]
    product_ids: np.ndarray
    product_category: np.ndarray  # index into CATEGORIES
    product_price_cents: np.ndarray
    product_cost_cents: np.ndarray
    tag_ids: dict[str, int] = field(default_factory=dict)


def demo_usernames() -> list[str]:
    """Every login the demo creates, in a fixed order."""
    teams = len(REGIONS) * len(TEAM_SUFFIXES)
    names = [f"rep{i}" for i in range(1, teams * REPS_PER_TEAM + 1)]
    names += _numbered("manager", teams) + _numbered("dsm", len(REGIONS))
    names += _numbered("regional", len(REGIONS)) + _numbered("finance", 2) + ["boss", "admin"]
    return names


def demo_org_unit_codes() -> list[str]:
    codes = [COMPANY_CODE]
    for region in REGIONS:
        codes.append(region.code)
        codes += [f"{region.code}-{i}" for i in range(1, len(TEAM_SUFFIXES) + 1)]
    return codes


def _numbered(stem: str, count: int) -> list[str]:
    return [stem if i == 1 else f"{stem}{i}" for i in range(1, count + 1)]


def _coordinates(latitude: float, longitude: float) -> dict[str, Decimal]:
    return {"latitude": Decimal(f"{latitude:.6f}"), "longitude": Decimal(f"{longitude:.6f}")}


def company_build(*, rng: np.random.Generator, since: dt.date) -> Company:
    """Create the org tree, the users, approval authorities, the catalogue and the tags."""
    company = org_unit_create(name="总公司", code=COMPANY_CODE, kind=OrgUnit.Kind.COMPANY)
    OrgUnit.objects.filter(pk=company.pk).update(**_coordinates(31.2304, 121.4737))
    region_ids: list[int] = []
    team_ids: list[list[int]] = []
    region_units: list[OrgUnit] = []
    team_units: list[list[OrgUnit]] = []
    for region in REGIONS:
        unit = org_unit_create(
            name=region.name, code=region.code, kind=OrgUnit.Kind.REGION, parent=company
        )
        OrgUnit.objects.filter(pk=unit.pk).update(
            **_coordinates(region.branch.latitude, region.branch.longitude)
        )
        teams = [
            org_unit_create(
                name=f"{region.name}{suffix}",
                code=f"{region.code}-{i}",
                kind=OrgUnit.Kind.TEAM,
                parent=unit,
            )
            for i, suffix in enumerate(TEAM_SUFFIXES, start=1)
        ]
        OrgUnit.objects.filter(pk__in=[t.pk for t in teams]).update(
            **_coordinates(region.branch.latitude, region.branch.longitude)
        )
        region_ids.append(unit.pk)
        region_units.append(unit)
        team_ids.append([t.pk for t in teams])
        team_units.append(teams)

    usernames = demo_usernames()
    display_names = person_names(rng, len(usernames))
    joined = timezone.make_aware(dt.datetime.combine(since, dt.time(9)))
    # One hash for the one shared demo password: hashing per user would cost seconds each.
    password = make_password(DEMO_PASSWORD)
    users: list[User] = []
    placement: list[tuple[str, OrgUnit]] = []
    for teams in team_units:
        for team in teams:
            placement += [(Role.SALES_REP, team)] * REPS_PER_TEAM
    for teams in team_units:
        placement += [(Role.CUSTOMER_MANAGER, team) for team in teams]
    placement += [(Role.DIRECT_SALES_MANAGER, unit) for unit in region_units]
    placement += [(Role.REGIONAL_MANAGER, unit) for unit in region_units]
    placement += [
        (Role.FINANCE, company),
        (Role.FINANCE, company),
        (Role.TOP_MANAGEMENT, company),
        (Role.ADMINISTRATOR, company),
    ]
    for username, display_name, (role, unit) in zip(
        usernames, display_names, placement, strict=True
    ):
        is_admin = role == Role.ADMINISTRATOR
        users.append(
            User(
                username=username,
                password=password,
                role=role,
                org_unit=unit,
                display_name=display_name,
                date_joined=joined,
                is_staff=is_admin,
                is_superuser=is_admin,
            )
        )
    User.objects.bulk_create(users)
    by_name = {u.username: u for u in User.objects.filter(username__in=usernames)}
    logins = [
        DemoLogin(
            role=role, username=name, display_name=by_name[name].display_name, org_unit=unit.name
        )
        for name, (role, unit) in zip(usernames, placement, strict=True)
    ]
    approval_authorities_ensure_defaults()

    teams_count = len(TEAM_SUFFIXES)
    rep_ids: list[list[list[int]]] = []
    customer_manager_ids: list[list[int]] = []
    for region_index, _region in enumerate(REGIONS):
        region_reps = []
        region_managers = []
        for team_index in range(teams_count):
            first = (region_index * teams_count + team_index) * REPS_PER_TEAM + 1
            region_reps.append([by_name[f"rep{i}"].pk for i in range(first, first + REPS_PER_TEAM)])
            manager = _numbered("manager", len(REGIONS) * teams_count)[
                region_index * teams_count + team_index
            ]
            region_managers.append(by_name[manager].pk)
        rep_ids.append(region_reps)
        customer_manager_ids.append(region_managers)

    products = _catalogue_build(rng=rng, since=since)
    Tag.objects.bulk_create([Tag(name=name) for name in TAGS])
    return Company(
        region_ids=region_ids,
        team_ids=team_ids,
        rep_ids=rep_ids,
        customer_manager_ids=customer_manager_ids,
        direct_sales_manager_ids=[by_name[n].pk for n in _numbered("dsm", len(REGIONS))],
        regional_manager_ids=[by_name[n].pk for n in _numbered("regional", len(REGIONS))],
        finance_ids=[by_name["finance"].pk, by_name["finance2"].pk],
        top_management_id=by_name["boss"].pk,
        logins=logins,
        product_ids=products[0],
        product_category=products[1],
        product_price_cents=products[2],
        product_cost_cents=products[3],
        tag_ids={tag.name: tag.pk for tag in Tag.objects.all()},
    )


def _catalogue_build(
    *, rng: np.random.Generator, since: dt.date
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Product lines with margins that differ by line: chemicals thin, services fat."""
    products: list[Product] = []
    category_of: list[int] = []
    for index, spec in enumerate(CATEGORIES):
        category = ProductCategory.objects.create(code=spec.code, name=spec.name)
        margins = rng.uniform(spec.margin_low, spec.margin_high, size=len(spec.products))
        for number, (item, margin) in enumerate(zip(spec.products, margins, strict=True), start=1):
            price_cents = round(item.list_price * 100)
            cost_cents = round(price_cents * (1 - float(margin)))
            products.append(
                Product(
                    code=f"{spec.code}-{number:03d}",
                    name=item.name,
                    category=category,
                    unit=item.unit,
                    list_price=Decimal(price_cents) / 100,
                    standard_cost=Decimal(cost_cents) / 100,
                )
            )
            category_of.append(index)
    stamp = timezone.make_aware(dt.datetime.combine(since, dt.time(9)))
    bulk_create_with_history(products, Product, default_date=stamp, default_change_reason="demo")
    Product.objects.update(created_at=stamp, updated_at=stamp)
    rows = list(Product.objects.order_by("code").values_list("id", "list_price", "standard_cost"))
    ids = np.asarray([row[0] for row in rows], dtype=np.int64)
    prices = np.asarray([round(row[1] * 100) for row in rows], dtype=np.int64)
    costs = np.asarray([round(row[2] * 100) for row in rows], dtype=np.int64)
    order = {p.code: i for i, p in enumerate(products)}
    codes = list(Product.objects.order_by("code").values_list("code", flat=True))
    categories = np.asarray([category_of[order[c]] for c in codes], dtype=np.int64)
    return ids, categories, prices, costs
