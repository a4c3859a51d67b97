"""The demo company's credit side (domain §5) and its collection follow-up (§6), built after
the ledger: approved lines for every customer trading on credit, a credit survey for every
business customer on credit, a rating for every customer, applications waiting at each level
of authority, orders held for credit, collection notes and promises, re-survey tasks.

History (lines, surveys) is written in bulk; what a user would do today (applications,
confirmations, notes) goes through the services, so the demo shows their events too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import numpy as np
from django.db import transaction
from django.db.models import Q, Sum

from kehu.accounts.models import ApprovalAuthority, OrgUnit, Role, User
from kehu.credit.models import (
    CreditLine,
    CreditLineState,
    CreditSurvey,
    IndicatorSource,
    ScorecardIndicator,
    ScorecardTemplate,
)
from kehu.customers.models import Customer, CustomerKind
from kehu.receivables.collections import collection_note_add, promise_to_pay_record
from kehu.receivables.models import ContactChannel, ContactOutcome, Invoice
from kehu.sales.models import PURCHASE_STATES, Order

BATCH = 2_000
Progress = Callable[[str], None]


def _cents(values: np.ndarray) -> list[Decimal]:
    return [Decimal(int(v)) / 100 for v in np.round(values * 100).astype(np.int64).tolist()]


class Approvers:
    """Who approves an amount for a customer: the lowest role whose authority covers it, in
    the owner's team (customer manager), region (direct-sales and regional manager), or the
    company (top management)."""

    def __init__(self) -> None:
        self.caps = {
            a.role: a.max_amount for a in ApprovalAuthority.objects.all() if a.role in Role.values
        }
        units = {unit.pk: unit for unit in OrgUnit.objects.all()}
        self.parent = {pk: unit.parent_id for pk, unit in units.items()}
        self.by_role_unit: dict[tuple[str, int | None], int] = {}
        self.top: int | None = None
        for user in User.objects.filter(is_active=True).order_by("pk"):
            self.by_role_unit.setdefault((user.role, user.org_unit_id), user.pk)
            if user.role == Role.TOP_MANAGEMENT and self.top is None:
                self.top = user.pk
        self.owner_unit = dict(User.objects.values_list("pk", "org_unit_id"))

    def role_for(self, amount: Decimal) -> str:
        for role in (Role.CUSTOMER_MANAGER, Role.DIRECT_SALES_MANAGER, Role.REGIONAL_MANAGER):
            cap = self.caps.get(role)
            if cap is not None and amount <= cap:
                return role
        return Role.TOP_MANAGEMENT

    def approver_for(self, *, amount: Decimal, owner_id: int) -> int | None:
        role = self.role_for(amount)
        if role == Role.TOP_MANAGEMENT:
            return self.top
        unit = self.owner_unit.get(owner_id)
        while unit is not None:
            found = self.by_role_unit.get((role, unit))
            if found is not None:
                return found
            unit = self.parent.get(unit)
        return self.top


def lines_build(*, today: dt.date, rng: np.random.Generator) -> int:
    """An approved line, in force today, for every customer with a credit limit: approved by
    the person whose authority covers it, some time in the last eleven months."""
    approvers = Approvers()
    customers = list(
        Customer.objects.filter(credit_limit__gt=0)
        .order_by("pk")
        .values_list("pk", "owner_id", "credit_limit", "payment_terms_days", "currency")
    )
    ages = rng.integers(0, 330, size=len(customers))
    rows = []
    for (pk, owner_id, limit, terms, currency), age in zip(customers, ages.tolist(), strict=True):
        valid_from = today - dt.timedelta(days=age)
        rows.append(
            CreditLine(
                customer_id=pk,
                amount=limit,
                currency=currency,
                payment_terms_days=terms,
                valid_from=valid_from,
                valid_until=valid_from + dt.timedelta(days=364),
                state=CreditLineState.ACTIVE,
                approved_by_id=approvers.approver_for(amount=limit, owner_id=owner_id),
                approved_at=dt.datetime.combine(valid_from, dt.time(10), tzinfo=dt.UTC),
            )
        )
    CreditLine.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)


def _purchases_last_year(today: dt.date) -> dict[int, Decimal]:
    since = today - dt.timedelta(days=365)
    return dict(
        Order.objects.filter(state__in=PURCHASE_STATES, order_date__gt=since)
        .values("customer_id")
        .annotate(total=Sum("total_amount"))
        .values_list("customer_id", "total")
    )


def _survey_choices() -> dict[str, list[str]]:
    """The answer keys of the survey questions of the template in force, best first."""
    template = ScorecardTemplate.objects.filter(is_active=True).first()
    if template is None:
        return {}
    choices: dict[str, list[str]] = {}
    for indicator in ScorecardIndicator.objects.filter(
        group__template=template, source=IndicatorSource.SURVEY_CHOICE
    ):
        table = indicator.mapping.get("choices", {})
        ordered = sorted(table, key=lambda key: -float(table[key]))
        choices[indicator.measure] = ordered
    return choices


def surveys_build(*, today: dt.date, rng: np.random.Generator, before: dt.date) -> int:
    """A survey for every business customer on credit: statements in proportion to what it
    buys from us, ratios spread around the §5.1 reference levels, and the non-financial
    answers drawn mostly from the good end of each scale."""
    purchases = _purchases_last_year(today)
    customers = list(
        Customer.objects.filter(kind=CustomerKind.BUSINESS, credit_limit__gt=0)
        .order_by("pk")
        .values_list("pk", "owner_id")
    )
    n = len(customers)
    if n == 0:
        return 0
    bought = np.array([float(purchases.get(pk, 0) or 0) for pk, _ in customers])
    bought = np.maximum(bought, 50_000.0)
    revenue = bought * rng.uniform(8, 25, n)
    assets_end = revenue / rng.uniform(2.5, 6.0, n)
    assets_start = assets_end * rng.uniform(0.85, 1.1, n)
    liabilities = assets_end * np.clip(rng.normal(0.52, 0.15, n), 0.15, 0.95)
    equity = assets_end - liabilities
    current_assets = assets_end * rng.uniform(0.4, 0.7, n)
    current_liabilities = liabilities * rng.uniform(0.5, 0.9, n)
    quick_assets = current_assets * rng.uniform(0.45, 0.85, n)
    margin = rng.normal(0.09, 0.06, n)
    net_profit = revenue * margin
    growth = rng.uniform(-0.1, 0.25, n)
    capital = [equity / (1 + growth) ** k for k in (3, 2, 1)]
    profit = [net_profit / (1 + rng.normal(0.08, 0.15, n)) ** k for k in (3, 2, 1)]
    choices = _survey_choices()
    # Mostly the top two answers; a tail of weaker ones.
    weights = np.array([0.35, 0.35, 0.18, 0.08, 0.04])
    days_ago = rng.integers(0, 150, n)
    rows = []
    for i, (pk, owner_id) in enumerate(customers):
        facts = {}
        for measure, keys in choices.items():
            w = weights[: len(keys)] / weights[: len(keys)].sum()
            facts[measure] = keys[int(rng.choice(len(keys), p=w))]
        # Most companies have had no dispute over payment in three years; a few have.
        facts["disputes"] = str(int(rng.choice([0, 0, 0, 0, 0, 0, 0, 1, 1, 2])))
        surveyed_on = before - dt.timedelta(days=int(days_ago[i]))
        rows.append(
            CreditSurvey(
                customer_id=pk,
                surveyed_on=surveyed_on,
                surveyed_by_id=owner_id,
                fiscal_year=surveyed_on.year - 1,
                facts=facts,
            )
        )
    columns = {
        "sales_revenue": revenue,
        "total_assets_end": assets_end,
        "total_assets_start": assets_start,
        "total_liabilities": liabilities,
        "equity": equity,
        "current_assets": current_assets,
        "current_liabilities": current_liabilities,
        "quick_assets": quick_assets,
        "net_profit": net_profit,
        "capital_year_1": capital[0],
        "capital_year_2": capital[1],
        "capital_year_3": capital[2],
        "profit_year_1": profit[0],
        "profit_year_2": profit[1],
        "profit_year_3": profit[2],
    }
    for name, values in columns.items():
        for row, amount in zip(rows, _cents(values), strict=True):
            setattr(row, name, amount)
    CreditSurvey.objects.bulk_create(rows, batch_size=BATCH)
    return n


NOTE_TEXTS = (
    "财务说月底统一付款",
    "对方经办人出差，下周再联系",
    "已寄对账单，对方确认金额无误",
    "客户资金紧张，要求分两次付款",
    "电话无人接听",
    "老板答应本周内安排付款",
)


def collections_build(*, today: dt.date, rng: np.random.Generator, limit: int = 40) -> int:
    """Collection notes on the customers with the oldest overdue items, some with a promise
    to pay: recorded by the owner rep through the collection services."""
    overdue = (
        Invoice.objects.filter(is_cancelled=False, open_amount__gt=0, due_date__lt=today)
        .filter(~Q(customer__owner__isnull=True))
        .values("customer_id")
        .annotate(owed=Sum("open_amount"))
        .order_by("-owed", "customer_id")[:limit]
    )
    customers = Customer.objects.in_bulk([row["customer_id"] for row in overdue])
    owners = User.objects.in_bulk([c.owner_id for c in customers.values()])
    written = 0
    for row in overdue:
        customer = customers[row["customer_id"]]
        actor = owners[customer.owner_id]
        contacts = int(rng.integers(1, 4))
        for k in range(contacts):
            contacted_on = today - dt.timedelta(days=int(rng.integers(1, 45)) + 15 * k)
            outcome = (
                ContactOutcome.values[int(rng.integers(0, len(ContactOutcome.values)))]
                if k
                else ContactOutcome.values[0]
            )
            with transaction.atomic():
                collection_note_add(
                    customer=customer,
                    actor=actor,
                    contacted_on=contacted_on,
                    channel=ContactChannel.values[int(rng.integers(0, 3))],
                    outcome=outcome,
                    text=NOTE_TEXTS[int(rng.integers(0, len(NOTE_TEXTS)))],
                )
            written += 1
        if rng.random() < 0.5:
            made_on = today - dt.timedelta(days=int(rng.integers(0, 20)))
            owed = Decimal(row["owed"])
            promise_to_pay_record(
                customer=customer,
                actor=actor,
                amount=(owed * Decimal("0.5")).quantize(Decimal("0.01")),
                promised_for=made_on + dt.timedelta(days=int(rng.integers(3, 30))),
                made_on=made_on,
                note="承诺先付一半",
            )
    return written


def _held_orders_build(*, today: dt.date, rng: np.random.Generator, count: int = 8) -> list[int]:
    """Orders the owner reps confirm today for customers whose exposure is close to their
    line: each goes beyond it and is held (through the sales services and the credit check)."""
    from kehu.catalog.models import Product
    from kehu.credit.selectors.holds import credit_position
    from kehu.sales.models import PaymentMethod
    from kehu.sales.services import OrderLineInput, order_create

    products = list(Product.objects.filter(is_active=True).order_by("pk")[:50])
    if not products:
        return []
    candidates = list(
        Customer.objects.filter(
            credit_lines__state=CreditLineState.ACTIVE,
            credit_lines__valid_until__gte=today,
            credit__grade__in=("AAA", "AA", "A", "B"),
        )
        .select_related("owner")
        .order_by("-credit_limit", "pk")[: count * 4]
    )
    held: list[int] = []
    for customer in candidates:
        if len(held) >= count:
            break
        position = credit_position(customer=customer, today=today)
        if position.reasons or position.available is None:
            continue
        # Beyond what is left by 5–40 % of the line.
        beyond = position.available + customer.credit_limit * Decimal(
            str(round(float(rng.uniform(0.05, 0.4)), 2))
        )
        product = products[int(rng.integers(0, len(products)))]
        quantity = max(1, int(beyond / max(product.list_price, Decimal(1))) + 1)
        order = order_create(
            customer=customer,
            number=f"SO-DEMO-H{len(held) + 1:03d}",
            order_date=today,
            lines=[
                OrderLineInput(
                    product=product, quantity=Decimal(quantity), unit_price=product.list_price
                )
            ],
            payment_method=PaymentMethod.CREDIT,
            actor=customer.owner,
        )
        held.append(order.pk)
    return held


# What the approvers did with the demo's applications, in turn; None leaves one waiting.
DECISIONS = ("approve", "cut", "refuse", "return", None, None, None)


def _applications_build(*, today: dt.date, rng: np.random.Generator) -> dict[str, int]:
    """Reps apply for lines at every level of authority; some are decided by the approver
    whose authority covers them, the rest wait in the approvers' queues."""
    from kehu.credit.models import CreditSurvey
    from kehu.credit.services.lines import (
        credit_line_application_decide,
        credit_line_application_submit,
    )

    approvers = Approvers()
    users = User.objects.in_bulk()
    customers = list(
        Customer.objects.filter(
            kind=CustomerKind.BUSINESS,
            owner__role=Role.SALES_REP,
            credit_lines__state=CreditLineState.ACTIVE,
            credit__grade__in=("AAA", "AA", "A"),
        )
        .select_related("owner")
        .order_by("credit_limit", "pk")
    )
    if not customers:
        return {}
    # Spread over the lines from the smallest to the largest, so every level of authority
    # gets applications (the largest lines go up to top management).
    limits = np.array([float(c.credit_limit) for c in customers])
    targets = np.geomspace(max(limits[0], 1.0), max(limits[-1], 1.0), num=21)
    chosen = np.unique(np.clip(np.searchsorted(limits, targets), 0, len(customers) - 1))
    counts: dict[str, int] = {}
    for k, index in enumerate(sorted(chosen.tolist())):
        customer = customers[index]
        # A raise of 20–80 % on the line in force, in whole 10,000s: the amounts spread over
        # every level of authority because the lines do.
        raise_by = Decimal(str(round(float(rng.uniform(1.2, 1.8)), 2)))
        amount = max(
            Decimal(10_000),
            (customer.credit_limit * raise_by / 10_000).quantize(Decimal(1)) * 10_000,
        )
        survey = CreditSurvey.objects.filter(customer=customer).order_by("-surveyed_on").first()
        application = credit_line_application_submit(
            applied_by=customer.owner,
            customer=customer,
            requested_amount=amount,
            payment_terms_days=customer.payment_terms_days or 30,
            reason="业务增长，申请调整授信额度" if k % 2 else "年度授信复审",
            survey=survey,
            today=today,
        )
        action = DECISIONS[k % len(DECISIONS)]
        counts[action or "waiting"] = counts.get(action or "waiting", 0) + 1
        if action is None:
            continue
        approver = users[approvers.approver_for(amount=amount, owner_id=customer.owner_id)]
        credit_line_application_decide(
            application=application,
            approver=approver,
            action=action,
            amount=(amount * Decimal("0.7")).quantize(Decimal("1")) if action == "cut" else None,
            comment={
                "approve": "同意",
                "cut": "额度下调至申请的七成，半年后视回款情况再议",
                "refuse": "近期逾期较多，暂不提高额度",
                "return": "请补充最近一期财务报表",
            }[action],
            today=today,
        )
    return counts


