"""The scorecard 信用等级评估方案 (domain §5.2), pure: how a value earns points, how a score
earns a grade, and whether a template's definition holds together. No database here.

A template definition (what `scorecard_template_create` takes and the default template is):

    {"code": "default", "name": "…", "total_points": "100", "financial_points": "30",
     "grade_bands": {"AAA": "90", "AA": "80", "A": "70", "B": "60"},
     "groups": [{"code": "character", "name": "品质特性", "name_en": "Character",
                 "points": "25",
                 "indicators": [{"code": "bank_record", "name": "…", "name_en": "…",
                                 "points": "4", "source": "survey_choice",
                                 "measure": "bank_record", "is_financial": false,
                                 "mapping": {"kind": "table", "choices": {…}, "labels": {…}},
                                 "missing_points": "1.2"}, …]}, …]}

Mappings (value → points, always clamped to 0 … the indicator's points, rounded to cents):
- linear: {"kind": "linear", "worst": w, "best": b} — 0 points at w or beyond, full points at
  b or beyond, a straight line between (w may be above b: lower is better);
- bands: {"kind": "bands", "bands": [[lower, points], …]} with rising lower bounds — the
  points of the highest band whose lower bound the value reaches, 0 below the first;
- table: {"kind": "table", "choices": {"good": 3, …}, "labels": {"good": {"zh": "良好",
  "en": "Good"}, …}} for answers entered in the survey; an answer not in the table is missing.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from kehu.core.errors import ValidationFailed

CENT = Decimal("0.01")
ZERO = Decimal("0")
GRADES_BEST_FIRST = ("AAA", "AA", "A", "B", "C")
BANDED_GRADES = GRADES_BEST_FIRST[:-1]  # the lowest grade has no band: below B is C
LOWEST_GRADE = GRADES_BEST_FIRST[-1]
MAPPING_KINDS = ("linear", "bands", "table")
SOURCES = ("computed", "survey_figure", "survey_choice")

# What the rating engine can compute from Kehu's own records (credit/measures.py).
COMPUTED_MEASURES = (
    "years_trading",
    "on_time_share",
    "avg_days_beyond_terms",
    "oldest_overdue_days",
    "bad_debts_and_disputes",
    "purchase_growth",
)
# What the engine reads from the survey's statements (credit/measures.py survey_figure).
SURVEY_FIGURES = (
    "quick_ratio",
    "debt_to_asset_ratio",
    "total_asset_turnover",
    "net_profit_margin",
    "capital_growth",
    "profitable_years",
)


def _decimal(value: Any, where: str, field: str) -> Decimal:
    if isinstance(value, bool):
        raise ValidationFailed(
            f"{where}: {field} {value!r} is not a number", detail={"where": where, "field": field}
        )
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError) as error:
        raise ValidationFailed(
            f"{where}: {field} {value!r} is not a number", detail={"where": where, "field": field}
        ) from error
    if not number.is_finite():
        raise ValidationFailed(
            f"{where}: {field} {value!r} is not a number", detail={"where": where, "field": field}
        )
    return number


MAX_POINTS = Decimal("9999.99")  # the points columns hold six digits, two after the point


def _points(value: Any, where: str, field: str) -> Decimal:
    """A number of points the template's columns can hold: 0 … 9999.99, at most 2 decimals."""
    number = _decimal(value, where, field)
    if not ZERO <= number <= MAX_POINTS or number != number.quantize(CENT):
        raise ValidationFailed(
            f"{where}: {field} {value!r} must be between 0 and {MAX_POINTS} with at most two "
            "decimals",
            detail={"where": where, "field": field},
        )
    return number


def _clamp(points: Decimal, maximum: Decimal) -> Decimal:
    return min(max(points, ZERO), maximum).quantize(CENT, ROUND_HALF_UP)


# --- Value → points --------------------------------------------------------------------------


def number_scorer(mapping: Mapping[str, Any], *, maximum: Decimal) -> Callable[[Decimal], Decimal]:
    """value → points under a linear or banded mapping, clamped to 0 … maximum; the mapping's
    numbers are read once (the quarterly run scores millions of items)."""
    kind = mapping["kind"]
    if kind == "linear":
        worst = Decimal(str(mapping["worst"]))
        slope = maximum / (Decimal(str(mapping["best"])) - worst)

        def linear(value: Decimal) -> Decimal:
            return _clamp((value - worst) * slope, maximum)

        return linear
    if kind == "bands":
        lowers = [Decimal(str(lower)) for lower, _points in mapping["bands"]]
        earned = [_clamp(Decimal(str(points)), maximum) for _lower, points in mapping["bands"]]
        below = ZERO.quantize(CENT)

        def banded(value: Decimal) -> Decimal:
            index = bisect_right(lowers, value)
            return earned[index - 1] if index else below

        return banded
    raise ValueError(f"a {kind!r} mapping does not score numbers")


