"""Credit group pages (§5.3): the list (who sees which group, search, sorting, export), a new
group (refused for whom the service refuses), members added, moved and removed, the group's
exposure against its line, and a group line application that reaches the approver whose
authority covers it."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import polars as pl
import pytest
from django.urls import reverse
from django.utils import timezone, translation

from kehu.credit.models import (
    ApplicationState,
    CreditEvent,
    CreditEventKind,
    CreditGroup,
    CreditLineApplication,
    CustomerCredit,
)
from kehu.credit.selectors.lines import applications_waiting_for
from kehu.credit.tests.factories import CreditGroupFactory, CreditLineFactory
from kehu.credit.tests.test_services_lines import make_grade, make_order
from kehu.customers.tests.factories import CustomerFactory
from kehu.receivables.tests.factories import InvoiceFactory
from kehu.sales.models import OrderState, PaymentMethod


@pytest.fixture(autouse=True)
def english(client, settings):
    """Pages and messages in English (the source language), whatever the default."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


def _join(group, *customers):
    for customer in customers:
        CustomerCredit.objects.update_or_create(customer=customer, defaults={"group": group})


def _invoice(customer, open_amount: str, *, amount: str | None = None, cancelled=False):
    return InvoiceFactory.create(
        customer=customer,
        amount=Decimal(amount or open_amount),
        open_amount=Decimal(open_amount),
        is_cancelled=cancelled,
    )


@pytest.fixture
def world(organisation):
    """East: two customers of the rep in group EAST; MIXED has a customer of the rep and one of
    the other rep (west); EMPTY has no member yet; LONER is in no group."""
    today = timezone.localdate()
    rep, other = organisation.rep, organisation.other_rep
    east_1 = CustomerFactory.create(code="E1", name="东方建材", owner=rep)
    east_2 = CustomerFactory.create(code="E2", name="东方物流", owner=rep)
    east_3 = CustomerFactory.create(code="E3", name="东方贸易", owner=rep)
    west_1 = CustomerFactory.create(code="W1", name="西部钢铁", owner=other)
    loner = CustomerFactory.create(code="L1", name="独立商店", owner=rep)
    east = CreditGroupFactory.create(code="EAST", name="东方集团")
    mixed = CreditGroupFactory.create(code="MIXED", name="混合集团")
    empty = CreditGroupFactory.create(code="EMPTY", name="空集团")
    _join(east, east_1, east_2)
    _join(mixed, east_3, west_1)
    # EAST: 70,000 open + 5,000 on a confirmed credit order = 75,000 on a 100,000 line.
    _invoice(east_1, "40000")
    _invoice(east_2, "30000", amount="50000")
    _invoice(east_2, "9999", cancelled=True)  # cancelled: no exposure
    make_order(east_1, "5000", today, state=OrderState.CONFIRMED)
    cash = make_order(east_2, "7000", today, state=OrderState.CONFIRMED)
    cash.payment_method = PaymentMethod.CASH
    cash.save(update_fields=["payment_method"])
    make_order(east_2, "8000", today, state=OrderState.INVOICED)  # counted by its invoice
    # MIXED: 250,000 open, no group line.
    _invoice(east_3, "50000")
    _invoice(west_1, "200000")
    CreditLineFactory.create(
        customer=None,
        group=east,
        amount=Decimal("100000"),
        valid_from=today - dt.timedelta(days=30),
        valid_until=today + dt.timedelta(days=300),
    )
    CreditLineFactory.create(
        customer=east_1,
        amount=Decimal("60000"),
        valid_from=today - dt.timedelta(days=30),
        valid_until=today + dt.timedelta(days=300),
    )
    make_grade(east_1, "AA")
    make_grade(east_2, "A")
    return {
        "east": east,
        "mixed": mixed,
        "empty": empty,
        "east_1": east_1,
        "east_2": east_2,
        "east_3": east_3,
        "west_1": west_1,
        "loner": loner,
    }


def _codes(response) -> list[str]:
    return [row.group.code for row in response.context["rows"]]


# --- The list -------------------------------------------------------------------------------------


