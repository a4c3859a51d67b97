"""Templates and ratings: the default template, exact scores, missing inputs, versions, the
quarterly run and the re-survey task on a grade drop."""

import copy
import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.core.errors import PermissionDenied, ValidationFailed
from kehu.credit.default_template import DEFAULT_TEMPLATE
from kehu.credit.models import (
    CreditEvent,
    CreditRating,
    CreditRatingItem,
    CreditReviewTask,
    CustomerCredit,
    ScorecardIndicator,
    ScorecardTemplate,
)
from kehu.credit.services.ratings import (
    credit_rating_run,
    credit_ratings_run_period,
    previous_quarter_end,
    quarter_of,
    scorecard_template_create,
    scorecard_template_ensure_default,
)
from kehu.credit.tests.factories import CreditSurveyFactory
from kehu.credit.tests.test_measures import AS_OF, ledger  # noqa: F401 - the fixture

D = Decimal
GOOD_FACTS = {
    "principal_credit": "excellent",
    "ownership_size": "large",
    "bank_record": "good",
    "peer_credit": "good",
    "supplier_employee_reports": "fair",
    "sales_capability": "good",
    "management": "excellent",
    "industry_state": "stable",
    "disputes": 0,
}


def _points(rating):
    return {
        item.indicator.code: (item.points, item.is_missing)
        for item in rating.items.select_related("indicator")
    }


def test_the_default_template_is_made_once(db):
    first = scorecard_template_ensure_default()
    again = scorecard_template_ensure_default()

    assert again.pk == first.pk
    assert (first.code, first.version, first.is_active, first.total_points) == (
        "default", 1, True, D("100.00"),
    )  # fmt: skip
    assert first.groups.count() == 5
    assert ScorecardIndicator.objects.filter(group__template=first).count() == 20
    assert CreditEvent.objects.filter(kind="template_created").count() == 1


def test_periods():
    assert quarter_of(dt.date(2026, 6, 30)) == "2026Q2"
    assert previous_quarter_end(dt.date(2026, 7, 1)) == dt.date(2026, 6, 30)
    assert previous_quarter_end(dt.date(2026, 1, 15)) == dt.date(2025, 12, 31)


def test_without_a_survey_every_survey_input_is_missing_and_scores_its_default(
    organisation,
    ledger,  # noqa: F811
):
    rating = credit_rating_run(customer=ledger["a"], actor=organisation.finance, as_of=AS_OF)

    points = _points(rating)
    # Computed: on time 33% → 0; 31.1 days beyond terms → 2; 91 days overdue → 0; 2.00 years
    # → 2; purchases up 560% → 4 (clamped). Bad debts: 1 write-off, disputes not entered →
    # missing, the lower of 2 (missing) and 2 (one write-off).
    assert points["on_time_share"] == (D("0.00"), False)
    assert points["avg_days_beyond_terms"] == (D("2.00"), False)
    assert points["oldest_overdue_days"] == (D("0.00"), False)
    assert points["years_trading"] == (D("2.00"), False)
    assert points["purchase_growth"] == (D("4.00"), False)
    assert points["bad_debts_and_disputes"] == (D("2.00"), True)
    assert points["bank_record"] == (D("1.20"), True)
    assert points["quick_ratio"] == (D("1.80"), True)
    # 8.3 + 4 + 3.6 + 9.8 + 3 = 28.7
    assert (rating.score, rating.grade, rating.missing_count) == (D("28.70"), "C", 15)
    assert (rating.period, rating.rated_on, rating.trigger) == ("2026Q2", AS_OF, "on_demand")
    assert (rating.previous_id, rating.score_change, rating.grade_change) == (None, None, None)
    on_time = rating.items.get(indicator__code="on_time_share")
    assert on_time.value == D("0.333300")
    standing = CustomerCredit.objects.get(customer=ledger["a"])
    assert (standing.grade, standing.rating_id) == ("C", rating.pk)
    event = CreditEvent.objects.get(kind="rated")
    assert (event.after["score"], event.after["missing"]) == ("28.70", 15)


