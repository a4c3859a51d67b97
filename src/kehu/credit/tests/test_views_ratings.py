"""Rating pages: the overview (chart, list, filters, export, empty state), a customer's rating
and its card tab, rating now, and the template page with new versions and refusals."""

import copy
import datetime as dt
import io
import json
from decimal import Decimal

import polars as pl
import pytest
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import translation

from kehu.credit.default_template import DEFAULT_TEMPLATE
from kehu.credit.models import CreditEvent, CreditRating, ScorecardTemplate
from kehu.credit.services.ratings import (
    credit_rating_run,
    credit_ratings_run_period,
    scorecard_template_ensure_default,
)
from kehu.credit.tests.factories import CreditSurveyFactory
from kehu.credit.tests.test_measures import AS_OF, ledger  # noqa: F401 - the fixture
from kehu.credit.tests.test_services_ratings import GOOD_FACTS
from kehu.customers.tests.factories import CustomerFactory

D = Decimal


def _register(organisation, count, *, start=0):
    """`count` east customers of the rep that bought, and one west customer: rated C (nothing
    to compute from, no survey) unless given a survey."""
    customers = [
        CustomerFactory(
            code=f"E{index:03d}", name=f"华东客户{index}", owner=organisation.rep,
            first_purchase_on=dt.date(2024, 1, 1), last_purchase_on=dt.date(2024, 1, 1),
            purchase_count=1,
        )
        for index in range(start, start + count)
    ]  # fmt: skip
    west = CustomerFactory(
        code=f"W{start:03d}", name="华西客户", owner=organisation.other_rep,
        first_purchase_on=dt.date(2024, 1, 1), last_purchase_on=dt.date(2024, 1, 1),
        purchase_count=1,
    )  # fmt: skip
    return customers, west


