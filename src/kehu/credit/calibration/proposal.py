"""Points for the rating template's indicators proposed from the company's own history
(domain §5.2, issue 5 item 7): a person accepts the proposal as a new template version, or not.

`scorecard_proposal_from_history(as_of=…)` calibrates a scorecard (scorecard.py) on the history
table (history.py: bad = written off or more than 90 days past due in the outcome year) and maps
each kept numeric attribute to the indicator of the template in force that has the matching
measure (MEASURES). Each mapped indicator keeps its points, so the template's totals still add
up; only its mapping changes, to "bands" made from the learned bins:

- lower bounds: the smallest sensible value of the measure (LOWEST) for the first bin, then each
  learned split (rounded, DECIMALS); a value reaches the band of the highest bound it reaches;
- points: linear in the bins' scorecard points — the best bin earns the indicator's full points,
  the worst 0, the others (p − worst) / (best − worst) · full, rounded to 0.5 (rounding keeps the
  order, so the bands are monotone as the bins are).

The missing bin is not proposed: the indicator keeps its `missing_points`. A categorical
attribute maps to a survey_choice indicator only when its categories are exactly that
indicator's answers (ownership and size of the customer card are not: the template's
"ownership and size" answers mix both); such an attribute is left out, saying why, as is an
attribute whose points run against its weight of evidence (a positive coefficient). Each
attribute's IV and its share of the kept attributes' total IV are reported as a hint for
re-weighting the indicators — a hint only, no indicator's points change.

`Proposal.definition` is the whole template in force with the proposed mappings swapped in,
valid under `validate_definition`; `scorecard_proposal_accept` stores it as a new version.
Nothing here writes to the database except `scorecard_proposal_accept`.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.core.errors import PermissionDenied, ValidationFailed
from kehu.credit.calibration.history import (
    IDENTIFIERS,
    TARGET,
    HistoryWindows,
    history_training_table,
)
from kehu.credit.calibration.scorecard import (
    CATEGORICAL,
    Attribute,
    Calibration,
    CalibrationRefused,
    calibrate,
)
from kehu.credit.default_template import DEFAULT_TEMPLATE
from kehu.credit.models import ScorecardTemplate
from kehu.credit.scorecard import validate_definition

# History attribute → the template indicator's measure.
MEASURES = {
    "on_time_share": "on_time_share",
    "days_beyond_terms": "avg_days_beyond_terms",
    "oldest_overdue_days": "oldest_overdue_days",
    "purchase_growth": "purchase_growth",
    "relationship_years": "years_trading",
}
# Categorical attributes that could feed a survey_choice indicator (if its answers match).
CHOICE_INDICATORS = {"ownership": "ownership_size", "size": "ownership_size"}
# The first band's lower bound: the smallest value the measure takes (growth: no purchases).
LOWEST = {
    "on_time_share": Decimal("0"),
    "days_beyond_terms": Decimal("0"),
    "oldest_overdue_days": Decimal("0"),
    "purchase_growth": Decimal("-1"),
    "relationship_years": Decimal("0"),
}
# Decimals kept of a learned split.
DECIMALS = {
    "on_time_share": 4,
    "days_beyond_terms": 2,
    "oldest_overdue_days": 2,
    "purchase_growth": 4,
    "relationship_years": 2,
}
HALF = Decimal("0.5")


@dataclass(frozen=True)
class ProposedBin:
    label: str
    count: int
    bad_rate: float | None
    learned_points: float
    proposed_points: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "count": self.count,
            "bad_rate": self.bad_rate,
            "learned_points": self.learned_points,
            "proposed_points": str(self.proposed_points),
        }


@dataclass(frozen=True)
class IndicatorProposal:
    code: str
    name: str
    name_en: str
    group: str
    measure: str
    attribute: str
    points: Decimal
    current_mapping: dict[str, Any]
    proposed_mapping: dict[str, Any]
    iv: float
    iv_share: float
    rationale: str
    bins: tuple[ProposedBin, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "name_en": self.name_en,
            "group": self.group,
            "measure": self.measure,
            "attribute": self.attribute,
            "points": str(self.points),
            "current_mapping": self.current_mapping,
            "proposed_mapping": self.proposed_mapping,
            "iv": self.iv,
            "iv_share": self.iv_share,
            "rationale": self.rationale,
            "bins": [item.as_dict() for item in self.bins],
        }


@dataclass(frozen=True)
class LeftOut:
    attribute: str
    iv: float | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"attribute": self.attribute, "iv": self.iv, "reason": self.reason}


@dataclass
class Proposal:
    as_of: dt.date
    observed_on: dt.date
    rows: int
    bads: int
    holdout_auc: float
    holdout_ks: float
    holdout_gini: float
    cv_auc_mean: float
    cv_auc_std: float
    indicators: list[IndicatorProposal]
    left_out: list[LeftOut]
    base_template: str  # "code vN", or "" when none is in force yet (Kehu's default)
    definition: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    calibration: Calibration | None = field(default=None, repr=False, compare=False)

    @property
    def bad_rate(self) -> float:
        return self.bads / self.rows if self.rows else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "observed_on": self.observed_on.isoformat(),
            "rows": self.rows,
            "bads": self.bads,
            "bad_rate": self.bad_rate,
            "holdout": {"auc": self.holdout_auc, "ks": self.holdout_ks, "gini": self.holdout_gini},
            "cv_auc_mean": self.cv_auc_mean,
            "cv_auc_std": self.cv_auc_std,
            "base_template": self.base_template,
            "indicators": [item.as_dict() for item in self.indicators],
            "left_out": [item.as_dict() for item in self.left_out],
            "warnings": list(self.warnings),
            "definition": self.definition,
        }


# --- The template in force as a definition ---------------------------------------------------


def template_definition(template: ScorecardTemplate) -> dict[str, Any]:
    """A stored template as a definition (scorecard.py), groups and indicators in order."""
    groups = template.groups.order_by("position", "id").prefetch_related("indicators")
    return {
        "code": template.code,
        "name": template.name,
        "total_points": str(template.total_points),
        "grade_bands": dict(template.grade_bands),
        "notes": template.notes,
        "groups": [
            {
                "code": group.code,
                "name": group.name,
                "name_en": group.name_en,
                "points": str(group.points),
                "indicators": [
                    {
                        "code": indicator.code,
                        "name": indicator.name,
                        "name_en": indicator.name_en,
                        "points": str(indicator.points),
                        "source": indicator.source,
                        "measure": indicator.measure,
                        "is_financial": indicator.is_financial,
                        "mapping": indicator.mapping,
                        "missing_points": str(indicator.missing_points),
                    }
                    for indicator in sorted(
                        group.indicators.all(), key=lambda item: (item.position, item.pk)
                    )
                ],
            }
            for group in groups
        ],
    }


def _base_definition() -> tuple[dict[str, Any], str]:
    template = ScorecardTemplate.objects.filter(is_active=True).first()
    if template is None:
        return validate_definition(copy.deepcopy(DEFAULT_TEMPLATE)), ""
    return validate_definition(
        template_definition(template)
    ), f"{template.code} v{template.version}"


# --- From bins to bands ----------------------------------------------------------------------


def _round_half(value: Decimal) -> Decimal:
    return (value * 2).quantize(Decimal(1), ROUND_HALF_UP) / 2


def _text(number: Decimal) -> str:
    return f"{number.normalize():f}"


def rescaled_points(learned: list[float], *, full: Decimal) -> list[Decimal]:
    """Each bin's points rescaled to 0 … full: the best bin full, the worst 0, linear between
    in the learned points, rounded to 0.5 (never above full)."""
    best, worst = max(learned), min(learned)
    proposed = []
    for points in learned:
        if points == best:
            proposed.append(full)
            continue
        share = Decimal(repr((points - worst) / (best - worst)))
        proposed.append(min(_round_half(share * full), full))
    return proposed


def _bands(attribute: Attribute, points: list[Decimal]) -> list[list[str]]:
    """[[lower bound, points], …] from the attribute's (non-missing) bins."""
    lowest = LOWEST[attribute.name]
    places = Decimal(1).scaleb(-DECIMALS[attribute.name])
    bands: list[list[str]] = []
    previous: Decimal | None = None
    for item, earned in zip(_value_bins(attribute), points, strict=True):
        lower = lowest if item.low is None else Decimal(repr(item.low)).quantize(places)
        lower = max(lower, lowest)
        if previous is not None and lower <= previous:
            # A split at or below the measure's floor (or merged by rounding): the later bin
            # takes the place of the earlier one.
            bands[-1][1] = _text(earned)
            continue
        bands.append([_text(lower), _text(earned)])
        previous = lower
    return bands