def test_a_rep_sees_only_the_groups_whose_members_they_all_see(client, organisation, world):
    client.force_login(organisation.rep)

    response = client.get(reverse("credit:groups"))

    assert response.status_code == 200
    assert _codes(response) == ["EAST"]
    assert client.get(reverse("credit:group_detail", args=[world["mixed"].pk])).status_code == 404
    assert client.get(reverse("credit:group_detail", args=[world["empty"].pk])).status_code == 404


def test_the_other_rep_sees_no_group_and_an_empty_state(client, organisation, world):
    client.force_login(organisation.other_rep)

    response = client.get(reverse("credit:groups"))

    assert _codes(response) == []
    assert "No credit groups" in response.content.decode()


def test_finance_sees_every_group_with_its_figures(client, organisation, world):
    client.force_login(organisation.finance)

    response = client.get(reverse("credit:groups"))

    assert _codes(response) == ["EAST", "EMPTY", "MIXED"]
    rows = {row.group.code: row for row in response.context["rows"]}
    assert rows["EAST"].member_count == 2
    assert rows["EAST"].exposure == Decimal("75000.00")
    assert rows["EAST"].share_used == Decimal("75.0")
    assert rows["MIXED"].exposure == Decimal("250000.00")
    assert rows["MIXED"].line is None
    assert rows["MIXED"].share_used is None
    assert rows["EMPTY"].member_count == 0


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("east", ["EAST"]),
        ("混合", ["MIXED"]),
        ("西部钢铁", ["MIXED"]),
        ("W1", ["MIXED"]),
        ("无", []),
    ],
)
def test_the_search_finds_groups_by_code_name_and_member(
    client, organisation, world, query, expected
):
    client.force_login(organisation.finance)

    response = client.get(reverse("credit:groups"), {"q": query})

    assert _codes(response) == expected


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("-exposure", ["MIXED", "EAST", "EMPTY"]),
        ("exposure", ["EMPTY", "EAST", "MIXED"]),
        ("-members", ["EAST", "MIXED", "EMPTY"]),
        ("-share", ["EAST", "EMPTY", "MIXED"]),
        ("-code", ["MIXED", "EMPTY", "EAST"]),
        ("nonsense", ["EAST", "EMPTY", "MIXED"]),
    ],
)
def test_the_list_sorts(client, organisation, world, sort, expected):
    client.force_login(organisation.finance)

    response = client.get(reverse("credit:groups"), {"sort": sort})

    assert _codes(response) == expected


