"""The scorecard learned from data (credit/calibration): on customers with a known structure,
and the training table built from the company's own ledger."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from itertools import pairwise

import numpy as np
import polars as pl
import pytest
from django.utils import translation
from scipy.stats import ks_2samp
from sklearn.metrics import roc_auc_score

from kehu.credit.calibration.history import HistoryWindows, history_training_table
from kehu.credit.calibration.scorecard import (
    Calibration,
    CalibrationRefused,
    Scaling,
    calibrate,
    ks_statistic,
    stratified_split,
)
from kehu.credit.tests.synthetic import INFORMATIVE, NOISE, REGION_EFFECT, synthetic_customers

SEED = 11


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in their English source text, whatever the default language."""
    with translation.override("en"):
        yield


@pytest.fixture(scope="module")
def customers():
    return synthetic_customers(rows=5000, seed=7)


@pytest.fixture(scope="module")
def calibration(customers) -> Calibration:
    with translation.override("en"):  # its warnings are asserted in the English source text
        return calibrate(customers.frame.drop("customer_code"), customers.is_bad, seed=SEED)


def _attribute(calibration: Calibration, name: str):
    return next(attribute for attribute in calibration.attributes if attribute.name == name)


def test_informative_attributes_are_kept_and_noise_dropped(calibration):
    ivs = {attribute.name: attribute.iv for attribute in calibration.attributes}
    assert sorted(ivs) == sorted(INFORMATIVE)
    assert min(ivs.values()) > 0.3
    dropped = {attribute.name: attribute.iv for attribute in calibration.dropped}
    assert sorted(dropped) == sorted(NOISE)
    assert max(dropped.values()) < 0.02
    assert [attribute.reason for attribute in calibration.dropped] == ["IV below 0.02"] * 2


def test_woe_is_monotone_for_the_monotone_attribute(calibration):
    bins = [item for item in _attribute(calibration, "days_late").bins if not item.is_missing]
    woe = np.array([item.woe for item in bins])
    assert len(bins) >= 4
    assert np.all(np.diff(woe) < 0)  # more days late, more bads, lower WoE
    assert bins[0].low is None
    assert bins[-1].high is None
    assert all(a.high == b.low for a, b in pairwise(bins))


def test_a_small_missing_bin_is_neutral(calibration):
    missing = next(item for item in _attribute(calibration, "days_late").bins if item.is_missing)
    scaling, n = calibration.scaling, len(calibration.attributes)

    assert 0 < missing.count < 0.05 * calibration.train_rows  # 3% of the cells are empty
    assert missing.woe == 0.0
    assert missing.points == pytest.approx(
        -calibration.intercept / n * scaling.factor + scaling.offset / n, abs=1e-9
    )


def test_categories_are_ranked_as_their_true_effects(calibration):
    bins = [item for item in _attribute(calibration, "region").bins if not item.is_missing]
    by_woe = [item.categories for item in sorted(bins, key=lambda item: -item.woe)]
    assert by_woe == [
        (name,) for name in sorted(REGION_EFFECT, key=lambda name: REGION_EFFECT[name])
    ]


def test_bin_counts_and_woe_follow_the_definition(calibration, customers):
    attribute = _attribute(calibration, "region")
    goods = np.array([item.count - item.bads for item in attribute.bins], dtype=float)
    bads = np.array([item.bads for item in attribute.bins], dtype=float)
    assert goods.sum() + bads.sum() == calibration.train_rows == 3500
    filled = goods > 0
    expected = np.log((goods[filled] / goods.sum()) / (bads[filled] / bads.sum()))
    assert np.allclose([item.woe for item in attribute.bins if item.count], expected, atol=1e-12)
    iv = float(np.sum((goods / goods.sum() - bads / bads.sum())[filled] * expected))
    assert attribute.iv == pytest.approx(iv, abs=1e-12)