@pytest.fixture(autouse=True)
def english(client, settings):
    """Pages in English (the source language); the Chinese catalogue is checked elsewhere."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def rated(organisation):
    customers, west = _register(organisation, 4)
    CreditSurveyFactory(customer=customers[0], facts=GOOD_FACTS)
    credit_ratings_run_period(as_of=AS_OF)
    return customers, west


def test_the_overview_shows_grades_and_the_visible_customers(client, organisation, rated):
    _customers, west = rated
    client.force_login(organisation.rep)

    response = client.get(reverse("credit:overview"))

    assert response.status_code == 200
    chart = response.context["chart_grades"]
    assert dict(zip(chart["grades"], chart["counts"], strict=True)) == {
        "AAA": 0, "AA": 0, "A": 1, "B": 0, "C": 3,
    }  # fmt: skip
    shown = [customer.code for customer in response.context["customers"]]
    assert shown == ["E000", "E001", "E002", "E003"]  # by code until sorted otherwise
    by_score = client.get(reverse("credit:overview"), {"sort": "-score"})
    assert [c.code for c in by_score.context["customers"]] == ["E000", "E003", "E002", "E001"]
    assert west.code not in response.content.decode()


def test_the_overview_filters_by_grade_and_change(client, organisation, rated):
    client.force_login(organisation.finance)

    by_grade = client.get(reverse("credit:overview"), {"grade": "A"})
    dropped = client.get(reverse("credit:overview"), {"change": "dropped"})
    by_owner = client.get(reverse("credit:overview"), {"owner": organisation.other_rep.pk})
    sorted_by_code = client.get(reverse("credit:overview"), {"sort": "-code"})
    searched = client.get(reverse("credit:overview"), {"q": "华西"})

    assert [c.code for c in by_grade.context["customers"]] == ["E000"]
    assert dropped.context["customers"] == []
    assert "No rated customer matches" in dropped.content.decode()
    assert [c.code for c in by_owner.context["customers"]] == ["W000"]
    assert [c.code for c in searched.context["customers"]] == ["W000"]
    assert [c.code for c in sorted_by_code.context["customers"]] == [
        "W000", "E003", "E002", "E001", "E000",
    ]  # fmt: skip


def test_the_overview_shows_an_empty_state_before_any_rating(client, organisation):
    client.force_login(organisation.rep)

    response = client.get(reverse("credit:overview"))

    assert response.status_code == 200
    assert "No customer is rated yet" in response.content.decode()


def test_the_overview_reads_a_bounded_number_of_queries(
    client, organisation, django_assert_max_num_queries
):
    _register(organisation, 3)
    credit_ratings_run_period(as_of=AS_OF)
    client.force_login(organisation.finance)
    client.get(reverse("credit:overview"))  # session, user: warm
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("credit:overview"))
    _register(organisation, 30, start=100)
    credit_ratings_run_period(as_of=dt.date(2026, 9, 30))

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("credit:overview"))

    assert len(response.context["customers"]) == 35


def test_the_export_holds_every_filtered_row(client, organisation, rated):
    client.force_login(organisation.rep)

    with override_settings(KEHU={**_kehu_settings(), "PAGE_SIZE": 2}):
        response = client.get(reverse("credit:ratings_export"), {"sort": "code"})

    assert response.status_code == 200
    frame = pl.read_excel(io.BytesIO(b"".join(response.streaming_content)), engine="calamine")
    assert frame.width == 11
    assert frame.to_series(0).to_list() == ["E000", "E001", "E002", "E003"]
    assert frame.to_series(3).to_list() == ["A", "C", "C", "C"]
    # E000: character 19 + payment 20 (two inputs missing) + solvency 12 + operating 19
    # (purchase growth missing) + profitability 8.33. The others: character 8.3 + payment
    # 6 + 4 + 5 + 2 (disputes not entered) + solvency 3.6 + operating 7.8 + profitability 3.
    assert frame.to_series(4).to_list() == [78.33, 39.7, 39.7, 39.7]


def _kehu_settings():
    from django.conf import settings

    return dict(settings.KEHU)


def test_a_customer_s_rating_page_shows_missing_inputs_with_their_default(
    client,
    organisation,
    ledger,  # noqa: F811
):
    credit_rating_run(customer=ledger["a"], actor=None, as_of=AS_OF)
    client.force_login(organisation.rep)

    response = client.get(reverse("credit:customer_rating", args=[ledger["a"].pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "28.70" in page
    assert "scored the default 1.20" in page  # bank record, missing
    assert "33.3%" in page  # on-time share
    breakdown = response.context["breakdown"]
    assert [(line.group.code, line.points) for line in breakdown.groups] == [
        ("character", D("8.30")), ("payment_record", D("4.00")), ("solvency", D("3.60")),
        ("operating_capability", D("9.80")), ("profitability", D("3.00")),
    ]  # fmt: skip
    assert "Rate now" not in page  # a rep does not rate


def test_another_rep_s_customer_rating_is_404(client, organisation, ledger):  # noqa: F811
    credit_rating_run(customer=ledger["a"], actor=None, as_of=AS_OF)
    client.force_login(organisation.other_rep)

    assert client.get(reverse("credit:customer_rating", args=[ledger["a"].pk])).status_code == 404
    assert client.get(reverse("credit:card_tab", args=[ledger["a"].pk])).status_code == 404
    assert client.post(reverse("credit:rating_run", args=[ledger["a"].pk])).status_code == 404


def test_the_card_tab_shows_the_breakdown(client, organisation, ledger):  # noqa: F811
    first = credit_rating_run(customer=ledger["a"], actor=None, as_of=AS_OF)
    CreditSurveyFactory(customer=ledger["a"], facts=GOOD_FACTS)
    credit_rating_run(customer=ledger["a"], actor=None, as_of=AS_OF)
    client.force_login(organisation.customer_manager)

    response = client.get(reverse("credit:card_tab", args=[ledger["a"].pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page
    assert "64.33" in page
    assert "Rate now" in page
    items = {
        item.indicator.code: item
        for line in response.context["breakdown"].groups
        for item in line.items
    }
    assert (items["quick_ratio"].points, items["quick_ratio"].change) == (D("6.00"), D("4.20"))
    assert response.context["history"][1].pk == first.pk


def test_a_manager_rates_now_from_the_page(client, organisation, ledger):  # noqa: F811
    client.force_login(organisation.customer_manager)

    response = client.post(reverse("credit:rating_run", args=[ledger["a"].pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("credit:customer_rating", args=[ledger["a"].pk])
    rating = CreditRating.objects.get()
    assert (rating.rated_by, rating.trigger) == (organisation.customer_manager, "on_demand")


def test_a_rep_may_not_rate_from_the_page(client, organisation, ledger):  # noqa: F811
    client.force_login(organisation.rep)

    response = client.post(reverse("credit:rating_run", args=[ledger["a"].pk]))

    assert response.status_code == 403
    assert CreditRating.objects.count() == 0


def test_the_template_page_shows_the_template_in_force(client, organisation):
    scorecard_template_ensure_default()
    client.force_login(organisation.rep)

    response = client.get(reverse("credit:template"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "按期付款率" in page
    assert "0 at 0.5, full points at 1" in page
    assert "New version" not in page


def test_finance_puts_a_new_version_in_force_from_the_page(client, organisation):
    scorecard_template_ensure_default()
    client.force_login(organisation.finance)
    definition = copy.deepcopy(DEFAULT_TEMPLATE)
    definition["name"] = "信用等级评估方案 2027"

    response = client.post(
        reverse("credit:template"), {"definition": json.dumps(definition, ensure_ascii=False)}
    )

    assert response.status_code == 302
    assert ScorecardTemplate.objects.get(is_active=True).name == "信用等级评估方案 2027"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "The definition is not valid JSON"),
        (
            json.dumps({**DEFAULT_TEMPLATE, "total_points": "90"}),
            "the groups&#x27; points add up to 100, not the total 90",
        ),
    ],
)
def test_a_bad_definition_is_refused_with_its_reason_and_logged(
    client, organisation, text, message
):
    current = scorecard_template_ensure_default()
    client.force_login(organisation.administrator)

    response = client.post(reverse("credit:template"), {"definition": text})

    assert response.status_code == 422
    assert message in response.content.decode()
    assert list(ScorecardTemplate.objects.values_list("pk", "is_active")) == [(current.pk, True)]
    assert CreditEvent.objects.filter(kind="refused").count() == 1


def test_a_rep_may_not_post_a_template(client, organisation):
    client.force_login(organisation.rep)

    response = client.post(reverse("credit:template"), {"definition": "{}"})

    assert response.status_code == 403
    assert ScorecardTemplate.objects.count() == 0


def test_the_overview_answers_htmx_with_the_results_only(client, organisation, rated):
    client.force_login(organisation.rep)

    response = client.get(
        reverse("credit:overview"), {"grade": "C"},
        HTTP_HX_REQUEST="true", HTTP_HX_TARGET="rating-results",
    )  # fmt: skip

    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page
    assert 'id="sort-input"' in page
    assert [c.code for c in response.context["customers"]] == ["E001", "E002", "E003"]
