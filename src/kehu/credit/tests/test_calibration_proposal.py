"""Points for the template's indicators proposed from the company's own history
(credit/calibration/proposal.py), its page and `kehu credit calibrate --propose`."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from itertools import pairwise

import numpy as np
import pytest
from django.contrib.messages import get_messages
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from typer.testing import CliRunner

from kehu.core.errors import PermissionDenied, ValidationFailed
from kehu.credit.calibration.proposal import (
    rescaled_points,
    scorecard_proposal_accept,
    scorecard_proposal_from_history,
)
from kehu.credit.default_template import DEFAULT_TEMPLATE
from kehu.credit.models import CreditEvent, CreditEventKind, ScorecardTemplate
from kehu.credit.scorecard import validate_definition
from kehu.credit.services.ratings import credit_rating_run, scorecard_template_ensure_default
from kehu.credit.views.proposal import sign_definition

AS_OF = dt.date(2026, 6, 30)
PASSWORD = "secret-pass-1"
SEED = 5
BAD_CHANCE = (0.02, 0.08, 0.15, 0.3, 0.45, 0.6, 0.75, 0.9)
HISTORY_INVOICES = (
    dt.date(2024, 9, 1),
    dt.date(2024, 11, 1),
    dt.date(2025, 1, 1),
    dt.date(2025, 3, 1),
)


@pytest.fixture(autouse=True)
def _english(client, settings):
    """Pages and messages in English (the source language), whatever the default."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


def _ledger(customers: int = 120) -> None:
    """`customers` customers, each with four invoices due in the history year: customer i paid
    `late` = i % 5 of them 8 + 12·d days late (d = i // 5 % 4), the rest on time. The risk
    late + d (0 … 7) sets the chance BAD_CHANCE[risk] that the customer leaves an invoice of
    August 2025 unpaid (bad in the outcome year), drawn with a fixed seed. Size: the bad ones of
    even index small, the rest large."""
    from kehu.accounts.tests.factories import UserFactory
    from kehu.customers.tests.factories import CustomerFactory
    from kehu.receivables.models import Invoice, Payment, PaymentAllocation
    from kehu.receivables.tests.factories import InvoiceFactory

    draws = np.random.default_rng(SEED).random(customers)
    owner = UserFactory()
    invoices, paid = [], []
    for index in range(customers):
        late, delay = index % 5, index // 5 % 4
        goes_bad = draws[index] < BAD_CHANCE[late + delay]
        customer = CustomerFactory.create(
            owner=owner, size="small" if goes_bad and index % 2 == 0 else "large"
        )
        for number, issued in enumerate(HISTORY_INVOICES):
            invoice = InvoiceFactory.build(customer=customer, issue_date=issued)
            invoices.append(invoice)
            days = 8 + 12 * delay if number < late else 0
            paid.append((invoice, invoice.due_date + dt.timedelta(days=days)))
        if goes_bad:
            invoices.append(InvoiceFactory.build(customer=customer, issue_date=dt.date(2025, 8, 1)))
    Invoice.objects.bulk_create(invoices)
    payments = Payment.objects.bulk_create(
        Payment(
            number=f"P{invoice.number}",
            customer=invoice.customer,
            received_on=on,
            amount=invoice.amount,
            unallocated_amount=Decimal(0),
        )
        for invoice, on in paid
    )
    PaymentAllocation.objects.bulk_create(
        PaymentAllocation(payment=payment, invoice=invoice, amount=invoice.amount, allocated_on=on)
        for payment, (invoice, on) in zip(payments, paid, strict=True)
    )


@pytest.fixture(scope="module")
def proposal(django_db_setup, django_db_blocker):
    """The proposal from `_ledger()`, computed once; the ledger is rolled back."""
    with django_db_blocker.unblock(), translation.override("en"), transaction.atomic():
        _ledger()
        computed = scorecard_proposal_from_history(as_of=AS_OF)
        transaction.set_rollback(True)
    return computed


def _indicator(proposal, code: str):
    return next(item for item in proposal.indicators if item.code == code)


def _points(bands) -> list[Decimal]:
    return [Decimal(points) for _lower, points in bands]


# --- The proposal ----------------------------------------------------------------------------


def test_the_figures_come_from_the_history(proposal):
    assert (proposal.as_of, proposal.observed_on) == (AS_OF, dt.date(2025, 6, 30))
    assert (proposal.rows, proposal.bads) == (120, 49)
    assert proposal.bad_rate == 49 / 120
    assert proposal.holdout_gini == pytest.approx(2 * proposal.holdout_auc - 1)
    assert proposal.cv_auc_mean > 0.75
    assert proposal.base_template == ""  # none in force yet: Kehu's default template