def test_holdout_auc_is_close_to_the_true_models(calibration, customers):
    _train, holdout = stratified_split(customers.is_bad, test_share=0.3, seed=SEED)
    true_auc = roc_auc_score(customers.is_bad[holdout], customers.true_log_odds[holdout])
    assert true_auc - 0.03 <= calibration.holdout.auc <= true_auc + 0.02
    assert calibration.holdout.rows == 1500
    assert calibration.holdout.bads == int(customers.is_bad[holdout].sum())


def test_gini_is_twice_the_auc_less_one_and_five_folds_cover_the_rows(calibration):
    assert calibration.holdout.gini == 2 * calibration.holdout.auc - 1
    folds = calibration.cross_validation.folds
    assert len(folds) == 5
    assert sum(fold.rows for fold in folds) == 5000
    assert sum(fold.bads for fold in folds) == calibration.bads
    assert all(fold.gini == 2 * fold.auc - 1 for fold in folds)
    aucs = [fold.auc for fold in folds]
    assert calibration.cross_validation.auc_mean == pytest.approx(np.mean(aucs), abs=1e-15)
    assert calibration.cross_validation.auc_std == pytest.approx(np.std(aucs), abs=1e-15)
    assert 0.68 < calibration.cross_validation.auc_mean < 0.8


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ks_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    scores = np.round(rng.normal(size=700), 1)  # with ties
    is_bad = rng.random(700) < 1 / (1 + np.exp(-scores))
    expected = ks_2samp(scores[is_bad], scores[~is_bad]).statistic
    assert abs(ks_statistic(scores, is_bad) - expected) < 1e-12


def test_holdout_ks_matches_scipy(calibration, customers):
    _train, holdout = stratified_split(customers.is_bad, test_share=0.3, seed=SEED)
    frame = customers.frame[holdout.tolist()]
    scores = calibration.score(frame)
    outcome = customers.is_bad[holdout]
    expected = ks_2samp(scores[outcome], scores[~outcome]).statistic
    assert abs(calibration.holdout.ks - expected) < 1e-12


def test_scaling_adds_pdo_points_when_the_odds_double():
    scaling = Scaling(pdo=20, base_score=600, base_odds=50)
    assert scaling.factor == 20 / math.log(2)
    assert scaling.offset == pytest.approx(600 - 28.85390081777927 * math.log(50), abs=1e-9)
    assert scaling.score_of(math.log(50)) == pytest.approx(600, abs=1e-9)
    assert scaling.score_of(math.log(100)) - scaling.score_of(math.log(50)) == pytest.approx(
        20, abs=1e-9
    )
    assert scaling.score_of(math.log(25)) == pytest.approx(580, abs=1e-9)


def test_bin_points_follow_the_scaling_formula(calibration):
    scaling, alpha = calibration.scaling, calibration.intercept
    n = len(calibration.attributes)
    for attribute in calibration.attributes:
        for item in attribute.bins:
            expected = (
                -(attribute.coefficient * item.woe + alpha / n) * scaling.factor
                + scaling.offset / n
            )
            assert item.points == pytest.approx(expected, abs=1e-9)
        # β < 0: a safer bin (higher WoE) earns more points.
        assert attribute.coefficient < 0


def test_the_score_is_the_sum_of_points_and_doubles_odds_every_pdo(calibration, customers):
    frame = customers.frame.head(200)
    scores = calibration.score(frame)
    model = calibration.model
    columns = {name: frame.get_column(name).to_numpy() for name in ("days_late",)}
    columns["region"] = np.asarray(frame.get_column("region").to_list(), dtype=object)
    log_odds_bad = model.log_odds_bad(columns, np.arange(200))
    # score = offset + factor · ln(odds good): +pdo points for twice the odds of being good.
    assert np.allclose(
        scores, calibration.scaling.offset - calibration.scaling.factor * log_odds_bad
    )
    odds_ratio = 2 ** ((scores[:, None] - scores[None, :]) / calibration.scaling.pdo)
    good_odds = np.exp(-log_odds_bad)
    assert np.allclose(odds_ratio, good_odds[:, None] / good_odds[None, :])
    # And each row's score is the sum of the points of its bins.
    first = frame.row(0, named=True)
    region_points = next(
        b.points
        for b in _attribute(calibration, "region").bins
        if b.categories == (first["region"],)
    )
    days = first["days_late"]
    days_points = next(
        b.points
        for b in _attribute(calibration, "days_late").bins
        if (days is None and b.is_missing)
        or (
            days is not None
            and not b.is_missing
            and (b.low is None or days >= b.low)
            and (b.high is None or days < b.high)
        )
    )
    assert scores[0] == pytest.approx(region_points + days_points, abs=1e-9)