def _value_bins(attribute: Attribute) -> list[Any]:
    return [item for item in attribute.bins if not item.is_missing]


def _percent(share: float | None) -> str:
    return "–" if share is None else f"{share:.0%}"


def _rationale(attribute: Attribute, *, full: Decimal, iv_share: float) -> str:
    bins = [item for item in _value_bins(attribute) if item.count]
    first, last = bins[0], bins[-1]
    return _(
        "%(count)d bins learned from the history: the bad rate goes from %(first_rate)s "
        "(%(first)s) to %(last_rate)s (%(last)s). IV %(iv).3f, %(share)s of the kept "
        "attributes' total. The best bin earns the indicator's full %(full)s points, the worst "
        "0, the others in proportion to their scorecard points (rounded to 0.5); a missing "
        "value keeps the indicator's points when missing."
    ) % {
        "count": len(_value_bins(attribute)),
        "first_rate": _percent(first.bad_rate),
        "first": first.label,
        "last_rate": _percent(last.bad_rate),
        "last": last.label,
        "iv": attribute.iv,
        "share": _percent(iv_share),
        "full": _text(full),
    }


def _indicators_by_measure(definition: dict[str, Any]) -> dict[str, tuple[dict, dict]]:
    found: dict[str, tuple[dict, dict]] = {}
    for group in definition["groups"]:
        for indicator in group["indicators"]:
            if indicator["source"] == "computed":
                found.setdefault(indicator["measure"], (group, indicator))
    return found


