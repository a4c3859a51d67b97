"""Shared data for the lifetime-value tests: the CDNOW sample (2,357 customers who first bought
in the first quarter of 1997) and Fader & Hardie's 39-week calibration summary of it."""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from kehu.value.clv import summary as summaries

DATA = Path(__file__).parent / "data"
CALIBRATION_END = datetime.date(1997, 9, 30)
HOLDOUT_END = datetime.date(1998, 6, 30)


@pytest.fixture(scope="session")
def cdnow_transactions() -> pl.DataFrame:
    return summaries.read_cdnow(DATA / "CDNOW_sample.txt")


@pytest.fixture(scope="session")
def cdnow_summary_file() -> pl.DataFrame:
    return pl.read_csv(DATA / "cdnow_customers_summary.csv")


@pytest.fixture(scope="session")
def cdnow_history(cdnow_summary_file) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    frame = cdnow_summary_file
    return frame["frequency"].to_numpy(), frame["recency"].to_numpy(), frame["T"].to_numpy()


@pytest.fixture(scope="session")
def cdnow_weekly_summary(cdnow_transactions) -> pl.DataFrame:
    return summaries.summarize(
        cdnow_transactions, calibration_end=CALIBRATION_END, holdout_end=HOLDOUT_END, unit="week"
    )