def test_as_dict_has_the_stable_keys(calibration):
    data = calibration.as_dict()
    assert {
        "rows",
        "bad_rate",
        "attributes",
        "intercept",
        "coefficients",
        "holdout",
        "cross_validation",
        "scaling",
    } <= set(data)
    assert data["rows"] == 5000
    assert data["bad_rate"] == calibration.bads / 5000
    assert set(data["attributes"][0]) >= {"name", "kind", "iv", "bins"}
    assert set(data["attributes"][0]["bins"][0]) >= {"label", "count", "bad_rate", "woe", "points"}
    assert set(data["holdout"]) >= {"auc", "ks", "gini"}
    assert set(data["cross_validation"]) >= {"auc_mean", "auc_std", "ks_mean", "gini_mean", "folds"}
    assert data["scaling"] == {"pdo": 20.0, "base_score": 600.0, "base_odds": 50.0}
    assert data["coefficients"] == {a.name: a.coefficient for a in calibration.attributes}


def _frame(rows: int) -> pl.DataFrame:
    return pl.DataFrame({"x": np.arange(rows, dtype=float), "y": ["a"] * rows})


@pytest.mark.parametrize(
    ("frame", "is_bad", "options", "message"),
    [
        (
            _frame(40),
            [True] * 10 + [False] * 30,
            {},
            "Only 40 rows: a scorecard needs at least 50.",
        ),
        (_frame(100), [False] * 100, {}, "No row is bad: there is nothing to tell apart."),
        (_frame(100), [True] * 100, {}, "Every row is bad: there is nothing to tell apart."),
        (
            _frame(100),
            [True] * 12 + [False] * 88,
            {},
            "Too few bad rows (12): at least 25 are needed",
        ),
        (
            _frame(100).with_columns(pl.lit(None, dtype=pl.String).alias("empty")),
            [True] * 30 + [False] * 70,
            {},
            "Column 'empty' is empty in every row; leave it out with --exclude.",
        ),
        (
            _frame(100),
            [True] * 30 + [False] * 70,
            {"test_share": 1.0},
            "--test-share must be between 0 and 1",
        ),
        (
            _frame(100),
            [True] * 30 + [False] * 70,
            {"scaling": None, "min_iv": 0.02},
            "No attribute has an information value of at least 0.02",
        ),
    ],
)
def test_data_that_cannot_be_calibrated_on_is_refused(frame, is_bad, options, message):
    with pytest.raises(CalibrationRefused) as refused:
        calibrate(
            frame.with_columns(x=pl.lit(1.0)) if "min_iv" in options else frame, is_bad, **options
        )
    assert message in refused.value.message


def test_scaling_refuses_odds_and_pdo_not_above_zero():
    with pytest.raises(CalibrationRefused, match="--pdo must be a number above 0"):
        Scaling(pdo=0)
    with pytest.raises(CalibrationRefused, match="--base-odds must be a number above 0"):
        Scaling(base_odds=-1)


# --- The training table from the ledger -------------------------------------------------------

AS_OF = dt.date(2026, 6, 30)


