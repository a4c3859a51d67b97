"""The pure scorecard: mappings, grades and the validation of template definitions."""

import copy
from decimal import Decimal

import pytest

from kehu.core.errors import ValidationFailed
from kehu.credit.default_template import DEFAULT_TEMPLATE
from kehu.credit.scorecard import (
    grade_for_score,
    mapping_in_words,
    points_for_choice,
    points_for_value,
    validate_definition,
)

D = Decimal
BANDS = {"AAA": "90", "AA": "80", "A": "70", "B": "60"}


@pytest.mark.parametrize(
    ("value", "points"),
    [("0.4", "0.00"), ("0.5", "0.00"), ("0.75", "6.00"), ("0.9", "9.60"), ("1", "12.00"),
     ("1.3", "12.00")],
)  # fmt: skip
def test_a_linear_mapping_is_a_straight_line_clamped_to_its_points(value, points):
    mapping = {"kind": "linear", "worst": "0.5", "best": "1"}

    assert points_for_value(mapping, value=D(value), maximum=D("12")) == D(points)


@pytest.mark.parametrize(
    ("value", "points"), [("0.5", "6.00"), ("0.7", "3.00"), ("0.9", "0.00"), ("0.3", "6.00")]
)
def test_a_linear_mapping_where_lower_is_better(value, points):
    mapping = {"kind": "linear", "worst": "0.9", "best": "0.5"}

    assert points_for_value(mapping, value=D(value), maximum=D("6")) == D(points)


@pytest.mark.parametrize(
    ("value", "points"),
    [("-1", "0.00"), ("0", "8.00"), ("0.5", "8.00"), ("1", "7.00"), ("15.9", "6.00"),
     ("31", "2.00"), ("400", "0.00")],
)  # fmt: skip
def test_bands_give_the_points_of_the_highest_lower_bound_reached(value, points):
    mapping = {"kind": "bands", "bands": [["0", "8"], ["1", "7"], ["8", "6"], ["16", "4"],
                                          ["31", "2"], ["61", "0"]]}  # fmt: skip

    assert points_for_value(mapping, value=D(value), maximum=D("8")) == D(points)


def test_a_table_scores_known_answers_and_none_for_unknown_ones():
    mapping = {"kind": "table", "choices": {"good": "3", "bad": "0", "too_much": "9"}}

    assert points_for_choice(mapping, choice="good", maximum=D("4")) == D("3.00")
    assert points_for_choice(mapping, choice="too_much", maximum=D("4")) == D("4.00")
    assert points_for_choice(mapping, choice="maybe", maximum=D("4")) is None


@pytest.mark.parametrize(
    ("score", "grade"),
    [("100", "AAA"), ("90", "AAA"), ("89.99", "AA"), ("80", "AA"), ("70", "A"), ("60", "B"),
     ("59.99", "C"), ("0", "C")],
)  # fmt: skip
def test_grades_by_score(score, grade):
    assert grade_for_score(D(score), BANDS) == grade


def test_the_default_template_holds_together():
    checked = validate_definition(DEFAULT_TEMPLATE)

    groups = checked["groups"]
    indicators = [item for group in groups for item in group["indicators"]]
    assert [(group["code"], group["points"]) for group in groups] == [
        ("character", "25"), ("payment_record", "30"), ("solvency", "12"),
        ("operating_capability", "23"), ("profitability", "10"),
    ]  # fmt: skip
    assert len(indicators) == 20
    assert sum(D(item["points"]) for item in indicators) == D("100")
    assert sum(D(item["points"]) for item in indicators if item["is_financial"]) == D("30")
    assert checked["grade_bands"] == BANDS
    bank = next(item for item in indicators if item["code"] == "bank_record")
    assert bank["mapping"]["labels"]["good"] == {"zh": "良", "en": "Good"}
    assert list(bank["mapping"]["choices"]) == ["excellent", "good", "fair", "poor", "bad"]


def _definition():
    return copy.deepcopy(DEFAULT_TEMPLATE)


def test_indicators_that_do_not_add_up_to_their_group_are_refused_naming_the_group():
    definition = _definition()
    definition["groups"][2]["indicators"][1]["points"] = "5"  # debt-to-asset 6 → 5

    with pytest.raises(ValidationFailed) as refused:
        validate_definition(definition)

    assert refused.value.message == (
        "group solvency: its indicators' points add up to 11, not the group's 12"
    )
    assert refused.value.detail["group"] == "solvency"