def test_with_a_survey_every_input_scores(organisation, ledger):  # noqa: F811
    CreditSurveyFactory(customer=ledger["a"], facts=GOOD_FACTS)

    rating = credit_rating_run(customer=ledger["a"], actor=organisation.finance, as_of=AS_OF)

    points = _points(rating)
    assert points["quick_ratio"] == (D("6.00"), False)  # 1.2 ≥ 1
    assert points["debt_to_asset_ratio"] == (D("6.00"), False)  # 50%
    assert points["total_asset_turnover"] == (D("4.00"), False)  # 4.0
    assert points["capital_growth"] == (D("4.00"), False)  # +20%
    assert points["net_profit_margin"] == (D("3.33"), False)  # 10% of 15%
    assert points["profit_over_three_years"] == (D("5.00"), False)  # three profitable years
    assert points["bad_debts_and_disputes"] == (D("2.00"), False)  # 1 write-off + 0 disputes
    assert points["supplier_employee_reports"] == (D("2.00"), False)
    # character 19 + payment 4 + solvency 12 + operating 21 + profitability 8.33
    assert (rating.score, rating.grade, rating.missing_count) == (D("64.33"), "B", 0)
    assert rating.survey is not None


def test_an_unknown_answer_is_missing_not_zero(organisation, ledger):  # noqa: F811
    CreditSurveyFactory(customer=ledger["a"], facts={**GOOD_FACTS, "bank_record": "splendid"})

    rating = credit_rating_run(customer=ledger["a"], actor=organisation.finance, as_of=AS_OF)

    item = rating.items.get(indicator__code="bank_record")
    assert (item.choice, item.is_missing, item.points) == ("splendid", True, D("1.20"))


def test_a_grade_drop_opens_a_re_survey_task_for_the_owner(organisation, ledger):  # noqa: F811
    CreditSurveyFactory(customer=ledger["a"], facts=GOOD_FACTS)
    first = credit_rating_run(customer=ledger["a"], actor=organisation.finance, as_of=AS_OF)
    CreditSurveyFactory(
        customer=ledger["a"], surveyed_on=dt.date(2026, 3, 1),
        facts={**GOOD_FACTS, "principal_credit": "bad"},
    )  # fmt: skip

    second = credit_rating_run(customer=ledger["a"], actor=organisation.finance, as_of=AS_OF)

    assert (second.score, second.grade) == (D("59.33"), "C")
    assert (second.previous_id, second.score_change, second.grade_change) == (
        first.pk, D("-5.00"), -1,
    )  # fmt: skip
    task = CreditReviewTask.objects.get(customer=ledger["a"])
    assert (task.reason, task.state, task.owner) == ("grade_drop", "open", organisation.rep)
    assert task.detail == {"from": "B", "to": "C", "rating": second.pk}
    assert task.due_on == timezone.localdate() + dt.timedelta(days=14)
    assert CreditEvent.objects.filter(kind="task_opened", customer=ledger["a"]).count() == 1


def test_a_rep_may_not_rate(organisation, ledger):  # noqa: F811
    with pytest.raises(PermissionDenied):
        credit_rating_run(customer=ledger["a"], actor=organisation.rep, as_of=AS_OF)

    assert CreditRating.objects.count() == 0


def test_a_rating_in_the_future_is_refused(organisation, ledger):  # noqa: F811
    with pytest.raises(ValidationFailed):
        credit_rating_run(
            customer=ledger["a"], actor=organisation.finance,
            as_of=timezone.localdate() + dt.timedelta(days=1),
        )  # fmt: skip

    assert CreditRating.objects.count() == 0


def _second_version():
    definition = copy.deepcopy(DEFAULT_TEMPLATE)
    definition["grade_bands"] = {"AAA": "85", "AA": "75", "A": "65", "B": "25"}
    return definition


def test_old_ratings_keep_their_template_version(organisation, ledger):  # noqa: F811
    old = credit_rating_run(customer=ledger["a"], actor=organisation.finance, as_of=AS_OF)

    template = scorecard_template_create(definition=_second_version(), actor=organisation.finance)
    new = credit_rating_run(customer=ledger["a"], actor=organisation.finance, as_of=AS_OF)

    old.refresh_from_db()
    assert (old.template.version, old.grade) == (1, "C")
    assert (template.version, template.is_active) == (2, True)
    assert (new.template_id, new.score, new.grade) == (template.pk, D("28.70"), "B")
    assert ScorecardTemplate.objects.filter(is_active=True).get() == template
    assert {item.indicator.group.template_id for item in old.items.all()} == {old.template_id}
    assert new.grade_change == 1