def _ledger():
    from kehu.customers.tests.factories import CustomerFactory
    from kehu.receivables.models import Payment, PaymentAllocation, WriteOff
    from kehu.receivables.tests.factories import InvoiceFactory
    from kehu.sales.models import Order, OrderState

    def invoice(customer, issued, amount, **extra):
        return InvoiceFactory(customer=customer, issue_date=issued, amount=Decimal(amount), **extra)

    def pay(invoice, on, amount):
        payment = Payment.objects.create(
            number=f"P{invoice.number}{on:%m%d}",
            customer=invoice.customer,
            received_on=on,
            amount=Decimal(amount),
            unallocated_amount=Decimal(0),
        )
        PaymentAllocation.objects.create(
            payment=payment, invoice=invoice, amount=Decimal(amount), allocated_on=on
        )

    def order(customer, on, amount):
        Order.objects.create(
            number=f"O{customer.code}{on:%y%m%d}",
            customer=customer,
            state=OrderState.INVOICED,
            order_date=on,
            total_amount=Decimal(amount),
        )

    good = CustomerFactory(code="A1", ownership="private", size="small", industry="steel")
    pay(invoice(good, dt.date(2024, 9, 1), "1000.00"), dt.date(2024, 9, 25), "1000.00")  # on time
    pay(
        invoice(good, dt.date(2025, 1, 10), "2000.00"), dt.date(2025, 2, 19), "2000.00"
    )  # 10 days late
    order(good, dt.date(2023, 8, 1), "1000.00")
    order(good, dt.date(2024, 8, 1), "1500.00")
    order(good, dt.date(2025, 8, 1), "9000.00")  # after the observation date: not counted

    late = CustomerFactory(code="B1", ownership="state_owned")
    pay(
        invoice(late, dt.date(2025, 4, 1), "1000.00"), dt.date(2025, 5, 31), "400.00"
    )  # 600 stays open

    written_off = CustomerFactory(code="C1", ownership="foreign", industry="retail")
    pay(invoice(written_off, dt.date(2024, 12, 1), "500.00"), dt.date(2024, 12, 20), "500.00")
    invoice(written_off, dt.date(2025, 2, 1), "700.00", is_cancelled=True)  # ignored
    lost = invoice(written_off, dt.date(2025, 9, 1), "1000.00")
    WriteOff.objects.create(
        invoice=lost, amount=Decimal("1000.00"), written_off_on=dt.date(2025, 12, 1), reason="gone"
    )

    already_bad = CustomerFactory(code="D1")  # 150 days past due on the observation date
    invoice(already_bad, dt.date(2025, 1, 1), "800.00")
    newcomer = CustomerFactory(code="E1")  # nothing due in the history year
    invoice(newcomer, dt.date(2025, 8, 1), "800.00")


@pytest.mark.django_db
def test_history_training_table_measures_each_customer():
    _ledger()

    table = history_training_table(as_of=AS_OF)

    assert HistoryWindows.ending(AS_OF) == HistoryWindows(
        as_of=AS_OF,
        observed_on=dt.date(2025, 6, 30),
        history_from=dt.date(2024, 6, 30),
        previous_from=dt.date(2023, 6, 30),
    )
    rows = table.drop("customer_id").to_dicts()
    assert rows == [
        {
            "code": "A1",
            "on_time_share": 0.5,
            "days_beyond_terms": pytest.approx(20000 / 3000, abs=1e-12),
            "oldest_overdue_days": 0,
            "purchase_growth": 0.5,
            "relationship_years": 1.91,
            "ownership": "private",
            "size": "small",
            "industry": "steel",
            "bad": False,
        },
        {
            "code": "B1",
            "on_time_share": 0.0,
            "days_beyond_terms": 48.0,
            "oldest_overdue_days": 60,
            "purchase_growth": None,
            "relationship_years": 0.25,
            "ownership": "state_owned",
            "size": None,
            "industry": None,
            "bad": True,
        },
        {
            "code": "C1",
            "on_time_share": 1.0,
            "days_beyond_terms": 0.0,
            "oldest_overdue_days": 0,
            "purchase_growth": None,
            "relationship_years": 0.58,
            "ownership": "foreign",
            "size": None,
            "industry": "retail",
            "bad": True,
        },
    ]


@pytest.mark.django_db
def test_history_training_table_of_an_empty_ledger_is_empty():
    table = history_training_table(as_of=AS_OF)

    assert table.height == 0
    assert table.columns == [
        "customer_id",
        "code",
        "on_time_share",
        "days_beyond_terms",
        "oldest_overdue_days",
        "purchase_growth",
        "relationship_years",
        "ownership",
        "size",
        "industry",
        "bad",
    ]