# The demo's credit groups: related companies sharing one group line (§5.3); the last figure
# is the group line as a multiple of what the members owe together.
GROUPS = (
    ("JT-HD01", "华东建材集团", 3, "母公司与两家子公司，集团统一授信", Decimal("1.6")),
    ("JT-HX02", "恒信实业集团", 2, "同一实际控制人", Decimal("1.1")),
)


def _groups_build(*, today: dt.date) -> int:
    """A few related business customers of one rep each, among those that owe the most, make a
    credit group; top management creates it, the rep applies for a group line, which the
    approver whose authority covers it approves; the second group then asks for a raise that
    waits for approval."""
    from kehu.credit.selectors.exposure import exposure_of
    from kehu.credit.services.lines import (
        credit_group_create,
        credit_group_member_set,
        credit_line_application_approve,
        credit_line_application_submit,
    )

    boss = User.objects.filter(role=Role.TOP_MANAGEMENT, is_active=True).order_by("pk").first()
    if boss is None:
        return 0
    approvers = Approvers()
    users = User.objects.in_bulk()
    owing = dict(
        Invoice.objects.filter(is_cancelled=False, open_amount__gt=0)
        .values("customer_id")
        .annotate(total=Sum("open_amount"))
        .values_list("customer_id", "total")
    )
    candidates = (
        Customer.objects.filter(
            kind=CustomerKind.BUSINESS,
            owner__role=Role.SALES_REP,
            credit_lines__state=CreditLineState.ACTIVE,
            credit__group__isnull=True,
            credit__grade__in=("AAA", "AA", "A"),
            pk__in=list(owing),
        )
        .exclude(credit_applications__state__in=("submitted", "returned"))
        .select_related("owner")
    )
    by_owner: dict[int, list[Customer]] = {}
    for customer in sorted(candidates, key=lambda c: (-owing[c.pk], c.pk)):
        by_owner.setdefault(customer.owner_id, []).append(customer)
    owners = sorted(
        (owner for owner in by_owner if len(by_owner[owner]) >= 2),
        key=lambda owner: (-sum(owing[c.pk] for c in by_owner[owner][:3]), owner),
    )
    built = 0
    for (code, name, size, notes, headroom), owner_id in zip(GROUPS, owners, strict=False):
        members = by_owner[owner_id][:size]
        group = credit_group_create(code=code, name=name, actor=boss, notes=notes)
        for member in members:
            credit_group_member_set(customer=member, group=group, actor=boss)
        exposure = exposure_of(customer_ids=[member.pk for member in members]).total
        amount = max(Decimal(100_000), (exposure * headroom / 10_000).quantize(Decimal(1)) * 10_000)
        rep = members[0].owner
        application = credit_line_application_submit(
            applied_by=rep,
            group=group,
            requested_amount=amount,
            payment_terms_days=30,
            reason="集团统一授信",
            today=today,
        )
        approver = users[approvers.approver_for(amount=amount, owner_id=rep.pk)]
        credit_line_application_approve(
            application=application, approver=approver, comment="同意", today=today
        )
        if built == 1:
            credit_line_application_submit(
                applied_by=rep,
                group=group,
                requested_amount=amount * 2,
                payment_terms_days=45,
                reason="集团新项目开工，申请提高集团额度",
                today=today,
            )
        built += 1
    return built