def test_a_search_from_the_page_answers_with_the_results_only(client, organisation, world):
    client.force_login(organisation.finance)

    response = client.get(
        reverse("credit:groups"),
        {"q": "MIX", "sort": "-exposure"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="group-results",
    )

    page = response.content.decode()
    assert _codes(response) == ["MIXED"]
    assert "<html" not in page
    assert 'id="sort-input" value="-exposure" hx-swap-oob="true"' in page


def test_the_export_holds_the_groups_the_user_sees(client, organisation, world):
    client.force_login(organisation.rep)

    response = client.get(reverse("credit:groups_export"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    sheet = pl.read_excel(io.BytesIO(b"".join(response.streaming_content)))
    assert sheet.height == 1
    row = sheet.row(0, named=True)
    assert row["Group code"] == "EAST"
    assert row["Members"] == 2
    assert row["Member codes"] == "E1, E2"
    assert row["Group exposure"] == pytest.approx(75000.0)
    assert row["Share used (%)"] == pytest.approx(75.0)


# --- A new group ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["rep", "other_rep"])
def test_a_rep_may_not_create_a_group_and_is_told_why(client, organisation, world, role):
    client.force_login(getattr(organisation, role))
    before = CreditGroup.objects.count()

    response = client.post(reverse("credit:groups"), {"group-code": "NEW", "group-name": "新集团"})

    assert response.status_code == 422
    assert "only a manager, finance or top management may create a credit group" in (
        response.content.decode()
    )
    assert CreditGroup.objects.count() == before
    assert not CreditGroup.objects.filter(code="NEW").exists()
    refusal = CreditEvent.objects.get(kind=CreditEventKind.REFUSED)
    assert refusal.reason["action"] == "group_create"


def test_the_form_is_offered_only_to_those_who_may_create(client, organisation, world):
    client.force_login(organisation.rep)
    assert 'name="group-code"' not in client.get(reverse("credit:groups")).content.decode()
    client.force_login(organisation.customer_manager)
    assert 'name="group-code"' in client.get(reverse("credit:groups")).content.decode()


def test_a_manager_creates_a_group_and_fills_it(client, organisation, world):
    client.force_login(organisation.customer_manager)

    response = client.post(
        reverse("credit:groups"),
        {"group-code": " NEW ", "group-name": "新集团", "group-notes": "母子公司"},
    )

    group = CreditGroup.objects.get(code="NEW")
    assert response.status_code == 302
    assert response["Location"] == reverse("credit:group_detail", args=[group.pk])
    assert (group.name, group.notes) == ("新集团", "母子公司")
    # Managers see the groups still empty, and no group with a member they do not see.
    assert _codes(client.get(reverse("credit:groups"))) == ["EAST", "EMPTY", "NEW"]
    # Empty, it is still shown to the manager so that members can be added.
    assert client.get(response["Location"]).status_code == 200
    added = client.post(response["Location"], {"member-code": "L1"})
    assert added.status_code == 302
    assert CustomerCredit.objects.get(customer=world["loner"]).group == group
    assert _codes(client.get(reverse("credit:groups"))) == ["EAST", "EMPTY", "NEW"]
    assert client.get(reverse("credit:groups"), {"q": "独立"}).context["rows"][0].member_ids == [
        world["loner"].pk
    ]


def test_a_taken_code_is_refused_on_its_field(client, organisation, world):
    client.force_login(organisation.finance)

    response = client.post(reverse("credit:groups"), {"group-code": "EAST", "group-name": "又一个"})

    assert response.status_code == 422
    assert response.context["form"].errors["code"] == ["group EAST already exists"]
    assert CreditGroup.objects.filter(code="EAST").get().name == "东方集团"


# --- Members --------------------------------------------------------------------------------------


def test_a_customer_of_another_group_is_moved_only_once_confirmed(client, organisation, world):
    client.force_login(organisation.finance)
    url = reverse("credit:group_detail", args=[world["east"].pk])

    asked = client.post(url, {"member-code": "E3"})

    assert asked.status_code == 200
    assert asked.context["move_from"] == world["mixed"]
    assert "E3 is a member of group MIXED" in asked.content.decode()
    assert CustomerCredit.objects.get(customer=world["east_3"]).group == world["mixed"]

    moved = client.post(url, {"member-code": "E3", "member-confirm": "1"}, follow=True)

    assert CustomerCredit.objects.get(customer=world["east_3"]).group == world["east"]
    assert "E3 moved from group MIXED into this group." in moved.content.decode()
    event = CreditEvent.objects.filter(kind=CreditEventKind.GROUP_CHANGED).get()
    assert (event.before, event.after) == ({"group": "MIXED"}, {"group": "EAST"})


def test_a_rep_may_not_add_a_member_and_nothing_changes(client, organisation, world):
    client.force_login(organisation.rep)

    response = client.post(
        reverse("credit:group_detail", args=[world["east"].pk]), {"member-code": "L1"}
    )

    assert response.status_code == 422
    assert "only a manager, finance or top management may change a credit group" in (
        response.content.decode()
    )
    assert not CustomerCredit.objects.filter(customer=world["loner"], group__isnull=False).exists()
    assert CreditEvent.objects.get().kind == CreditEventKind.REFUSED


@pytest.mark.parametrize(
    ("code", "message"),
    [("NOPE", "no customer with the code NOPE that you see"), ("E1", "E1 is already a member")],
)
def test_an_unknown_or_present_customer_is_refused(client, organisation, world, code, message):
    client.force_login(organisation.finance)

    response = client.post(
        reverse("credit:group_detail", args=[world["east"].pk]), {"member-code": code}
    )

    assert response.status_code == 422
    assert message in response.context["form"].errors["code"][0]
    assert not CreditEvent.objects.exists()


def test_a_manager_does_not_add_a_customer_they_cannot_see(client, organisation, world):
    # The customer manager of the east team does not see the west rep's customer.
    client.force_login(organisation.customer_manager)

    response = client.post(
        reverse("credit:group_detail", args=[world["east"].pk]), {"member-code": "W1"}
    )

    assert response.status_code == 422
    assert CustomerCredit.objects.get(customer=world["west_1"]).group == world["mixed"]


def test_a_member_is_removed(client, organisation, world):
    client.force_login(organisation.customer_manager)

    response = client.post(
        reverse("credit:group_member_remove", args=[world["east"].pk, world["east_2"].pk])
    )

    assert response.status_code == 302
    assert CustomerCredit.objects.get(customer=world["east_2"]).group is None
    assert client.get(reverse("credit:groups")).context["rows"][0].member_ids == [
        world["east_1"].pk
    ]


def test_a_rep_may_not_remove_a_member(client, organisation, world):
    client.force_login(organisation.rep)

    client.post(reverse("credit:group_member_remove", args=[world["east"].pk, world["east_2"].pk]))

    assert CustomerCredit.objects.get(customer=world["east_2"]).group == world["east"]


# --- The group page -------------------------------------------------------------------------------


def test_the_group_page_shows_the_exposure_against_the_line(client, organisation, world):
    client.force_login(organisation.rep)
    # Computed here from the fixture: open invoices not cancelled, plus confirmed orders on
    # credit not yet invoiced.
    own = {"E1": Decimal("40000") + Decimal("5000"), "E2": Decimal("30000")}
    total = sum(own.values())
    line = Decimal("100000")

    response = client.get(reverse("credit:group_detail", args=[world["east"].pk]))

    assert response.status_code == 200
    row = response.context["row"]
    assert row.exposure == total
    assert row.share_used == (total * 100 / line).quantize(Decimal("0.1"))
    assert row.available == line - total
    members = {member["customer"].code: member for member in response.context["members"]}
    assert {code: member["exposure"] for code, member in members.items()} == own
    assert members["E1"]["share"] == (own["E1"] * 100 / total).quantize(Decimal("0.1"))
    assert members["E1"]["line_today"] == Decimal("60000")
    assert members["E2"]["line"] is None
    assert (members["E1"]["grade"], members["E2"]["grade"]) == ("AA", "A")
    chart = response.context["chart"]
    assert chart["line"] == 100000.0
    assert sorted(member["exposure"] for member in chart["members"]) == [30000.0, 45000.0]
    page = response.content.decode()
    assert 'data-figure="group-exposure">75,000.00' in page
    assert 'data-figure="share-used">75.0%' in page
    assert "echarts.min.js" in page
    assert "credit/groups.js" in page


# --- Applying for a group line --------------------------------------------------------------------


def test_the_application_page_shows_the_group_proposal(client, organisation, world):
    client.force_login(organisation.rep)

    response = client.get(reverse("credit:group_application_new", args=[world["east"].pk]))

    assert response.status_code == 200
    proposals = response.context["proposals"]
    assert [member.code for member, _proposal in proposals] == ["E1", "E2"]
    assert response.context["proposed"] == sum(proposal.amount for _m, proposal in proposals)
    assert response.context["form"].initial["requested_amount"] == response.context["proposed"]


def test_the_application_form_offers_iso_dates_and_warns_of_an_open_one(
    client, organisation, world
):
    client.force_login(organisation.rep)
    url = reverse("credit:group_application_new", args=[world["east"].pk])
    first = client.get(url)
    valid_until = first.context["form"].initial["valid_until"]
    client.post(
        url,
        {
            "requested_amount": "90000",
            "payment_terms_days": "30",
            "valid_until": valid_until.isoformat(),
        },
    )

    again = client.get(url).content.decode()

    assert f'type="date" name="valid_until" value="{valid_until.isoformat()}"' in (
        first.content.decode()
    )
    application = CreditLineApplication.objects.get()
    assert f"Application #{application.pk} for this group is still open" in again


@pytest.mark.parametrize(
    ("amount", "role", "approver"),
    [
        ("80000", "customer_manager", "customer_manager"),
        ("300000", "direct_sales_manager", "direct_sales_manager"),
        ("1500000", "regional_manager", "regional_manager"),
        ("3000000", "top_management", "top_management"),
    ],
)
def test_a_group_application_reaches_the_approver_whose_authority_covers_it(
    client, organisation, world, amount, role, approver
):
    client.force_login(organisation.rep)
    valid_until = timezone.localdate() + dt.timedelta(days=365)

    response = client.post(
        reverse("credit:group_application_new", args=[world["east"].pk]),
        {
            "requested_amount": amount,
            "payment_terms_days": "45",
            "valid_until": valid_until.isoformat(),
            "reason": "集团统一授信",
        },
    )

    application = CreditLineApplication.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("credit:application_detail", args=[application.pk])
    assert (application.group, application.customer) == (world["east"], None)
    assert application.requested_amount == Decimal(amount)
    assert application.state == ApplicationState.SUBMITTED
    assert application.required_role == role
    deciders = [
        name
        for name in ("customer_manager", "direct_sales_manager", "regional_manager")
        if application in applications_waiting_for(getattr(organisation, name))
    ]
    lowest = {
        "customer_manager": ["customer_manager", "direct_sales_manager", "regional_manager"],
        "direct_sales_manager": ["direct_sales_manager", "regional_manager"],
        "regional_manager": ["regional_manager"],
        "top_management": [],
    }[approver]
    assert deciders == lowest
    assert application in applications_waiting_for(organisation.top_management)


def test_the_application_list_and_detail_name_and_link_the_group(client, organisation, world):
    client.force_login(organisation.rep)
    client.post(
        reverse("credit:group_application_new", args=[world["east"].pk]),
        {
            "requested_amount": "300000",
            "payment_terms_days": "30",
            "valid_until": (timezone.localdate() + dt.timedelta(days=365)).isoformat(),
        },
    )
    application = CreditLineApplication.objects.get()
    group_url = reverse("credit:group_detail", args=[world["east"].pk])
    client.force_login(organisation.direct_sales_manager)

    listing = client.get(reverse("credit:applications"), {"waiting": "1"}).content.decode()
    detail = client.get(reverse("credit:application_detail", args=[application.pk]))

    assert f'href="{group_url}"' in listing
    assert "东方集团" in listing
    assert detail.status_code == 200
    assert f'href="{group_url}"' in detail.content.decode()
    assert detail.context["may_decide"] is True


def test_a_second_open_group_application_is_refused_with_the_service_message(
    client, organisation, world
):
    client.force_login(organisation.rep)
    form = {
        "requested_amount": "90000",
        "payment_terms_days": "30",
        "valid_until": (timezone.localdate() + dt.timedelta(days=365)).isoformat(),
    }
    url = reverse("credit:group_application_new", args=[world["east"].pk])
    client.post(url, form)

    response = client.post(url, form | {"requested_amount": "95000"})

    assert response.status_code == 422
    assert "for group EAST is still open" in response.content.decode()
    assert CreditLineApplication.objects.count() == 1


def test_a_rep_cannot_apply_for_a_group_they_do_not_wholly_see(client, organisation, world):
    client.force_login(organisation.rep)

    response = client.get(reverse("credit:group_application_new", args=[world["mixed"].pk]))

    assert response.status_code == 404


# --- Links ----------------------------------------------------------------------------------------


def test_the_customer_pages_lead_to_its_group(client, organisation, world):
    client.force_login(organisation.rep)

    lines = client.get(reverse("credit:lines", args=[world["east_1"].pk])).content.decode()
    to_group = client.get(reverse("credit:customer_group", args=[world["east_1"].pk]))
    hidden = client.get(reverse("credit:customer_group", args=[world["east_3"].pk]), follow=True)

    assert reverse("credit:customer_group", args=[world["east_1"].pk]) in lines
    subnav = client.get(reverse("credit:applications")).content.decode()
    assert f'href="{reverse("credit:groups")}"' in subnav
    assert to_group["Location"] == reverse("credit:group_detail", args=[world["east"].pk])
    assert "you do not see all of its members" in hidden.content.decode()