def _indicator_by_code(definition: dict[str, Any], code: str) -> dict[str, Any] | None:
    for group in definition["groups"]:
        for indicator in group["indicators"]:
            if indicator["code"] == code:
                return indicator
    return None


def _choice_left_out(attribute: Attribute, definition: dict[str, Any], iv_share: float) -> LeftOut:
    code = CHOICE_INDICATORS.get(attribute.name)
    indicator = _indicator_by_code(definition, code) if code else None
    if indicator is None or indicator["mapping"].get("kind") != "table":
        return LeftOut(
            attribute=attribute.name,
            iv=attribute.iv,
            reason=_("No indicator of the template in force measures it (IV share %(share)s).")
            % {"share": _percent(iv_share)},
        )
    categories = sorted(
        {category for item in attribute.bins for category in (item.categories or ())}
    )
    answers = sorted(indicator["mapping"]["choices"])
    return LeftOut(
        attribute=attribute.name,
        iv=attribute.iv,
        reason=_(
            "It does not map cleanly onto the indicator %(indicator)s: the customer card's "
            "values (%(categories)s) are not that indicator's answers (%(answers)s), which the "
            "survey enters by judgement. Its mapping is left as it is (IV share %(share)s)."
        )
        % {
            "indicator": indicator["code"],
            "categories": ", ".join(categories),
            "answers": ", ".join(answers),
            "share": _percent(iv_share),
        },
    )


# --- The proposal ----------------------------------------------------------------------------


def _training_frame(as_of: dt.date) -> tuple[Any, Any, list[LeftOut]]:
    table = history_training_table(as_of=as_of)
    empty = [
        name
        for name in table.columns
        if name not in (*IDENTIFIERS, TARGET)
        and table.height
        and table.get_column(name).null_count() == table.height
    ]
    left_out = [
        LeftOut(attribute=name, iv=None, reason=_("Empty for every customer in the history."))
        for name in empty
    ]
    return table.drop(*IDENTIFIERS, TARGET, *empty), table.get_column(TARGET).to_numpy(), left_out