def demo_credit_build(
    *, today: dt.date, seed: int = 42, progress: Callable[[str, int, int], None] | None = None
) -> dict[str, int]:
    """The demo company's credit side, after its ledger is built (see the module docstring)."""
    from kehu.credit.models import CreditCheck, HoldState
    from kehu.credit.selectors.holds import credit_hold_get_visible  # noqa: F401 (warm import)
    from kehu.credit.services.checks import credit_hold_reject, credit_hold_release
    from kehu.credit.services.lines import credit_reviews_scan
    from kehu.credit.services.ratings import (
        credit_ratings_run_period,
        scorecard_template_ensure_default,
    )
    from kehu.value.periods import last_closed_quarter

    report = progress or (lambda stage, done, total: None)
    rng = np.random.default_rng([seed, 5])
    steps = 7
    counts: dict[str, int] = {}
    last_quarter = last_closed_quarter(today)
    previous_quarter = last_closed_quarter(last_quarter.start)
    with transaction.atomic():
        scorecard_template_ensure_default()
        report("credit", 1, steps)
        counts["credit lines"] = lines_build(today=today, rng=rng)
        report("credit", 2, steps)
        counts["credit surveys"] = surveys_build(today=today, rng=rng, before=previous_quarter.end)
        report("credit", 3, steps)
    rated = 0
    for quarter in (previous_quarter, last_quarter):
        rated += credit_ratings_run_period(as_of=quarter.end).rated
    # Customers the quarterly run leaves out (no purchase by the quarter's end: prospects,
    # newcomers) are rated on demand as of today, so every customer has a rating.
    from django.utils import timezone

    from kehu.credit.services.ratings import credit_rating_run

    as_of = min(today, timezone.localdate())
    for customer in Customer.objects.filter(
        Q(credit__isnull=True) | Q(credit__rating__isnull=True)
    ):
        credit_rating_run(customer=customer, actor=None, as_of=as_of)
        rated += 1
    counts["credit ratings"] = rated
    report("credit", 4, steps)
    with transaction.atomic():
        for action, number in _applications_build(today=today, rng=rng).items():
            counts[f"applications {action}"] = number
        counts["credit groups"] = _groups_build(today=today)
    report("credit", 5, steps)
    held = _held_orders_build(today=today, rng=rng)
    counts["orders held for credit"] = len(held)
    holds = list(
        CreditCheck.objects.filter(order_id__in=held[:2], hold_state=HoldState.OPEN)
        .select_related("customer__owner")
        .order_by("pk")
    )
    boss = User.objects.filter(role=Role.TOP_MANAGEMENT, is_active=True).order_by("pk").first()
    if boss is not None and holds:
        credit_hold_release(
            credit_check=holds[0], actor=boss, reason="客户已承诺月底前付清上月货款", today=today
        )
        if len(holds) > 1:
            credit_hold_reject(credit_check=holds[1], actor=boss, reason="超出额度过多，请先回款")
    report("credit", 6, steps)
    counts["collection notes"] = collections_build(today=today, rng=rng)
    counts["re-survey tasks"] = credit_reviews_scan(today=today).opened
    report("credit", 7, steps)
    return counts