def test_a_template_whose_points_do_not_add_up_is_refused_and_nothing_changes(organisation):
    before = scorecard_template_ensure_default()
    definition = copy.deepcopy(DEFAULT_TEMPLATE)
    definition["groups"][0]["points"] = "30"

    with pytest.raises(ValidationFailed) as refused:
        scorecard_template_create(definition=definition, actor=organisation.finance)

    assert refused.value.message == (
        "group character: its indicators' points add up to 25, not the group's 30"
    )
    assert list(ScorecardTemplate.objects.values_list("pk", "is_active")) == [(before.pk, True)]


def test_only_finance_top_management_and_administrators_change_the_template(organisation):
    with pytest.raises(PermissionDenied):
        scorecard_template_create(definition=_second_version(), actor=organisation.regional_manager)

    assert ScorecardTemplate.objects.count() == 0


def test_the_quarterly_run_rates_every_customer_that_had_bought(organisation, ledger):  # noqa: F811
    progress = []

    run = credit_ratings_run_period(
        as_of=AS_OF, progress=lambda done, total: progress.append((done, total))
    )

    # B never bought and has no survey: not rated.
    assert (run.period, run.rated, run.skipped, dict(run.by_grade)) == ("2026Q2", 1, 0, {"C": 1})
    assert progress == [(0, 1), (1, 1)]
    rating = CreditRating.objects.get()
    assert (rating.customer_id, rating.score, rating.grade, rating.trigger) == (
        ledger["a"].pk, D("28.70"), "C", "scheduled",
    )  # fmt: skip
    assert rating.items.count() == 20
    on_demand = credit_rating_run(customer=ledger["a"], actor=None, as_of=AS_OF)
    assert _points(rating) == _points(on_demand)
    assert CustomerCredit.objects.get(customer=ledger["a"]).grade == "C"
    summary = CreditEvent.objects.get(kind="rated", customer=None)
    assert (summary.after["rated"], summary.after["by_grade"]) == (1, {"C": 1})


def test_the_quarterly_run_skips_who_is_rated_already(organisation, ledger):  # noqa: F811
    credit_ratings_run_period(as_of=AS_OF)

    again = credit_ratings_run_period(as_of=AS_OF)

    assert (again.rated, again.skipped) == (0, 1)
    assert CreditRating.objects.count() == 1
    assert CreditRatingItem.objects.count() == 20


def test_the_quarterly_run_compares_and_opens_tasks_on_drops(organisation, ledger):  # noqa: F811
    CreditSurveyFactory(customer=ledger["a"], facts=GOOD_FACTS)
    first = credit_ratings_run_period(as_of=AS_OF)
    CreditSurveyFactory(
        customer=ledger["a"], surveyed_on=dt.date(2026, 3, 1),
        facts={**GOOD_FACTS, "principal_credit": "bad"},
    )  # fmt: skip

    second = credit_ratings_run_period(as_of=dt.date(2026, 6, 30), batch_size=1)
    assert second.rated == 0  # the same period: already rated
    third = credit_ratings_run_period(as_of=dt.date(2026, 7, 31))

    assert dict(first.by_grade) == {"B": 1}
    assert (third.period, third.dropped, third.tasks_opened) == ("2026Q3", 1, 1)
    latest = CustomerCredit.objects.select_related("rating").get(customer=ledger["a"])
    assert latest.grade == "C"
    assert latest.rating.grade_change == -1
    assert latest.rating.previous.grade == "B"
    task = CreditReviewTask.objects.get(customer=ledger["a"])
    assert task.detail == {"from": "B", "to": "C", "rating": latest.rating_id}
    assert CreditEvent.objects.filter(kind="task_opened", customer=ledger["a"]).count() == 1


def test_the_quarterly_task_rates_as_of_the_date_given(organisation, ledger):  # noqa: F811
    from kehu.credit.tasks import credit_ratings_quarterly

    result = credit_ratings_quarterly.enqueue(as_of=AS_OF.isoformat())

    assert result.return_value["rated"] == 1
    assert result.return_value["period"] == "2026Q2"
    assert CreditRating.objects.get().trigger == "scheduled"