def scorecard_proposal_from_history(*, as_of: dt.date, min_iv: float = 0.02) -> Proposal:
    """Calibrate on the history up to `as_of` and propose bands for the template's indicators
    (see the module doc). Too little history → ValidationFailed saying so."""
    frame, is_bad, left_out = _training_frame(as_of)
    try:
        calibration = calibrate(frame, is_bad, min_iv=min_iv)
    except CalibrationRefused as error:
        raise ValidationFailed(
            _("Too little history to propose points as of %(date)s: %(reason)s")
            % {"date": as_of.isoformat(), "reason": error.message},
            detail={"field": "as_of", **(error.detail or {})},
        ) from error
    definition, base = _base_definition()
    total_iv = sum(attribute.iv for attribute in calibration.attributes) or 1.0
    by_measure = _indicators_by_measure(definition)
    indicators: list[IndicatorProposal] = []
    for attribute in calibration.attributes:
        iv_share = attribute.iv / total_iv
        if attribute.kind == CATEGORICAL or attribute.name not in MEASURES:
            left_out.append(_choice_left_out(attribute, definition, iv_share))
            continue
        measure = MEASURES[attribute.name]
        if measure not in by_measure:
            left_out.append(
                LeftOut(
                    attribute=attribute.name,
                    iv=attribute.iv,
                    reason=_("The template in force has no indicator measuring %(measure)s.")
                    % {"measure": measure},
                )
            )
            continue
        if attribute.coefficient > 0:
            left_out.append(
                LeftOut(
                    attribute=attribute.name,
                    iv=attribute.iv,
                    reason=_(
                        "Its learned points run against its weight of evidence (a positive "
                        "coefficient, %(beta).3f), probably because it overlaps with another "
                        "attribute; its mapping is left as it is."
                    )
                    % {"beta": attribute.coefficient},
                )
            )
            continue
        value_bins = _value_bins(attribute)
        learned = [item.points for item in value_bins]
        if len(value_bins) < 2 or max(learned) - min(learned) < 1e-9:
            left_out.append(
                LeftOut(
                    attribute=attribute.name,
                    iv=attribute.iv,
                    reason=_("A single bin: nothing to tell apart; its mapping is left as it is."),
                )
            )
            continue
        group, indicator = by_measure[measure]
        full = Decimal(indicator["points"])
        points = rescaled_points(learned, full=full)
        current = indicator["mapping"]
        proposed = {"kind": "bands", "bands": _bands(attribute, points)}
        indicator["mapping"] = proposed
        indicators.append(
            IndicatorProposal(
                code=indicator["code"],
                name=indicator["name"],
                name_en=indicator.get("name_en", ""),
                group=group["code"],
                measure=measure,
                attribute=attribute.name,
                points=full,
                current_mapping=current,
                proposed_mapping=proposed,
                iv=attribute.iv,
                iv_share=iv_share,
                rationale=_rationale(attribute, full=full, iv_share=iv_share),
                bins=tuple(
                    ProposedBin(
                        label=item.label,
                        count=item.count,
                        bad_rate=item.bad_rate,
                        learned_points=item.points,
                        proposed_points=earned,
                    )
                    for item, earned in zip(value_bins, points, strict=True)
                ),
            )
        )
    left_out.extend(
        LeftOut(attribute=item.name, iv=item.iv, reason=item.reason) for item in calibration.dropped
    )
    windows = HistoryWindows.ending(as_of)
    if indicators:
        note = _("Points of %(indicators)s proposed from the history as of %(date)s.") % {
            "indicators": ", ".join(item.code for item in indicators),
            "date": as_of.isoformat(),
        }
        definition["notes"] = "\n".join(part for part in (definition.get("notes"), note) if part)
    return Proposal(
        as_of=as_of,
        observed_on=windows.observed_on,
        rows=calibration.rows,
        bads=calibration.bads,
        holdout_auc=calibration.holdout.auc,
        holdout_ks=calibration.holdout.ks,
        holdout_gini=calibration.holdout.gini,
        cv_auc_mean=calibration.cross_validation.auc_mean,
        cv_auc_std=calibration.cross_validation.auc_std,
        indicators=indicators,
        left_out=left_out,
        base_template=base,
        definition=validate_definition(definition),
        warnings=list(calibration.warnings),
        calibration=calibration,
    )


def scorecard_proposal_accept(*, definition: Any, actor: User | None) -> ScorecardTemplate:
    """Store an accepted proposal's definition as a new template version in force. Only
    finance, top management and administrators may (the page and the command line log a
    refusal with credit/events.refusals_logged)."""
    from kehu.credit.services.ratings import scorecard_template_create

    if actor is None or not actor.sees_all:
        raise PermissionDenied(
            _("Only finance, top management or an administrator may change the template.")
        )
    checked = validate_definition(definition)
    return scorecard_template_create(definition=checked, actor=actor)