def choice_table(mapping: Mapping[str, Any], *, maximum: Decimal) -> dict[str, Decimal]:
    """answer → points under a table mapping, clamped to 0 … maximum."""
    if mapping["kind"] != "table":
        raise ValueError(f"a {mapping['kind']!r} mapping does not score answers")
    return {
        choice: _clamp(Decimal(str(points)), maximum)
        for choice, points in mapping["choices"].items()
    }


def points_for_value(mapping: Mapping[str, Any], *, value: Decimal, maximum: Decimal) -> Decimal:
    """Points of a number under a linear or banded mapping, clamped to 0 … maximum."""
    return number_scorer(mapping, maximum=maximum)(value)


def points_for_choice(
    mapping: Mapping[str, Any], *, choice: str, maximum: Decimal
) -> Decimal | None:
    """Points of an answer under a table mapping; None when the answer is not in the table."""
    return choice_table(mapping, maximum=maximum).get(choice)


def grade_for_score(score: Decimal, grade_bands: Mapping[str, Any]) -> str:
    """The best grade whose minimum the score reaches; below every band the lowest grade."""
    for grade in BANDED_GRADES:
        if score >= Decimal(str(grade_bands[grade])):
            return grade
    return LOWEST_GRADE


def mapping_in_words(
    mapping: Mapping[str, Any], *, unit: str = "", language: str = "en"
) -> list[str]:
    """Short lines describing a mapping; a table's answers by their label in `language`
    ("zh" or "en"), the rest in symbols and English (pages translate the frame around them)."""
    kind = mapping.get("kind")
    if kind == "linear":
        return [
            f"0 at {mapping['worst']}{unit}, full points at {mapping['best']}{unit}, "
            "a straight line between"
        ]
    if kind == "bands":
        return [f"≥ {lower}{unit}: {points}" for lower, points in mapping["bands"]]
    if kind == "table":
        labels = mapping.get("labels", {})
        return [
            f"{labels.get(choice, {}).get(language) or choice}: {points}"
            for choice, points in mapping["choices"].items()
        ]
    return []


# --- Validation of a definition ----------------------------------------------------------------


def _fail(message: str, **detail: Any) -> ValidationFailed:
    return ValidationFailed(message, detail=detail)


def _text(
    item: Mapping[str, Any], key: str, where: str, *, required: bool = True, limit: int = 120
) -> str:
    value = item.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise _fail(f"{where}: {key} must be a non-empty text", where=where, field=key)
    if len(value.strip()) > limit:
        raise _fail(f"{where}: {key} is longer than {limit} characters", where=where, field=key)
    return value.strip()


def _slug(item: Mapping[str, Any], key: str, where: str) -> str:
    value = _text(item, key, where)
    if len(value) > 40 or not all(ch.isascii() and (ch.isalnum() or ch in "_-") for ch in value):
        raise _fail(
            f"{where}: {key} {value!r} must be up to 40 letters, digits, '_' or '-'",
            where=where,
            field=key,
        )
    return value