def test_on_time_share_earns_more_points_the_more_invoices_are_paid_on_time(proposal):
    item = _indicator(proposal, "on_time_share")

    assert (item.attribute, item.points, item.group) == (
        "on_time_share",
        Decimal(12),
        "payment_record",
    )
    assert item.current_mapping == {"kind": "linear", "worst": "0.5", "best": "1"}
    assert item.proposed_mapping == {
        "kind": "bands",
        "bands": [["0", "0"], ["0.125", "1"], ["0.375", "1.5"], ["0.625", "12"]],
    }
    points = _points(item.proposed_mapping["bands"])
    assert all(low < high for low, high in pairwise(points))
    assert (points[0], points[-1]) == (Decimal(0), item.points)  # worst bin 0, best bin full


def test_days_beyond_terms_earn_fewer_points_the_more_days(proposal):
    item = _indicator(proposal, "avg_days_beyond_terms")

    assert item.attribute == "days_beyond_terms"
    assert item.proposed_mapping == {
        "kind": "bands",
        "bands": [
            ["0", "8"],
            ["3", "6.5"],
            ["5.5", "4.5"],
            ["13", "3"],
            ["21", "2.5"],
            ["32.5", "0"],
        ],
    }
    points = _points(item.proposed_mapping["bands"])
    assert all(low > high for low, high in pairwise(points))
    assert (points[0], points[-1]) == (item.points, Decimal(0))
    rates = [b.bad_rate for b in item.bins]
    assert all(low < high for low, high in pairwise(rates))  # the bins' bad rate rises
    assert item.rationale.startswith("6 bins learned from the history: the bad rate goes from 4%")


def test_iv_and_its_share_are_reported_as_a_hint_only(proposal):
    on_time, days = (
        _indicator(proposal, code) for code in ("on_time_share", "avg_days_beyond_terms")
    )

    assert on_time.iv_share + days.iv_share == pytest.approx(1.0)
    assert on_time.iv_share == pytest.approx(on_time.iv / (on_time.iv + days.iv))
    assert on_time.iv > 1
    assert days.iv > 1


def test_attributes_without_an_indicator_or_evidence_are_left_out_with_the_reason(proposal):
    assert [(item.attribute, item.reason) for item in proposal.left_out] == [
        ("purchase_growth", "Empty for every customer in the history."),
        ("ownership", "Empty for every customer in the history."),
        ("industry", "Empty for every customer in the history."),
        ("oldest_overdue_days", "IV below 0.02"),
        ("relationship_years", "IV below 0.02"),
        ("size", "IV below 0.02"),
    ]


def test_the_definition_is_the_template_with_only_the_proposed_mappings_swapped_in(proposal):
    definition = proposal.definition
    expected = validate_definition(DEFAULT_TEMPLATE)

    assert validate_definition(definition) == definition
    changed = {}
    for group, original in zip(definition["groups"], expected["groups"], strict=True):
        assert group["points"] == original["points"]
        for indicator, before in zip(group["indicators"], original["indicators"], strict=True):
            assert indicator["points"] == before["points"]
            assert indicator["missing_points"] == before["missing_points"]
            if indicator["mapping"] != before["mapping"]:
                changed[indicator["code"]] = indicator["mapping"]
    assert changed == {item.code: item.proposed_mapping for item in proposal.indicators}
    assert set(changed) == {"on_time_share", "avg_days_beyond_terms"}
    assert definition["notes"].endswith(
        "Points of on_time_share, avg_days_beyond_terms proposed from the history as of 2026-06-30."
    )


def test_size_does_not_map_cleanly_onto_the_ownership_and_size_answers():
    from kehu.credit.calibration.proposal import _choice_left_out
    from kehu.credit.calibration.scorecard import Attribute, ScoreBin

    size = Attribute(
        name="size",
        kind="categorical",
        iv=0.3,
        coefficient=-1.0,
        bins=(
            ScoreBin(label="small", count=40, bads=20, woe=-0.5, points=20, categories=("small",)),
            ScoreBin(label="large", count=80, bads=8, woe=0.7, points=40, categories=("large",)),
        ),
    )

    left = _choice_left_out(size, validate_definition(DEFAULT_TEMPLATE), 0.25)

    assert (left.attribute, left.iv) == ("size", 0.3)
    assert left.reason == (
        "It does not map cleanly onto the indicator ownership_size: the customer card's values "
        "(large, small) are not that indicator's answers (individual, large, medium, micro, "
        "small), which the survey enters by judgement. Its mapping is left as it is (IV share "
        "25%)."
    )


