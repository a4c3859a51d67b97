"""The segment worksheet 市场细分作业单 (§4.7): best and worst customers per product line, their
reasons, and the next-action service — on a small ledger whose figures are worked out by hand.

Period 2025Q4, window 2025-01-01 … 2025-12-31, default value settings (order handled 30, visit
200, complaint 150, return 100; worst when over 5 complaints or returns per 100,000 of revenue
or over 30 days late). Lines: EMP (nobody buys), PKG and SVC. Customers of the east rep, except
G (west rep):

- A: one order, PKG 10 × 100 (cost 60) and SVC 2 × 500 (cost 100): PKG 1,000 / GP 400, SVC
  1,000 / GP 800; net 2,000 − 800 − 30 = 1,170. No invoice.
- B: PKG 5 × 100 (cost 80): 500 / GP 100; net 70.
- C: PKG 2 × 100 (cost 60), one returned (return line 100, cost 60): PKG 100 / GP 40; cost to
  serve order 30 + return 100 + visit 200 = 330; net −290. 1 return on 100 of revenue.
- D: PKG 2 × 100 (cost 60): 200 / GP 80; complaint 150 + order 30 = 180; net −100.
- E: SVC 10 × 500 (cost 100): 5,000 / GP 4,000, invoiced 06-01 due 07-01, paid 08-30: 60 days
  late.
- G (west): PKG 20 × 100 (cost 50): 2,000 / GP 1,000; net 970.
- I: PKG 1 × 100 at a cost of 150 (GP −50, below cost) and SVC 1 × 500 (cost 100, GP 400):
  net 350 − 30 = 320.
- F: a held and a cancelled PKG order only (they do not count); H: bought PKG only in 2024.

PKG (finance sees all): A, B, C, D, G, I — revenue 3,900, GP 1,570. Best: G 1,000, A 400, B
100. Worst by net profit: C −290, D −100, I 320. SVC: A, E, I — 6,500, GP 5,200; best A 800,
I 400; worst E (late). The east rep sees PKG without G: 1,900, GP 570.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

import pytest
from django.utils import translation

from kehu.catalog.models import ProductCategory
from kehu.catalog.tests.factories import ProductCategoryFactory, ProductFactory
from kehu.core.errors import Conflict, NotFound, ValidationFailed
from kehu.customers.models import Customer
from kehu.customers.tests.factories import CustomerFactory
from kehu.receivables.services import invoice_create, payment_record
from kehu.sales.models import OrderState, Return, ReturnLine
from kehu.sales.services import OrderLineInput, order_create
from kehu.service.services import activity_log, complaint_create
from kehu.value.models import SegmentAction, SegmentActionStatus, ValueSnapshot
from kehu.value.segments import segment_worksheet
from kehu.value.services import value_settings_update, value_snapshot_compute
from kehu.value.services_segments import segment_action_complete, segment_action_record

D = Decimal
TODAY = dt.date(2026, 1, 15)


@dataclass
class SegmentLedger:
    lines: dict[str, ProductCategory]
    customers: dict[str, Customer]


def _order(customer, number, on, lines, state=OrderState.CONFIRMED):  # type: ignore[no-untyped-def]
    return order_create(
        customer=customer,
        number=number,
        order_date=on,
        state=state,
        credit_check=False,
        lines=[
            OrderLineInput(
                product=product, quantity=D(quantity), unit_price=D(price), unit_cost=D(cost)
            )
            for product, quantity, price, cost in lines
        ],
    )


def build_segment_ledger(organisation) -> SegmentLedger:  # type: ignore[no-untyped-def]
    lines = {
        code: cast(ProductCategory, ProductCategoryFactory(code=code, name=name))
        for code, name in (("EMP", "Empty line"), ("PKG", "Packaging"), ("SVC", "Services"))
    }
    pkg = ProductFactory(category=lines["PKG"])
    svc = ProductFactory(category=lines["SVC"])
    ProductFactory(category=lines["EMP"])
    rep = organisation.rep
    customers = {
        name: cast(Customer, CustomerFactory(code=f"S-{name}", name=f"Segment {name}", owner=rep))
        for name in "ABCDEFHI"
    }
    customers["G"] = cast(
        Customer,
        CustomerFactory(
            code="S-G",
            name="Segment G",
            owner=organisation.other_rep,
            region=organisation.west_team,
        ),
    )
    c = customers
    _order(c["A"], "SA1", dt.date(2025, 3, 1), [(pkg, "10", "100", "60"), (svc, "2", "500", "100")])
    _order(c["B"], "SB1", dt.date(2025, 4, 1), [(pkg, "5", "100", "80")])
    order_c = _order(c["C"], "SC1", dt.date(2025, 5, 1), [(pkg, "2", "100", "60")])
    returned = Return.objects.create(
        number="R-SC1",
        order=order_c,
        customer=c["C"],
        returned_on=dt.date(2025, 5, 10),
        amount=D("100"),
        cost=D("60"),
    )
    ReturnLine.objects.create(
        sales_return=returned, order_line=order_c.lines.get(), quantity=D("1"), amount=D("100")
    )
    activity_log(customer=c["C"], kind="visit", occurred_on=dt.date(2025, 6, 1), owner=rep)
    _order(c["D"], "SD1", dt.date(2025, 5, 1), [(pkg, "2", "100", "60")])
    complaint_create(
        customer=c["D"],
        received_on=dt.date(2025, 6, 1),
        category="delivery",
        text="late",
        owner=rep,
    )
    order_e = _order(c["E"], "SE1", dt.date(2025, 6, 1), [(svc, "10", "500", "100")])
    invoice_create(
        customer=c["E"],
        number="I-SE1",
        issue_date=dt.date(2025, 6, 1),
        due_date=dt.date(2025, 7, 1),
        amount=D("5000"),
        order=order_e,
    )
    payment_record(
        customer=c["E"], number="P-SE1", received_on=dt.date(2025, 8, 30), amount=D("5000")
    )
    _order(c["G"], "SG1", dt.date(2025, 7, 1), [(pkg, "20", "100", "50")])
    _order(c["I"], "SI1", dt.date(2025, 8, 1), [(pkg, "1", "100", "150"), (svc, "1", "500", "100")])
    _order(c["F"], "SF1", dt.date(2025, 8, 1), [(pkg, "100", "100", "50")], OrderState.CREDIT_HOLD)
    _order(c["F"], "SF2", dt.date(2025, 8, 2), [(pkg, "100", "100", "50")], OrderState.CANCELLED)
    _order(c["H"], "SH1", dt.date(2024, 6, 1), [(pkg, "3", "100", "60")])
    return SegmentLedger(lines=lines, customers=customers)


@pytest.fixture
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def ledger(organisation) -> SegmentLedger:
    return build_segment_ledger(organisation)


@pytest.fixture
def snapshot(ledger) -> ValueSnapshot:
    return value_snapshot_compute(period="2025Q4")


def _codes(rows) -> list[str]:  # type: ignore[no-untyped-def]
    return [row.code for row in rows]


def _by_code(worksheet):  # type: ignore[no-untyped-def]
    return {segment.code: segment for segment in worksheet.segments}


def test_lines_totals_best_and_worst(organisation, snapshot, english):
    worksheet = segment_worksheet(user=organisation.finance, snapshot=snapshot)

    segments = _by_code(worksheet)
    assert list(segments) == ["EMP", "PKG", "SVC"]
    empty, pkg, svc = segments["EMP"], segments["PKG"], segments["SVC"]
    assert (empty.customer_count, empty.revenue, empty.best, empty.worst) == (0, D(0), [], [])
    assert (pkg.customer_count, pkg.revenue, pkg.gross_profit) == (6, D("3900.00"), D("1570.00"))
    assert _codes(pkg.best) == ["S-G", "S-A", "S-B"]
    assert [row.line_gross_profit for row in pkg.best] == [D("1000.00"), D("400.00"), D("100.00")]
    assert _codes(pkg.worst) == ["S-C", "S-D", "S-I"]
    assert [row.net_profit for row in pkg.worst] == [D("-290.00"), D("-100.00"), D("320.00")]
    assert pkg.worst_total == 3
    assert (svc.customer_count, svc.revenue, svc.gross_profit) == (3, D("6500.00"), D("5200.00"))
    assert _codes(svc.best) == ["S-A", "S-I"]
    assert _codes(svc.worst) == ["S-E"]
    # The chart's split: best 1,500, worst 40 + 80 − 50 = 70, nothing else.
    assert (pkg.best_gross_profit, pkg.worst_gross_profit, pkg.rest_gross_profit) == (
        D("1500.00"),
        D("70.00"),
        D("0.00"),
    )


def test_worst_reasons_carry_their_numbers(organisation, snapshot, english):
    segments = _by_code(segment_worksheet(user=organisation.finance, snapshot=snapshot))

    reasons = {row.code: [r.text for r in row.reasons] for row in segments["PKG"].worst}
    assert reasons == {
        "S-C": [
            "net profit -290.00: cost to serve 330.00 > gross profit 40.00",
            "1 return (1,000.0 per 100,000 of revenue, more than 5)",
        ],
        "S-D": [
            "net profit -100.00: cost to serve 180.00 > gross profit 80.00",
            "1 complaint (500.0 per 100,000 of revenue, more than 5)",
        ],
        "S-I": ["gross profit -50.00 in this line: sold below cost"],
    }
    (e,) = segments["SVC"].worst
    assert [r.key for r in e.reasons] == ["late"]
    assert e.reasons[0].text == "pays 60 days late on average"
    assert [row.suggestion_key for row in segments["PKG"].worst] == ["loss", "loss", "below_cost"]
    assert (
        e.suggestion
        == "Tighten credit: shorter terms, a lower credit line or payment before delivery."
    )
    assert segments["PKG"].worst[0].suggestion.startswith("Raise the price or change the terms")


def test_best_evidence(organisation, snapshot, english):
    segments = _by_code(segment_worksheet(user=organisation.finance, snapshot=snapshot))

    g, a, b = segments["PKG"].best
    assert a.line_share == pytest.approx(400 / 1570)
    assert a.line_margin == pytest.approx(0.4)
    assert a.evidence[:3] == (
        "25.5% of the line's gross profit",
        "margin 40.0%",
        "no invoice due in the window",
    )
    assert b.evidence[1] == "margin 20.0%"
    assert g.suggestion_key == "best"
    assert g.suggestion.startswith("Build a strategic partnership")


def test_a_rep_sees_only_their_customers(organisation, snapshot, english):
    segments = _by_code(segment_worksheet(user=organisation.rep, snapshot=snapshot))

    pkg = segments["PKG"]
    assert (pkg.customer_count, pkg.revenue, pkg.gross_profit) == (5, D("1900.00"), D("570.00"))
    assert _codes(pkg.best) == ["S-A", "S-B"]
    assert pkg.best[0].line_share == pytest.approx(400 / 570)
    other = segment_worksheet(user=organisation.other_rep, snapshot=snapshot)
    assert [(s.code, s.customer_count) for s in other.segments] == [
        ("EMP", 0),
        ("PKG", 1),
        ("SVC", 0),
    ]


def test_top_n_line_search_and_sort(organisation, snapshot, english):
    finance = organisation.finance
    by_name = segment_worksheet(user=finance, snapshot=snapshot, sort="-name")
    value_settings_update(changes={"segment_top_n": 1, "segment_late_days": 90})

    narrow = _by_code(segment_worksheet(user=finance, snapshot=snapshot))
    one_line = segment_worksheet(user=finance, snapshot=snapshot, line_id=narrow["SVC"].line_id)
    found = segment_worksheet(user=finance, snapshot=snapshot, search="s-e")

    assert _codes(narrow["PKG"].best) == ["S-G"]
    assert _codes(narrow["PKG"].worst) == ["S-C"]
    assert narrow["PKG"].worst_total == 3
    assert _codes(narrow["SVC"].best) == ["S-E"]  # 60 days late is no longer late
    assert narrow["SVC"].worst == []
    assert [s.code for s in one_line.segments] == ["SVC"]
    assert [(s.code, _codes(s.matches)) for s in found.segments] == [("SVC", ["S-E"])]
    assert found.segments[0].matches[0].standing == "best"
    assert _codes(_by_code(by_name)["PKG"].worst) == ["S-I", "S-D", "S-C"]


def test_orders_outside_the_window_or_not_purchases_do_not_count(organisation, snapshot):
    found = segment_worksheet(user=organisation.finance, snapshot=snapshot, search="S-")

    matches = {segment.code: _codes(segment.matches) for segment in found.segments}
    assert matches == {
        "PKG": ["S-A", "S-B", "S-C", "S-D", "S-G", "S-I"],  # not F (held, cancelled), not H (2024)
        "SVC": ["S-A", "S-E", "S-I"],
    }


# --- The next-action service --------------------------------------------------------------------


def _record(organisation, ledger, **changes):  # type: ignore[no-untyped-def]
    arguments = {
        "actor": organisation.rep,
        "line_id": ledger.lines["PKG"].pk,
        "text": "Raise the price for orders under 500",
        "owner_id": organisation.rep.pk,
        "due_on": TODAY,
        "customer_id": ledger.customers["C"].pk,
        "reason": "loss",
        "today": TODAY,
    }
    return segment_action_record(**{**arguments, **changes})


def test_record_and_complete_an_action(organisation, ledger):
    action = _record(organisation, ledger)

    assert (action.category, action.customer, action.owner) == (
        ledger.lines["PKG"],
        ledger.customers["C"],
        organisation.rep,
    )
    assert (action.status, action.recorded_by, action.due_on) == ("open", organisation.rep, TODAY)
    done = segment_action_complete(actor=organisation.customer_manager, action_id=action.pk)
    assert (done.status, done.done_by) == (SegmentActionStatus.DONE, organisation.customer_manager)
    assert done.done_at is not None
    with pytest.raises(Conflict):
        segment_action_complete(actor=organisation.rep, action_id=action.pk)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"text": "   "}, "text"),
        ({"text": "x" * 501}, "text"),
        ({"due_on": TODAY - dt.timedelta(days=1)}, "due_on"),
        ({"line_id": 999_999}, "line"),
        ({"customer_id": 999_999}, "customer"),
        ({"owner_id": 999_999}, "owner"),
        ({"reason": "whim"}, "reason"),
    ],
)
def test_refused_actions_name_the_field(organisation, ledger, changes, field):
    with pytest.raises(ValidationFailed) as refused:
        _record(organisation, ledger, **changes)

    assert refused.value.detail["field"] == field
    assert SegmentAction.objects.count() == 0


def test_a_rep_may_not_act_on_another_reps_customer(organisation, ledger):
    with pytest.raises(ValidationFailed) as refused:
        _record(organisation, ledger, customer_id=ledger.customers["G"].pk)
    about_g = _record(
        organisation, ledger, actor=organisation.finance, customer_id=ledger.customers["G"].pk
    )

    assert refused.value.detail["field"] == "customer"
    with pytest.raises(NotFound):
        segment_action_complete(actor=organisation.rep, action_id=about_g.pk)
    assert SegmentAction.objects.get(pk=about_g.pk).status == "open"


def test_open_actions_are_on_the_worksheet(organisation, snapshot, ledger):
    line_action = _record(organisation, ledger, customer_id=None, reason="", text="Line review")
    about_g = _record(
        organisation, ledger, actor=organisation.finance, customer_id=ledger.customers["G"].pk
    )
    done = _record(organisation, ledger, text="Done already")
    segment_action_complete(actor=organisation.rep, action_id=done.pk)

    for_rep = _by_code(segment_worksheet(user=organisation.rep, snapshot=snapshot))
    for_finance = _by_code(segment_worksheet(user=organisation.finance, snapshot=snapshot))

    assert for_rep["PKG"].actions == [line_action]
    assert {action.pk for action in for_finance["PKG"].actions} == {line_action.pk, about_g.pk}
    assert for_finance["SVC"].actions == []


def test_demo_next_actions(organisation, snapshot):
    from kehu.demo.segments import demo_segment_actions_build

    recorded = demo_segment_actions_build(today=TODAY)

    # PKG and SVC (EMP has no buyer): one about the line, its best and its worst customer each.
    assert recorded == 6
    actions = SegmentAction.objects.order_by("pk")
    assert [(a.category.code, a.customer.code if a.customer else None) for a in actions] == [
        ("PKG", None),
        ("PKG", "S-G"),
        ("PKG", "S-C"),
        ("SVC", None),
        ("SVC", "S-A"),
        ("SVC", "S-E"),
    ]
    assert [a.reason for a in actions] == ["", "best", "loss", "", "best", "late"]
    assert [a.status for a in actions].count("done") == 1
    assert demo_segment_actions_build(today=TODAY) == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"segment_top_n": 0}, "segment_top_n"),
        ({"segment_top_n": "10"}, "segment_top_n"),
        ({"segment_late_days": -1}, "segment_late_days"),
        ({"segment_complaints_per_100k": "many"}, "segment_complaints_per_100k"),
        ({"segment_returns_per_100k": "-0.5"}, "segment_returns_per_100k"),
    ],
)
def test_segment_settings_are_checked(changes, field):
    from kehu.value.settings import DEFAULTS, merge, validate_settings

    with pytest.raises(ValidationFailed) as refused:
        validate_settings(merge(DEFAULTS, changes))

    assert refused.value.detail["field"] == field