def validate_mapping(mapping: Any, *, where: str, points: Decimal, source: str) -> dict[str, Any]:
    """Check one indicator's mapping; returns it normalised (numbers as strings)."""
    if not isinstance(mapping, Mapping) or mapping.get("kind") not in MAPPING_KINDS:
        raise _fail(
            f"{where}: the mapping must be an object whose kind is one of "
            f"{', '.join(MAPPING_KINDS)}",
            where=where,
            field="mapping",
        )
    kind = mapping["kind"]
    if (kind == "table") != (source == "survey_choice"):
        raise _fail(
            f"{where}: a survey_choice indicator takes a table mapping and a number a linear "
            "or bands mapping",
            where=where,
            field="mapping",
        )
    if kind == "linear":
        worst = _decimal(mapping.get("worst"), where, "mapping.worst")
        best = _decimal(mapping.get("best"), where, "mapping.best")
        if worst == best:
            raise _fail(
                f"{where}: the worst and the best value of a linear mapping must differ",
                where=where,
                field="mapping",
            )
        return {"kind": "linear", "worst": str(worst), "best": str(best)}
    if kind == "bands":
        bands = mapping.get("bands")
        if not isinstance(bands, list) or not bands:
            raise _fail(f"{where}: bands must be a non-empty list", where=where, field="mapping")
        normalised = []
        previous: Decimal | None = None
        for band in bands:
            if not isinstance(band, list | tuple) or len(band) != 2:
                raise _fail(
                    f"{where}: each band is [lower bound, points]", where=where, field="mapping"
                )
            lower = _decimal(band[0], where, "mapping.bands lower bound")
            earned = _points(band[1], where, "mapping.bands points")
            if previous is not None and lower <= previous:
                raise _fail(
                    f"{where}: the bands' lower bounds must rise ({lower} after {previous})",
                    where=where,
                    field="mapping",
                )
            if not ZERO <= earned <= points:
                raise _fail(
                    f"{where}: a band's points {earned} must be between 0 and the indicator's "
                    f"{points}",
                    where=where,
                    field="mapping",
                )
            previous = lower
            normalised.append([str(lower), str(earned)])
        return {"kind": "bands", "bands": normalised}
    choices = mapping.get("choices")
    if not isinstance(choices, Mapping) or not choices:
        raise _fail(f"{where}: choices must be a non-empty object", where=where, field="mapping")
    normalised_choices = {}
    for key, value in choices.items():
        _slug({"choice": key}, "choice", where)
        earned = _points(value, where, f"mapping.choices.{key}")
        if not ZERO <= earned <= points:
            raise _fail(
                f"{where}: the answer {key!r} scores {earned}, outside 0 … the indicator's "
                f"{points}",
                where=where,
                field="mapping",
            )
        normalised_choices[key] = str(earned)
    labels = mapping.get("labels", {})
    if not isinstance(labels, Mapping) or any(key not in choices for key in labels):
        raise _fail(
            f"{where}: labels must be an object keyed by the choices", where=where, field="mapping"
        )
    return {"kind": "table", "choices": normalised_choices, "labels": dict(labels)}


def validate_grade_bands(bands: Any, *, total: Decimal) -> dict[str, str]:
    if not isinstance(bands, Mapping) or set(bands) != set(BANDED_GRADES):
        raise _fail(
            f"grade bands must give the minimum score of {', '.join(BANDED_GRADES)} "
            f"(below {BANDED_GRADES[-1]} is {LOWEST_GRADE})",
            field="grade_bands",
        )
    normalised = {}
    previous: Decimal | None = None
    for grade in BANDED_GRADES:
        minimum = _points(bands[grade], "grade bands", grade)
        if not ZERO < minimum <= total:
            raise _fail(
                f"grade bands: {grade} starts at {minimum}, outside 0 … the total {total}",
                field="grade_bands",
                grade=grade,
            )
        if previous is not None and minimum >= previous:
            raise _fail(
                f"grade bands: {grade} ({minimum}) must start below the grade above it "
                f"({previous})",
                field="grade_bands",
                grade=grade,
            )
        previous = minimum
        normalised[grade] = str(minimum)
    return normalised