def test_rescaling_gives_the_best_full_points_the_worst_none_and_rounds_to_halves():
    assert rescaled_points([200.0, 210.0, 233.3, 300.0], full=Decimal("4.25")) == [
        Decimal(0),
        Decimal("0.5"),
        Decimal("1.5"),
        Decimal("4.25"),
    ]
    assert rescaled_points([300.0, 250.0, 200.0], full=Decimal(5)) == [
        Decimal(5),
        Decimal("2.5"),
        Decimal(0),
    ]


@pytest.mark.django_db
def test_too_little_history_is_refused_clearly():
    with pytest.raises(ValidationFailed) as refused:
        scorecard_proposal_from_history(as_of=AS_OF)

    assert refused.value.message == (
        "Too little history to propose points as of 2026-06-30: Only 0 rows: a scorecard needs "
        "at least 50."
    )


# --- Accepting -------------------------------------------------------------------------------


def test_accepting_puts_version_2_in_force_and_old_ratings_keep_version_1(organisation, proposal):
    from kehu.customers.tests.factories import CustomerFactory

    first = scorecard_template_ensure_default()
    rating = credit_rating_run(customer=CustomerFactory(), actor=organisation.finance, as_of=AS_OF)

    created = scorecard_proposal_accept(definition=proposal.definition, actor=organisation.finance)

    assert (created.code, created.version, created.is_active) == ("default", 2, True)
    assert created.created_by == organisation.finance
    first.refresh_from_db()
    rating.refresh_from_db()
    assert first.is_active is False
    assert rating.template_id == first.pk
    mapping = created.groups.get(code="payment_record").indicators.get(code="on_time_share").mapping
    assert mapping == _indicator(proposal, "on_time_share").proposed_mapping


def test_a_rep_cannot_accept(organisation, proposal):
    scorecard_template_ensure_default()

    with pytest.raises(PermissionDenied):
        scorecard_proposal_accept(definition=proposal.definition, actor=organisation.rep)

    assert list(ScorecardTemplate.objects.values_list("version", "is_active")) == [(1, True)]


# --- The page --------------------------------------------------------------------------------

URL = "/credit/template/proposal/"


def test_the_page_is_for_finance_only(client, organisation):
    assert reverse("credit:template_proposal") == URL
    client.force_login(organisation.rep)

    assert client.get(URL).status_code == 403
    assert client.post(URL, {"action": "compute", "as_of": "2026-06-30"}).status_code == 403

    client.force_login(organisation.finance)
    page = client.get(URL)
    assert page.status_code == 200
    assert "Compute proposal" in page.content.decode()


def test_finance_computes_the_proposal_and_accepts_it(client, organisation):
    _ledger()
    scorecard_template_ensure_default()
    client.force_login(organisation.finance)

    page = client.post(URL, {"action": "compute", "as_of": "2026-06-30"})

    assert page.status_code == 200
    html = page.content.decode()
    for text in ("Accept as a new template version", "Discard", "≥ 0.625: 12", "40.8%", "120"):
        assert text in html
    signed = page.context["signed_definition"]
    assert (
        signing.TimestampSigner(salt="kehu.credit.template_proposal").unsign_object(signed)
        == page.context["proposal"].definition
    )

    accepted = client.post(URL, {"action": "accept", "definition": signed})

    assert accepted.status_code == 302
    assert accepted["Location"] == reverse("credit:template")
    assert list(
        ScorecardTemplate.objects.order_by("version").values_list("version", "is_active")
    ) == [
        (1, False),
        (2, True),
    ]
    assert [str(message) for message in get_messages(accepted.wsgi_request)] == [
        "Version 2 of 信用等级评估方案, with the proposed points, is now in force."
    ]


def test_a_rep_posting_an_acceptance_is_refused_and_logged(client, organisation, proposal):
    scorecard_template_ensure_default()
    client.force_login(organisation.rep)

    response = client.post(
        URL, {"action": "accept", "definition": sign_definition(proposal.definition)}
    )

    assert response.status_code == 403
    assert ScorecardTemplate.objects.count() == 1
    event = CreditEvent.objects.get(kind=CreditEventKind.REFUSED)
    assert event.actor == organisation.rep
    assert event.reason["action"] == "scorecard_proposal_accept"
    assert event.reason["message"] == (
        "Only finance, top management or an administrator may change the template."
    )