def test_groups_that_do_not_add_up_to_the_total_are_refused():
    definition = _definition()
    definition["total_points"] = "120"

    with pytest.raises(ValidationFailed) as refused:
        validate_definition(definition)

    assert refused.value.message == "template: the groups' points add up to 100, not the total 120"


def test_financial_points_must_match_the_financial_indicators():
    definition = _definition()
    definition["financial_points"] = "40"

    with pytest.raises(ValidationFailed) as refused:
        validate_definition(definition)

    assert refused.value.detail["field"] == "financial_points"


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ({"AAA": "90", "AA": "80", "A": "70"}, "grade bands must give the minimum score"),
        ({"AAA": "90", "AA": "95", "A": "70", "B": "60"}, "AA (95) must start below"),
        ({"AAA": "101", "AA": "80", "A": "70", "B": "60"}, "outside 0 … the total 100"),
    ],
)
def test_grade_bands_must_descend_within_the_total(bands, message):
    definition = _definition()
    definition["grade_bands"] = bands

    with pytest.raises(ValidationFailed) as refused:
        validate_definition(definition)

    assert message in refused.value.message


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"mapping": {"kind": "table", "choices": {"excellent": "7"}}},
         "indicator principal_credit: the answer 'excellent' scores 7"),
        ({"mapping": {"kind": "linear", "worst": "1", "best": "1"}},
         "indicator principal_credit: a survey_choice indicator takes a table mapping"),
        ({"missing_points": "6"}, "indicator principal_credit: missing_points 6"),
        ({"source": "computed", "measure": "horoscope",
          "mapping": {"kind": "linear", "worst": "0", "best": "1"}},
         "indicator principal_credit: Kehu cannot compute 'horoscope'"),
        ({"mapping": {"kind": "table", "choices": {}}}, "choices must be a non-empty object"),
    ],
)  # fmt: skip
def test_a_bad_indicator_is_refused_naming_it(change, message):
    definition = _definition()
    definition["groups"][0]["indicators"][0].update(change)

    with pytest.raises(ValidationFailed) as refused:
        validate_definition(definition)

    assert message in refused.value.message
    assert refused.value.detail["indicator"] == "principal_credit"


def test_bands_must_rise_and_stay_within_the_points():
    definition = _definition()
    on_time = definition["groups"][1]["indicators"][1]  # average days beyond terms, 8 points
    on_time["mapping"] = {"kind": "bands", "bands": [["0", "8"], ["0", "7"]]}

    with pytest.raises(ValidationFailed) as refused:
        validate_definition(definition)

    assert "lower bounds must rise" in refused.value.message
    on_time["mapping"] = {"kind": "bands", "bands": [["0", "9"]]}
    with pytest.raises(ValidationFailed) as too_many:
        validate_definition(definition)
    assert "a band's points 9 must be between 0 and the indicator's 8" in too_many.value.message


def test_mappings_in_words():
    assert mapping_in_words({"kind": "linear", "worst": "0.5", "best": "1"}) == [
        "0 at 0.5, full points at 1, a straight line between"
    ]
    table = {
        "kind": "table",
        "choices": {"good": "3"},
        "labels": {"good": {"zh": "良", "en": "Good"}},
    }
    assert mapping_in_words(table, language="zh") == ["良: 3"]
    assert mapping_in_words(table) == ["Good: 3"]
    assert mapping_in_words({"kind": "bands", "bands": [["0", "8"], ["1", "7"]]}, unit=" d") == [
        "≥ 0 d: 8",
        "≥ 1 d: 7",
    ]


def test_points_and_names_must_fit_the_template_s_columns():
    huge = _definition()
    huge["total_points"] = "1e9"
    fractional = _definition()
    fractional["groups"][0]["indicators"][0]["missing_points"] = "1.005"
    long_name = _definition()
    long_name["groups"][0]["indicators"][0]["name"] = "名" * 161

    for definition, message in (
        (huge, "template: total_points '1e9' must be between 0 and 9999.99"),
        (fractional, "indicator principal_credit: missing_points '1.005' must be between 0"),
        (long_name, "indicator principal_credit: name is longer than 160 characters"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            validate_definition(definition)
        assert message in refused.value.message