def validate_definition(definition: Any) -> dict[str, Any]:
    """Check a template definition; returns it normalised. Raises ValidationFailed whose
    message and detail name the group or indicator at fault."""
    if not isinstance(definition, Mapping):
        raise _fail("a template definition must be an object", field="definition")
    code = _slug(definition, "code", "template")
    name = _text(definition, "name", "template")
    total = _points(definition.get("total_points"), "template", "total_points")
    if total <= 0:
        raise _fail("template: total_points must be above 0", field="total_points")
    groups = definition.get("groups")
    if not isinstance(groups, list) or not groups:
        raise _fail("template: groups must be a non-empty list", field="groups")
    group_codes: set[str] = set()
    indicator_codes: set[str] = set()
    normalised_groups = []
    group_sum = ZERO
    financial_sum = ZERO
    for group_item in groups:
        if not isinstance(group_item, Mapping):
            raise _fail("template: each group must be an object", field="groups")
        group_code = _slug(group_item, "code", "group")
        where_group = f"group {group_code}"
        if group_code in group_codes:
            raise _fail(f"{where_group} appears twice", group=group_code, field="code")
        group_codes.add(group_code)
        group_points = _points(group_item.get("points"), where_group, "points")
        if group_points <= 0:
            raise _fail(f"{where_group}: points must be above 0", group=group_code)
        indicators = group_item.get("indicators")
        if not isinstance(indicators, list) or not indicators:
            raise _fail(f"{where_group}: indicators must be a non-empty list", group=group_code)
        normalised_indicators = []
        indicator_sum = ZERO
        for item in indicators:
            if not isinstance(item, Mapping):
                raise _fail(f"{where_group}: each indicator must be an object", group=group_code)
            indicator_code = _slug(item, "code", f"{where_group} indicator")
            where = f"indicator {indicator_code}"
            if indicator_code in indicator_codes:
                raise _fail(f"{where} appears twice", indicator=indicator_code, field="code")
            indicator_codes.add(indicator_code)
            points = _points(item.get("points"), where, "points")
            if points <= 0:
                raise _fail(f"{where}: points must be above 0", indicator=indicator_code)
            source = item.get("source")
            if source not in SOURCES:
                raise _fail(
                    f"{where}: source must be one of {', '.join(SOURCES)}",
                    indicator=indicator_code,
                    field="source",
                )
            measure = _slug(item, "measure", where)
            if source == "computed" and measure not in COMPUTED_MEASURES:
                raise _fail(
                    f"{where}: Kehu cannot compute {measure!r}; one of "
                    f"{', '.join(COMPUTED_MEASURES)}",
                    indicator=indicator_code,
                    field="measure",
                )
            if source == "survey_figure" and measure not in SURVEY_FIGURES:
                raise _fail(
                    f"{where}: the survey has no figure {measure!r}; one of "
                    f"{', '.join(SURVEY_FIGURES)}",
                    indicator=indicator_code,
                    field="measure",
                )
            is_financial = item.get("is_financial", False)
            if not isinstance(is_financial, bool):
                raise _fail(
                    f"{where}: is_financial must be true or false", indicator=indicator_code
                )
            missing = _points(item.get("missing_points", "0"), where, "missing_points")
            if not ZERO <= missing <= points:
                raise _fail(
                    f"{where}: missing_points {missing} must be between 0 and its points {points}",
                    indicator=indicator_code,
                    field="missing_points",
                )
            try:
                mapping = validate_mapping(
                    item.get("mapping"), where=where, points=points, source=source
                )
            except ValidationFailed as error:
                raise ValidationFailed(
                    error.message, detail={**(error.detail or {}), "indicator": indicator_code}
                ) from error
            indicator_sum += points
            if is_financial:
                financial_sum += points
            normalised_indicators.append(
                {
                    "code": indicator_code,
                    "name": _text(item, "name", where, limit=160),
                    "name_en": _text(item, "name_en", where, required=False, limit=160),
                    "points": str(points),
                    "source": source,
                    "measure": measure,
                    "is_financial": is_financial,
                    "mapping": mapping,
                    "missing_points": str(missing),
                }
            )
        if indicator_sum != group_points:
            raise _fail(
                f"{where_group}: its indicators' points add up to {indicator_sum}, not the "
                f"group's {group_points}",
                group=group_code,
                field="points",
                indicators_sum=str(indicator_sum),
                group_points=str(group_points),
            )
        group_sum += group_points
        normalised_groups.append(
            {
                "code": group_code,
                "name": _text(group_item, "name", where_group),
                "name_en": _text(group_item, "name_en", where_group, required=False),
                "points": str(group_points),
                "indicators": normalised_indicators,
            }
        )
    if group_sum != total:
        raise _fail(
            f"template: the groups' points add up to {group_sum}, not the total {total}",
            field="total_points",
            groups_sum=str(group_sum),
            total_points=str(total),
        )
    normalised: dict[str, Any] = {
        "code": code,
        "name": name,
        "total_points": str(total),
        "grade_bands": validate_grade_bands(definition.get("grade_bands"), total=total),
        "notes": _text(definition, "notes", "template", required=False, limit=10_000),
        "groups": normalised_groups,
    }
    if definition.get("financial_points") not in (None, ""):
        financial = _points(definition["financial_points"], "template", "financial_points")
        if financial != financial_sum:
            raise _fail(
                f"template: the financial indicators' points add up to {financial_sum}, not "
                f"{financial}",
                field="financial_points",
                financial_sum=str(financial_sum),
            )
        normalised["financial_points"] = str(financial)
    return normalised
