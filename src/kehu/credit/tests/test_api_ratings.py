"""The ratings API: the template, new versions (and refusals in the log), a customer's
ratings and rating now, with who may see and do what."""

import copy
from decimal import Decimal

import pytest

from kehu.credit.default_template import DEFAULT_TEMPLATE
from kehu.credit.models import CreditEvent, CreditRating, ScorecardTemplate
from kehu.credit.services.ratings import credit_rating_run, scorecard_template_ensure_default
from kehu.credit.tests.test_measures import AS_OF, ledger  # noqa: F401 - the fixture
from kehu.customers.tests.factories import CustomerFactory

D = Decimal


def test_the_template_in_force_with_groups_and_indicators(client, organisation):
    scorecard_template_ensure_default()
    client.force_login(organisation.rep)

    response = client.get("/api/credit/template")

    assert response.status_code == 200
    body = response.json()
    assert (body["code"], body["version"], body["total_points"]) == ("default", 1, "100.00")
    assert body["grade_bands"] == {"AAA": "90", "AA": "80", "A": "70", "B": "60"}
    assert [group["points"] for group in body["groups"]] == [
        "25.00", "30.00", "12.00", "23.00", "10.00",
    ]  # fmt: skip
    on_time = body["groups"][1]["indicators"][0]
    assert on_time["code"] == "on_time_share"
    assert on_time["mapping"] == {"kind": "linear", "worst": "0.5", "best": "1"}
    assert on_time["missing_points"] == "6.00"


def test_no_template_yet_answers_404(client, organisation):
    client.force_login(organisation.finance)

    assert client.get("/api/credit/template").status_code == 404


def test_finance_puts_a_new_version_in_force(client, organisation):
    scorecard_template_ensure_default()
    client.force_login(organisation.finance)
    definition = copy.deepcopy(DEFAULT_TEMPLATE)
    definition["grade_bands"] = {"AAA": 95, "AA": 85, "A": 75, "B": 65}

    response = client.post("/api/credit/templates", definition, content_type="application/json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["version"], body["is_active"]) == (2, True)
    assert body["grade_bands"] == {"AAA": "95", "AA": "85", "A": "75", "B": "65"}
    assert ScorecardTemplate.objects.get(is_active=True).pk == body["id"]


def test_a_template_whose_points_do_not_add_up_is_refused_logged_and_nothing_changes(
    client, organisation
):
    current = scorecard_template_ensure_default()
    client.force_login(organisation.finance)
    definition = copy.deepcopy(DEFAULT_TEMPLATE)
    definition["total_points"] = "110"

    response = client.post("/api/credit/templates", definition, content_type="application/json")

    assert response.status_code == 422
    assert response.json()["message"] == (
        "template: the groups' points add up to 100, not the total 110"
    )
    assert list(ScorecardTemplate.objects.values_list("pk", "is_active")) == [(current.pk, True)]
    refused = CreditEvent.objects.get(kind="refused")
    assert refused.actor == organisation.finance
    assert refused.reason["action"] == "scorecard_template_create"
    assert refused.reason["message"] == response.json()["message"]


@pytest.mark.parametrize("role", ["rep", "customer_manager", "regional_manager"])
def test_only_finance_top_management_and_administrators_post_templates(client, organisation, role):
    scorecard_template_ensure_default()
    client.force_login(getattr(organisation, role))

    response = client.post(
        "/api/credit/templates", DEFAULT_TEMPLATE, content_type="application/json"
    )

    assert response.status_code == 403
    assert ScorecardTemplate.objects.count() == 1
    assert CreditEvent.objects.filter(kind="refused").count() == 1


def test_a_customer_s_latest_rating_with_its_breakdown(client, organisation, ledger):  # noqa: F811
    first = credit_rating_run(customer=ledger["a"], actor=None, as_of=AS_OF)
    credit_rating_run(customer=ledger["a"], actor=None, as_of=AS_OF)
    client.force_login(organisation.rep)

    response = client.get(f"/api/customers/{ledger['a'].pk}/credit/rating")

    assert response.status_code == 200
    body = response.json()
    assert (body["score"], body["grade"], body["missing_count"]) == ("28.70", "C", 15)
    assert (body["previous_id"], body["score_change"], body["grade_change"]) == (
        first.pk, "0.00", 0,
    )  # fmt: skip
    assert body["template_version"] == 1
    payment = body["groups"][1]
    assert (payment["code"], payment["points"], payment["max_points"], payment["change"]) == (
        "payment_record", "4.00", "30.00", "0.00",
    )  # fmt: skip
    on_time, days, _oldest, bad_debts = payment["items"]
    assert (on_time["value"], on_time["value_text"], on_time["points"]) == (
        "0.333300", "33.3%", "0.00",
    )  # fmt: skip
    assert (days["value"], days["points"], days["is_missing"]) == ("31.100000", "2.00", False)
    assert (bad_debts["is_missing"], bad_debts["points"], bad_debts["missing_points"]) == (
        True, "2.00", "2.00",
    )  # fmt: skip
    bank = body["groups"][0]["items"][3]
    assert (bank["code"], bank["value"], bank["is_missing"], bank["points"]) == (
        "bank_record", None, True, "1.20",
    )  # fmt: skip
    listed = client.get(f"/api/customers/{ledger['a'].pk}/credit/ratings").json()
    assert listed["count"] == 2
    assert [item["score"] for item in listed["items"]] == ["28.70", "28.70"]


def test_a_customer_without_a_rating_answers_404(client, organisation):
    customer = CustomerFactory(owner=organisation.rep)
    client.force_login(organisation.rep)

    response = client.get(f"/api/customers/{customer.pk}/credit/rating")

    assert response.status_code == 404
    assert response.json()["message"] == f"customer {customer.pk} has no rating yet"


def test_another_rep_s_customer_answers_404(client, organisation, ledger):  # noqa: F811
    credit_rating_run(customer=ledger["a"], actor=None, as_of=AS_OF)
    client.force_login(organisation.other_rep)

    assert client.get(f"/api/customers/{ledger['a'].pk}/credit/rating").status_code == 404
    assert client.get(f"/api/customers/{ledger['a'].pk}/credit/ratings").status_code == 404
    rated = client.post(
        f"/api/customers/{ledger['a'].pk}/credit/ratings", {}, content_type="application/json"
    )
    assert rated.status_code == 404
    assert CreditRating.objects.count() == 1


def test_a_manager_rates_now(client, organisation, ledger):  # noqa: F811
    client.force_login(organisation.customer_manager)

    response = client.post(
        f"/api/customers/{ledger['a'].pk}/credit/ratings",
        {"as_of": AS_OF.isoformat()},
        content_type="application/json",
    )

    assert response.status_code == 201, response.json()
    assert (response.json()["score"], response.json()["grade"]) == ("28.70", "C")
    assert CreditRating.objects.get().rated_by == organisation.customer_manager


def test_a_rep_may_not_rate_and_the_attempt_is_logged(client, organisation, ledger):  # noqa: F811
    client.force_login(organisation.rep)

    response = client.post(
        f"/api/customers/{ledger['a'].pk}/credit/ratings", {}, content_type="application/json"
    )

    assert response.status_code == 403
    assert CreditRating.objects.count() == 0
    refused = CreditEvent.objects.get(kind="refused")
    assert (refused.customer_id, refused.reason["action"]) == (ledger["a"].pk, "credit_rating_run")
