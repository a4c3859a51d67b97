"""A scorecard learned from data 评分卡: binning, weight of evidence, logistic fit, points.

The numeric part only: it takes a table of attributes (a polars DataFrame, one row per past
customer) and a boolean array saying which rows went bad, and returns a `Calibration`.

- Each attribute is binned on the training rows with optbinning's monotonic optimal binning
  (numbers: event rate rising or falling across the bins, `auto_asc_desc`; categories: grouped
  by their bad rate). Empty cells get a "Missing" bin, neutral (WoE 0) when it holds under 5%
  of the training rows; a category never seen in training scores as an average one (WoE 0).
- Weight of evidence, our sign convention: WoE_i = ln(share of the goods in bin i / share of the
  bads in bin i). Positive WoE = safer than the average customer. A bin lacking goods or bads
  has 0.5 added to both counts; an empty bin has WoE 0. Information value
  IV = Σ_i (share of goods_i − share of bads_i) · WoE_i. Attributes under `min_iv` are dropped.
- A logistic regression, unpenalised, of "bad" on the WoE of the kept attributes:
  ln(p_bad / p_good) = α + Σ_j β_j · WoE_j (β is usually negative: more WoE, less risk).
- Points: factor = pdo / ln 2, offset = base_score − factor · ln(base_odds), where the odds are
  good : bad. The score is offset + factor · ln(p_good / p_bad) = offset − factor · (α + Σ β·WoE),
  shared among the n attributes: bin points = −(β_j · WoE_ij + α / n) · factor + offset / n.
  Higher points = less risk; the score is base_score at odds of base_odds : 1 and gains pdo
  points each time the odds double.
- Quality: on a stratified held-out share of the rows (the scorecard reported is the one fitted
  on the other rows) and by stratified 5-fold cross-validation over all rows (binning, IV filter
  and fit redone inside each fold): AUC, KS (the largest gap between the bads' and the goods'
  empirical distribution functions of the score) and Gini = 2·AUC − 1.

`Calibration.as_dict()` is the JSON the command line prints; `Calibration.attributes` (names,
bins with their bounds or categories, WoE and points) is what a proposal for the rating
template's indicators is made from.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
import polars as pl
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kehu.core.errors import ValidationFailed

MIN_ROWS = 50
FOLDS = 5
MIN_CLASS_PER_FOLD = 5  # goods and bads in each test fold (and in the held-out rows)
DEFAULT_MIN_IV = 0.02
MIN_MISSING_SHARE = 0.05  # a smaller missing bin gets WoE 0 (see bin_attribute)
NUMERICAL = "numerical"
CATEGORICAL = "categorical"


class CalibrationRefused(ValidationFailed):
    """The data cannot be calibrated on; the message says why, for the user."""


# --- Scaling ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scaling:
    pdo: float = 20.0  # points to double the odds
    base_score: float = 600.0
    base_odds: float = 50.0  # good : bad at the base score

    def __post_init__(self) -> None:
        for name in ("pdo", "base_odds"):
            value = getattr(self, name)
            if not math.isfinite(value) or value <= 0:
                raise CalibrationRefused(
                    _("--%(name)s must be a number above 0, not %(value)s")
                    % {"name": name.replace("_", "-"), "value": value},
                    detail={"field": name},
                )

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2)

    @property
    def offset(self) -> float:
        return self.base_score - self.factor * math.log(self.base_odds)

    def score_of(self, log_odds_good: Any) -> Any:
        """The score of a (vector of) ln(p_good / p_bad)."""
        return self.offset + self.factor * log_odds_good

    def as_dict(self) -> dict[str, float]:
        return {"pdo": self.pdo, "base_score": self.base_score, "base_odds": self.base_odds}


# --- Metrics ----------------------------------------------------------------------------------


def ks_statistic(scores: np.ndarray, is_bad: np.ndarray) -> float:
    """max |F_bad(s) − F_good(s)| over every score s, from the two empirical CDFs."""
    bad = np.sort(scores[is_bad])
    good = np.sort(scores[~is_bad])
    everywhere = np.concatenate([bad, good])
    cdf_bad = np.searchsorted(bad, everywhere, side="right") / bad.size
    cdf_good = np.searchsorted(good, everywhere, side="right") / good.size
    return float(np.max(np.abs(cdf_bad - cdf_good)))


@dataclass(frozen=True)
class Metrics:
    rows: int
    bads: int
    auc: float
    ks: float

    @property
    def gini(self) -> float:
        return 2 * self.auc - 1

    def as_dict(self) -> dict[str, float | int]:
        return {
            "rows": self.rows,
            "bads": self.bads,
            "auc": self.auc,
            "ks": self.ks,
            "gini": self.gini,
        }


def metrics_of(risk: np.ndarray, is_bad: np.ndarray) -> Metrics:
    """AUC and KS of a risk score (higher = more likely bad) against the outcome."""
    from sklearn.metrics import roc_auc_score

    return Metrics(
        rows=int(is_bad.size),
        bads=int(is_bad.sum()),
        auc=float(roc_auc_score(is_bad, risk)),
        ks=ks_statistic(risk, is_bad),
    )


@dataclass(frozen=True)
class CrossValidation:
    folds: tuple[Metrics, ...]

    @property
    def auc_mean(self) -> float:
        return float(np.mean([fold.auc for fold in self.folds]))

    @property
    def auc_std(self) -> float:
        return float(np.std([fold.auc for fold in self.folds]))

    @property
    def ks_mean(self) -> float:
        return float(np.mean([fold.ks for fold in self.folds]))

    @property
    def gini_mean(self) -> float:
        return float(np.mean([fold.gini for fold in self.folds]))

    def as_dict(self) -> dict[str, Any]:
        return {
            "auc_mean": self.auc_mean,
            "auc_std": self.auc_std,
            "ks_mean": self.ks_mean,
            "gini_mean": self.gini_mean,
            "folds": [
                {"fold": index + 1, **fold.as_dict()} for index, fold in enumerate(self.folds)
            ],
        }


# --- Binning and weight of evidence -----------------------------------------------------------


def _number(value: float) -> str:
    return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.4g}"


@dataclass
class AttributeBinning:
    """One attribute binned on training rows: WoE per bin (the last slot: unseen = 0)."""

    name: str
    kind: str
    binning: Any = field(repr=False)  # optbinning.OptimalBinning, fitted
    goods: np.ndarray  # per bin, then the special bin (unused), then the missing bin
    bads: np.ndarray
    woe: np.ndarray
    iv: float

    def bin_indices(self, values: np.ndarray) -> np.ndarray:
        """Index into `woe` of each value; an unseen category → the last slot (WoE 0)."""
        indices = self.binning.transform(values, metric="indices", metric_missing="empirical")
        indices = np.asarray(indices, dtype=np.int64)
        return np.where(indices < 0, self.woe.size - 1, indices)

    def woe_of(self, values: np.ndarray) -> np.ndarray:
        return self.woe[self.bin_indices(values)]

    def bin_descriptions(self) -> list[dict[str, Any]]:
        """Label, bounds or categories of each bin, then of the missing bin (not the special)."""
        splits = self.binning.splits
        described: list[dict[str, Any]] = []
        if self.kind == NUMERICAL:
            edges = [-math.inf, *(float(split) for split in splits), math.inf]
            for low, high in pairwise(edges):
                if low == -math.inf:
                    label = f"< {_number(high)}" if high != math.inf else _("All values")
                elif high == math.inf:
                    label = f"≥ {_number(low)}"
                else:
                    label = f"[{_number(low)}, {_number(high)})"
                described.append(
                    {
                        "label": label,
                        "low": None if low == -math.inf else low,
                        "high": None if high == math.inf else high,
                    }
                )
        else:
            for categories in splits:
                names = [str(category) for category in categories]
                described.append({"label": ", ".join(names), "categories": names})
        described.append({"label": _("Missing"), "is_missing": True})
        return described


def weight_of_evidence(
    goods: np.ndarray, bads: np.ndarray, *, neutral: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    """WoE per bin, ln(%goods / %bads), and the information value (see the module doc);
    bins marked `neutral` get WoE 0."""
    goods = goods.astype(float)
    bads = bads.astype(float)
    share_goods = goods / goods.sum()
    share_bads = bads / bads.sum()
    pure = (goods == 0) ^ (bads == 0)
    smoothed_goods = np.where(pure, goods + 0.5, goods) / goods.sum()
    smoothed_bads = np.where(pure, bads + 0.5, bads) / bads.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        woe = np.where(goods + bads > 0, np.log(smoothed_goods / smoothed_bads), 0.0)
    if neutral is not None:
        woe = np.where(neutral, 0.0, woe)
    iv = float(np.sum((share_goods - share_bads) * woe))
    return woe, iv


def bin_attribute(name: str, kind: str, values: np.ndarray, is_bad: np.ndarray) -> AttributeBinning:
    from optbinning import OptimalBinning

    options: dict[str, Any] = {"name": name, "dtype": kind}
    if kind == NUMERICAL:
        options["monotonic_trend"] = "auto_asc_desc"
    binning = OptimalBinning(**options).fit(values, is_bad.astype(np.int8))
    table = binning.binning_table
    bads = np.append(np.asarray(table.n_event, dtype=np.int64), 0)
    goods = np.append(np.asarray(table.n_nonevent, dtype=np.int64), 0)
    # The missing bin escapes the binning's minimum size: a small one stays neutral, so that
    # leaving a field empty never earns the points of a lucky handful of customers.
    neutral = np.zeros(goods.size, dtype=bool)
    neutral[-2] = goods[-2] + bads[-2] < MIN_MISSING_SHARE * (goods.sum() + bads.sum())
    woe, iv = weight_of_evidence(goods, bads, neutral=neutral)
    return AttributeBinning(
        name=name, kind=kind, binning=binning, goods=goods, bads=bads, woe=woe, iv=iv
    )


# --- The model --------------------------------------------------------------------------------


@dataclass
class Model:
    """Kept attributes' binnings and the logistic fit on their WoE (ln odds of bad)."""

    binnings: list[AttributeBinning]
    dropped: list[AttributeBinning]
    intercept: float
    coefficients: np.ndarray

    def woe_matrix(self, columns: dict[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
        return (
            np.column_stack(
                [binning.woe_of(columns[binning.name][rows]) for binning in self.binnings]
            )
            if self.binnings
            else np.zeros((rows.size, 0))
        )

    def log_odds_bad(self, columns: dict[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
        return self.intercept + self.woe_matrix(columns, rows) @ self.coefficients


def fit_model(
    columns: dict[str, np.ndarray],
    kinds: dict[str, str],
    is_bad: np.ndarray,
    rows: np.ndarray,
    min_iv: float,
) -> Model:
    from sklearn.linear_model import LogisticRegression

    binnings = [
        bin_attribute(name, kinds[name], columns[name][rows], is_bad[rows]) for name in columns
    ]
    kept = [binning for binning in binnings if binning.iv >= min_iv]
    dropped = [binning for binning in binnings if binning.iv < min_iv]
    model = Model(binnings=kept, dropped=dropped, intercept=0.0, coefficients=np.zeros(0))
    if not kept:
        rate = float(is_bad[rows].mean())
        model.intercept = math.log(rate / (1 - rate))
        return model
    regression = LogisticRegression(C=np.inf, max_iter=1000)
    regression.fit(model.woe_matrix(columns, rows), is_bad[rows])
    model.intercept = float(regression.intercept_[0])
    model.coefficients = regression.coef_[0].astype(float)
    return model


# --- The result -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreBin:
    label: str
    count: int
    bads: int
    woe: float
    points: float
    low: float | None = None  # numerical: low ≤ value < high (None: unbounded)
    high: float | None = None
    categories: tuple[str, ...] | None = None  # categorical
    is_missing: bool = False

    @property
    def bad_rate(self) -> float | None:
        return self.bads / self.count if self.count else None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "label": self.label,
            "count": self.count,
            "bads": self.bads,
            "bad_rate": self.bad_rate,
            "woe": self.woe,
            "points": self.points,
        }
        if self.categories is not None:
            data["categories"] = list(self.categories)
        elif not self.is_missing:
            data["low"], data["high"] = self.low, self.high
        data["is_missing"] = self.is_missing
        return data


@dataclass(frozen=True)
class Attribute:
    name: str
    kind: str
    iv: float
    coefficient: float
    bins: tuple[ScoreBin, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "iv": self.iv,
            "coefficient": self.coefficient,
            "bins": [b.as_dict() for b in self.bins],
        }


@dataclass(frozen=True)
class DroppedAttribute:
    name: str
    kind: str
    iv: float | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "iv": self.iv, "reason": self.reason}


@dataclass
class Calibration:
    """What `calibrate` learned; `as_dict()` is stable JSON (see the module doc)."""

    rows: int
    bads: int
    train_rows: int
    holdout_rows: int
    attributes: list[Attribute]
    dropped: list[DroppedAttribute]
    intercept: float
    holdout: Metrics
    cross_validation: CrossValidation
    scaling: Scaling
    min_iv: float
    seed: int
    test_share: float
    warnings: list[str] = field(default_factory=list)
    model: Model | None = field(default=None, repr=False, compare=False)

    @property
    def bad_rate(self) -> float:
        return self.bads / self.rows

    @property
    def coefficients(self) -> dict[str, float]:
        return {attribute.name: attribute.coefficient for attribute in self.attributes}

    def score(self, frame: pl.DataFrame) -> np.ndarray:
        """The points of each row of `frame` (the sum of its bins' points)."""
        assert self.model is not None
        columns = {
            name: _column_values(frame, name, kind)
            for name, kind in ((b.name, b.kind) for b in self.model.binnings)
        }
        rows = np.arange(frame.height)
        return self.scaling.score_of(-self.model.log_odds_bad(columns, rows))

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "bads": self.bads,
            "bad_rate": self.bad_rate,
            "train_rows": self.train_rows,
            "holdout_rows": self.holdout_rows,
            "attributes": [attribute.as_dict() for attribute in self.attributes],
            "dropped": [attribute.as_dict() for attribute in self.dropped],
            "intercept": self.intercept,
            "coefficients": self.coefficients,
            "holdout": self.holdout.as_dict(),
            "cross_validation": self.cross_validation.as_dict(),
            "scaling": self.scaling.as_dict(),
            "min_iv": self.min_iv,
            "seed": self.seed,
            "test_share": self.test_share,
            "warnings": list(self.warnings),
        }


def attributes_of(model: Model, scaling: Scaling) -> list[Attribute]:
    """The kept attributes with each bin's points (see the module doc for the formula)."""
    share = model.intercept / len(model.binnings)
    attributes = []
    for binning, beta in zip(model.binnings, model.coefficients, strict=True):
        points = -(beta * binning.woe + share) * scaling.factor + scaling.offset / len(
            model.binnings
        )
        descriptions = binning.bin_descriptions()
        slots = [*range(len(descriptions) - 1), binning.woe.size - 2]  # bins, then missing
        bins = tuple(
            ScoreBin(
                label=described["label"],
                count=int(binning.goods[slot] + binning.bads[slot]),
                bads=int(binning.bads[slot]),
                woe=float(binning.woe[slot]),
                points=float(points[slot]),
                low=described.get("low"),
                high=described.get("high"),
                categories=tuple(described["categories"]) if "categories" in described else None,
                is_missing=described.get("is_missing", False),
            )
            for described, slot in zip(descriptions, slots, strict=True)
        )
        attributes.append(
            Attribute(
                name=binning.name,
                kind=binning.kind,
                iv=binning.iv,
                coefficient=float(beta),
                bins=bins,
            )
        )
    return attributes


# --- Checking the data and calibrating --------------------------------------------------------


def kind_of(series: pl.Series) -> str:
    return NUMERICAL if series.dtype.is_numeric() else CATEGORICAL


def _column_values(frame: pl.DataFrame, name: str, kind: str) -> np.ndarray:
    if kind == NUMERICAL:
        return frame.get_column(name).cast(pl.Float64).to_numpy()
    return np.asarray(frame.get_column(name).cast(pl.String).to_list(), dtype=object)


def check_data(frame: pl.DataFrame, is_bad: np.ndarray, *, test_share: float) -> None:
    """Refuse what cannot be calibrated on, naming what is wrong."""
    rows, bads = int(is_bad.size), int(is_bad.sum())
    if frame.width == 0:
        raise CalibrationRefused(
            _("There is no attribute column to learn from."), detail={"field": "columns"}
        )
    if not 0 < test_share < 1:
        raise CalibrationRefused(
            _("--test-share must be between 0 and 1, not %(share)s") % {"share": test_share},
            detail={"field": "test_share"},
        )
    if rows < MIN_ROWS:
        raise CalibrationRefused(
            _("Only %(rows)d rows: a scorecard needs at least %(minimum)d.")
            % {"rows": rows, "minimum": MIN_ROWS},
            detail={"field": "rows"},
        )
    if bads == 0 or bads == rows:
        raise CalibrationRefused(
            _("Every row is bad: there is nothing to tell apart.")
            if bads
            else _("No row is bad: there is nothing to tell apart."),
            detail={"field": "target"},
        )
    smaller = min(bads, rows - bads)
    needed = max(FOLDS, math.ceil(1 / min(test_share, 1 - test_share))) * MIN_CLASS_PER_FOLD
    if smaller < needed:
        raise CalibrationRefused(
            _(
                "Too few %(class)s rows (%(count)d): at least %(needed)d are needed, "
                "%(per_fold)d in each of the %(folds)d cross-validation folds and in the "
                "held-out share."
            )
            % {
                "class": _("bad") if bads <= rows - bads else _("good"),
                "count": smaller,
                "needed": needed,
                "per_fold": MIN_CLASS_PER_FOLD,
                "folds": FOLDS,
            },
            detail={"field": "target"},
        )
    empty = [name for name in frame.columns if frame.get_column(name).null_count() == rows]
    if empty:
        raise CalibrationRefused(
            ngettext(
                "Column %(columns)s is empty in every row; leave it out with --exclude.",
                "Columns %(columns)s are empty in every row; leave them out with --exclude.",
                len(empty),
            )
            % {"columns": ", ".join(repr(name) for name in empty)},
            detail={"field": "columns", "columns": empty},
        )


def stratified_split(
    is_bad: np.ndarray, *, test_share: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(training rows, held-out rows), each with the same bad rate as the whole (±1 row)."""
    from sklearn.model_selection import train_test_split

    rows = np.arange(is_bad.size)
    train, holdout = train_test_split(
        rows, test_size=test_share, stratify=is_bad, random_state=seed
    )
    return np.sort(train), np.sort(holdout)


def stratified_folds(is_bad: np.ndarray, *, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(is_bad.size), is_bad))


def calibrate(
    frame: pl.DataFrame,
    is_bad: Sequence[bool] | np.ndarray,
    *,
    scaling: Scaling | None = None,
    min_iv: float = DEFAULT_MIN_IV,
    test_share: float = 0.3,
    seed: int = 0,
) -> Calibration:
    """Learn a scorecard from `frame` (attribute columns only) and the outcome `is_bad`."""
    scaling = scaling or Scaling()
    outcome = np.asarray(is_bad, dtype=bool)
    check_data(frame, outcome, test_share=test_share)
    kinds = {name: kind_of(frame.get_column(name)) for name in frame.columns}
    columns = {name: _column_values(frame, name, kind) for name, kind in kinds.items()}
    train, holdout = stratified_split(outcome, test_share=test_share, seed=seed)
    model = fit_model(columns, kinds, outcome, train, min_iv)
    if not model.binnings:
        best = max(model.dropped, key=lambda binning: binning.iv)
        raise CalibrationRefused(
            _(
                "No attribute has an information value of at least %(min_iv)s (the best, "
                "%(name)s, has %(iv).4f): the data do not tell goods from bads."
            )
            % {"min_iv": min_iv, "name": best.name, "iv": best.iv},
            detail={"field": "min_iv"},
        )
    folds = tuple(
        metrics_of(
            fit_model(columns, kinds, outcome, fold_train, min_iv).log_odds_bad(columns, fold_test),
            outcome[fold_test],
        )
        for fold_train, fold_test in stratified_folds(outcome, seed=seed)
    )
    return Calibration(
        rows=frame.height,
        bads=int(outcome.sum()),
        train_rows=int(train.size),
        holdout_rows=int(holdout.size),
        attributes=attributes_of(model, scaling),
        dropped=[
            DroppedAttribute(
                name=binning.name,
                kind=binning.kind,
                iv=binning.iv,
                reason=_("IV below %(min_iv)s") % {"min_iv": min_iv},
            )
            for binning in model.dropped
        ],
        intercept=model.intercept,
        holdout=metrics_of(model.log_odds_bad(columns, holdout), outcome[holdout]),
        cross_validation=CrossValidation(folds=folds),
        scaling=scaling,
        min_iv=min_iv,
        seed=seed,
        test_share=test_share,
        warnings=_warnings(model),
        model=model,
    )


def _warnings(model: Model) -> list[str]:
    return [
        _(
            "%(name)s has a positive coefficient (%(beta).3f): its points run against its "
            "weight of evidence, probably because it overlaps with another attribute."
        )
        % {"name": binning.name, "beta": beta}
        for binning, beta in zip(model.binnings, model.coefficients, strict=True)
        if beta > 0
    ]
