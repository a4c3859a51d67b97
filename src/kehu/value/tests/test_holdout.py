"""Calibration/holdout checks and model comparison on CDNOW."""

from __future__ import annotations

import numpy as np
import pytest

from kehu.value.clv import bgnbd, pareto_nbd
from kehu.value.clv import summary as summaries
from kehu.value.clv.holdout import compare_models, frequency_groups, tracking

from .conftest import CALIBRATION_END, HOLDOUT_END

BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


def columns(summary):
    return {
        "frequency": summary["frequency"].to_numpy(),
        "recency": summary["recency"].to_numpy(),
        "age": summary["T"].to_numpy(),
        "frequency_holdout": summary["frequency_holdout"].to_numpy(),
        "duration_holdout": 39.0,
    }


def test_frequency_groups_on_cdnow(cdnow_weekly_summary):
    result = frequency_groups(bgnbd, BG, **columns(cdnow_weekly_summary))
    groups = result["groups"]
    # then eight groups 0 … 7+, with all 2,357 customers and the holdout's 1,882 purchase days
    assert [group["frequency"] for group in groups] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert [group["customers"] for group in groups] == [1411, 439, 214, 100, 62, 38, 29, 64]
    assert result["actual_total"] == 1882.0
    assert groups[0]["actual"] == pytest.approx(334 / 1411)
    # and the predictions rise with calibration frequency, as in FHL 2005 figure 4
    predicted = [group["predicted"] for group in groups]
    assert predicted == sorted(predicted)
    assert result["predicted_total"] == pytest.approx(
        bgnbd.conditional_expected_purchases(
            BG,
            39.0,
            cdnow_weekly_summary["frequency"].to_numpy(),
            cdnow_weekly_summary["recency"].to_numpy(),
            cdnow_weekly_summary["T"].to_numpy(),
        ).sum()
    )


def test_tracking_counts_every_repeat_purchase_day(cdnow_transactions):
    timeline = summaries.purchase_timeline(
        cdnow_transactions, calibration_end=CALIBRATION_END, holdout_end=HOLDOUT_END, unit="week"
    )
    result = tracking(bgnbd, BG, timeline)
    # the last point is the holdout end and counts all 4,339 repeat purchase days of 78 weeks
    assert result["times"][-1] == pytest.approx(timeline.holdout_end)
    assert result["actual"][-1] == 4339.0
    assert result["holdout_actual"] == 1882.0
    # the expected curve starts at 0 and grows
    assert result["predicted"][0] >= 0
    assert np.all(np.diff(result["predicted"]) > 0)
    # a well-fitting model: the 78-week total within 10% (FHL 2005, figure 2)
    assert result["predicted"][-1] == pytest.approx(4339.0, rel=0.1)


def test_compare_models_ranks_by_holdout_error(cdnow_weekly_summary):
    rows = compare_models(**columns(cdnow_weekly_summary), models=("bgnbd", "pareto_nbd"))
    assert [row["model"] for row in rows] == sorted(
        ["bgnbd", "pareto_nbd"],
        key=lambda name: next(r["holdout_customer_rmse"] for r in rows if r["model"] == name),
    )
    by_model = {row["model"]: row for row in rows}
    assert round(by_model["bgnbd"]["log_likelihood"], 1) == -9582.4
    assert round(by_model["pareto_nbd"]["log_likelihood"], 1) == -9595.0
    assert by_model["bgnbd"]["aic"] == pytest.approx(8 + 2 * 9582.43, abs=0.05)
    assert all(row["converged"] for row in rows)


def test_tracking_with_pareto(cdnow_transactions):
    timeline = summaries.purchase_timeline(
        cdnow_transactions, calibration_end=CALIBRATION_END, holdout_end=HOLDOUT_END, unit="week"
    )
    params = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    result = tracking(pareto_nbd, params, timeline, step=7.0)
    assert result["predicted"][-1] == pytest.approx(4339.0, rel=0.1)