def test_a_tampered_definition_is_refused(client, organisation, proposal):
    scorecard_template_ensure_default()
    client.force_login(organisation.finance)
    signed = sign_definition(proposal.definition)
    _value, rest = signed.split(":", 1)
    tampered = sign_definition({**proposal.definition, "total_points": "90"}).split(":", 1)[0]

    response = client.post(URL, {"action": "accept", "definition": f"{tampered}:{rest}"})

    assert response.status_code == 422
    assert (
        "The proposal sent back is not the one Kehu computed (its signature does not match): "
        "compute it again." in response.content.decode()
    )
    assert ScorecardTemplate.objects.count() == 1
    assert CreditEvent.objects.get(kind=CreditEventKind.REFUSED).reason["action"] == (
        "scorecard_proposal_accept"
    )


def test_an_expired_proposal_is_refused(client, organisation, proposal, monkeypatch):
    import time

    scorecard_template_ensure_default()
    client.force_login(organisation.finance)
    two_hours_ago = time.time() - 2 * 60 * 60
    monkeypatch.setattr(signing.time, "time", lambda: two_hours_ago)
    signed = sign_definition(proposal.definition)
    monkeypatch.undo()

    response = client.post(URL, {"action": "accept", "definition": signed})

    assert response.status_code == 422
    assert "This proposal is more than an hour old" in response.content.decode()
    assert ScorecardTemplate.objects.count() == 1


def test_the_template_page_links_to_the_proposal(client, organisation):
    client.force_login(organisation.finance)

    page = client.get(reverse("credit:template"))

    assert f'href="{URL}"' in page.content.decode()


# --- The command line ------------------------------------------------------------------------


runner = CliRunner()


@pytest.fixture(scope="module")
def app():
    import typer

    from kehu.cli.credit import register

    application = typer.Typer()
    register(application)
    return application


def _run(app, *arguments: str):
    return runner.invoke(app, ["credit", "calibrate", *arguments])


@pytest.mark.django_db
def test_cli_propose_prints_the_proposal_as_json(app):
    _ledger()

    result = _run(app, "--from-history", "--as-of", "2026-06-30", "--propose", "--json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"proposal", "accepted"}
    assert data["accepted"] is None
    proposal = data["proposal"]
    assert {
        "rows",
        "bad_rate",
        "holdout",
        "cv_auc_mean",
        "indicators",
        "left_out",
        "definition",
    } <= set(proposal)
    assert [item["code"] for item in proposal["indicators"]] == [
        "on_time_share",
        "avg_days_beyond_terms",
    ]
    first = proposal["indicators"][0]
    assert first["current_mapping"] == {"kind": "linear", "worst": "0.5", "best": "1"}
    assert first["proposed_mapping"]["bands"][-1] == ["0.625", "12"]
    assert ScorecardTemplate.objects.count() == 0  # nothing accepted


def test_cli_accept_as_a_rep_is_refused_with_exit_2(app, organisation):
    _ledger()

    result = _run(
        app, "--from-history", "--as-of", "2026-06-30", "--propose", "--accept", "--as-user", "rep"
    )

    assert result.exit_code == 2
    assert (
        "Only finance, top management or an administrator may change the template." in result.stderr
    )
    assert ScorecardTemplate.objects.count() == 0
    assert CreditEvent.objects.get(kind=CreditEventKind.REFUSED).actor == organisation.rep


def test_cli_accept_as_finance_puts_the_proposal_in_force(app, organisation):
    _ledger()

    result = _run(
        app,
        "--from-history",
        "--as-of",
        "2026-06-30",
        "--propose",
        "--accept",
        "--as-user",
        "finance",
    )

    assert result.exit_code == 0, result.output
    assert "Accepted: default v1 is now in force." in result.stdout
    template = ScorecardTemplate.objects.get()
    assert template.created_by == organisation.finance


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--from-history", "--accept"), "--accept needs --propose."),
        (("--propose",), "--propose needs --from-history (and no --data)."),
        (("--from-history", "--propose", "--accept"), "--accept needs --as-user USERNAME"),
    ],
)
def test_cli_propose_options_that_do_not_go_together_exit_2(app, arguments, message):
    result = _run(app, *arguments)

    assert result.exit_code == 2
    assert message in result.stderr
