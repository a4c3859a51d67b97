"""Transactions → per-customer summary, with lifetimes' conventions."""

from __future__ import annotations

import datetime

import numpy as np
import polars as pl
import pytest

from kehu.value.clv import summary as summaries

from .conftest import DATA


def test_cdnow_summary_equals_fader_hardies(cdnow_weekly_summary, cdnow_summary_file):
    # given the CDNOW sample summarised in weeks at the 39-week calibration end
    ours = cdnow_weekly_summary
    theirs = cdnow_summary_file
    # then customers and frequencies are identical and recency/T equal their 2-decimal values
    assert ours["customer_id"].to_list() == theirs["ID"].to_list()
    assert ours["frequency"].to_list() == theirs["frequency"].cast(pl.Float64).to_list()
    assert np.abs(ours["recency"].to_numpy() - theirs["recency"].to_numpy()).max() <= 0.005
    assert np.abs(ours["T"].to_numpy() - theirs["T"].to_numpy()).max() <= 0.005


def test_cdnow_holdout_columns(cdnow_weekly_summary):
    assert cdnow_weekly_summary["duration_holdout"].unique().to_list() == [39.0]
    assert cdnow_weekly_summary["frequency_holdout"].sum() == 1882.0
    first = cdnow_weekly_summary.row(0, named=True)
    assert first["frequency"] == 2.0
    assert first["recency"] == pytest.approx(213 / 7)
    assert first["T"] == pytest.approx(272 / 7)
    assert first["monetary_value"] == pytest.approx((19.54 + 25.15) / 2)  # customer 1's repeats
    assert first["frequency_holdout"] == 1.0


def transactions(rows: list[tuple[str, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": [row[0] for row in rows],
            "date": [datetime.date.fromisoformat(row[1]) for row in rows],
            "amount": [row[2] for row in rows],
        }
    )


def test_same_day_purchases_count_once_and_add_up():
    # given: customer a buys twice on 1 March, then on 11 March and twice on 21 March;
    # customer b buys once; customer c only after the calibration end
    data = transactions(
        [
            ("a", "2024-03-01", 10.0),
            ("a", "2024-03-01", 5.0),
            ("a", "2024-03-11", 20.0),
            ("a", "2024-03-21", 1.0),
            ("a", "2024-03-21", 3.0),
            ("b", "2024-03-31", 7.0),
            ("c", "2024-04-05", 9.0),
            ("a", "2024-04-02", 8.0),
        ]
    )
    # when summarised in days at 31 March with a holdout to 10 April
    result = summaries.summarize(
        data,
        calibration_end=datetime.date(2024, 3, 31),
        holdout_end=datetime.date(2024, 4, 10),
        unit="day",
    )
    # then
    assert result.to_dicts() == [
        {
            "customer_id": "a",
            "frequency": 2.0,
            "recency": 20.0,
            "T": 30.0,
            "monetary_value": 12.0,  # (20 + 4) / 2: the first day's 15 is left out
            "frequency_holdout": 1.0,
            "monetary_value_holdout": 8.0,
            "duration_holdout": 10.0,
        },
        {
            "customer_id": "b",
            "frequency": 0.0,
            "recency": 0.0,
            "T": 0.0,
            "monetary_value": 0.0,
            "frequency_holdout": 0.0,
            "monetary_value_holdout": 0.0,
            "duration_holdout": 10.0,
        },
    ]


def test_weeks_are_seven_days():
    data = transactions([("a", "2024-01-01", 1.0), ("a", "2024-01-11", 2.0)])
    result = summaries.summarize(data, calibration_end=datetime.date(2024, 1, 15), unit="week")
    assert result.select("recency", "T").row(0) == (10 / 7, 2.0)


def test_no_transactions_before_the_calibration_end_is_refused():
    data = transactions([("a", "2024-01-10", 1.0)])
    with pytest.raises(summaries.TransactionError, match="no transactions on or before 2024-01-01"):
        summaries.summarize(data, calibration_end=datetime.date(2024, 1, 1))


def test_holdout_end_must_follow_the_calibration_end():
    data = transactions([("a", "2024-01-10", 1.0)])
    with pytest.raises(summaries.TransactionError, match="must come after"):
        summaries.summarize(
            data,
            calibration_end=datetime.date(2024, 2, 1),
            holdout_end=datetime.date(2024, 2, 1),
        )


def test_cdnow_master_format_with_header(tmp_path):
    path = tmp_path / "master.txt"
    path.write_text(
        " customer_id  date number_of_cds  dollar_value\n"
        " 00001 19970101  1   11.77\n 00002 19970112  1   12.00\n"
    )
    frame = summaries.read_cdnow(path)
    assert frame.to_dicts() == [
        {"customer_id": 1, "date": datetime.date(1997, 1, 1), "amount": 11.77},
        {"customer_id": 2, "date": datetime.date(1997, 1, 12), "amount": 12.0},
    ]


def test_cdnow_bad_date_names_the_line(tmp_path):
    path = tmp_path / "sample.txt"
    path.write_text(" 00004 0001 19970101  2   29.33\n 00004 0001 19971301  2   29.73\n")
    with pytest.raises(summaries.TransactionError, match=r"row 2, column date: '19971301'"):
        summaries.read_cdnow(path)


def test_csv_with_other_column_names_and_bad_amount(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("client,day,value\nx,2024-01-01,5\nx,2024-01-02,five\n")
    with pytest.raises(summaries.TransactionError, match=r"row 3, column amount: 'five'"):
        summaries.read_csv(path, columns=("client", "day", "value"))
    with pytest.raises(summaries.TransactionError, match="missing column"):
        summaries.read_csv(path)


def test_read_summary_accepts_the_cdnow_and_fader_hardie_names(tmp_path):
    frame = summaries.read_summary(DATA / "cdnow_customers_summary.csv")
    assert frame.columns == ["customer_id", "frequency", "recency", "T"]
    assert frame.height == 2357
    path = tmp_path / "fh.csv"
    path.write_text("ID,x,t_x,T,zbar\n1,2,30.43,38.86,22.35\n")
    assert summaries.read_summary(path, needs_monetary_value=True).row(0, named=True) == {
        "customer_id": "1",
        "frequency": 2.0,
        "recency": 30.43,
        "T": 38.86,
        "monetary_value": 22.35,
    }


def test_read_summary_names_the_missing_columns(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("customer_id,frequency,T\n1,0,3\n")
    with pytest.raises(summaries.TransactionError, match=r"missing column.* recency"):
        summaries.read_summary(path)
