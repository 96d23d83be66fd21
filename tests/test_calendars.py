"""Date columns and calendars of uploaded series, on real public series (tests/data/README.md):
weekly CO2 with YYYYMMDD integer dates, yearly sunspots with integer years, monthly El Nino SST
dated like ``Jan-1-1950``, quarterly US GDP dated like ``1959-Q1``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import forecasting, lstm, tables

DATA = Path(__file__).resolve().parent / "data"


def load(name: str) -> pd.DataFrame:
    return tables.read_csv_upload((DATA / f"{name}.csv").read_bytes(), max_rows=tables.MAX_SERIES_ROWS)


@pytest.mark.parametrize(("name", "date_col", "frequency", "season", "first"), [
    ("co2_weekly", "date", "weekly", 52, "1958-03-29"),
    ("sunspots_yearly", "YEAR", "yearly", 0, "1700-01-01"),
    ("elnino_monthly", "Month", "monthly", 12, "1950-01-01"),
    ("us_gdp_quarterly", "quarter", "quarterly", 4, "1959-01-01"),
])
def test_real_series_date_column_frequency_and_season(name, date_col, frequency, season, first):
    frame = load(name)
    assert tables.guess_date_column(frame) == date_col
    value_col = next(c for c in frame.columns if c != date_col)
    parsed = tables.parse_series(frame, value_col, date_col, min_points=lstm.MIN_POINTS)
    assert parsed.frequency == frequency and parsed.season == season
    assert parsed.dates[0] == pd.Timestamp(first)
    assert parsed.dates.is_monotonic_increasing and len(parsed.dates) == len(parsed.values)
    assert np.isfinite(parsed.values).all()


def test_co2_gaps_are_reported_and_filled():
    parsed = tables.parse_series(load("co2_weekly"), "co2", "date")
    assert any("59 values were empty" in note for note in parsed.notes), parsed.notes
    assert len(parsed.values) == 2284 and 310 < parsed.values.min() < parsed.values.max() < 380


def test_the_inferred_season_makes_the_seasonal_baseline_honest():
    """Weekly CO2: the seasonal-naive forecast with the inferred lag (52 weeks) beats the lag of 12
    the page used to assume for every series (issue: 1.70 ppm against 3.08)."""
    parsed = tables.parse_series(load("co2_weekly"), "co2", "date")
    y = parsed.values
    test = np.arange(int(0.7 * len(y)), len(y))

    def rmse(lag):
        return forecasting.rmse(y[test], y[test - lag])

    assert rmse(parsed.season) < 0.7 * rmse(12)


@pytest.mark.parametrize(("text", "expected"), [
    (["1949", "1950", "1951"], ["1949-01-01", "1950-01-01", "1951-01-01"]),
    (["19580329", "19580405", "19580412"], ["1958-03-29", "1958-04-05", "1958-04-12"]),
    (["199501", "199502", "199503"], ["1995-01-01", "1995-02-01", "1995-03-01"]),
    (["Jan-1-1995", "Feb-1-1995", "Mar-1-1995"], ["1995-01-01", "1995-02-01", "1995-03-01"]),
    (["2001Q3", "2001 Q4", "2002-q1"], ["2001-07-01", "2001-10-01", "2002-01-01"]),
    (["2024-01-31", "2024-02-29", "2024-03-31"], ["2024-01-31", "2024-02-29", "2024-03-31"]),
])
def test_parse_dates_formats(text, expected):
    assert tables.parse_dates(pd.Series(text)).tolist() == [pd.Timestamp(e) for e in expected]


@pytest.mark.parametrize("values", [["3.5", "2.25", "7.0"], ["120", "135", "148"], ["1", "2", "3"], ["0.5", "1e3", "2"]])
def test_numbers_that_are_not_dates_stay_values(values):
    assert tables.parse_dates(pd.Series(values)).isna().all()


def test_a_value_column_is_not_taken_for_dates():
    frame = pd.DataFrame({"x": np.arange(30) * 1.5, "sales": np.arange(30) + 100.0})
    assert tables.guess_date_column(frame) is None


@pytest.mark.parametrize(("step", "frequency"), [("D", "daily"), ("W-MON", "weekly"), ("MS", "monthly"),
                                                 ("ME", "monthly"), ("QS", "quarterly"), ("YS", "yearly")])
def test_infer_frequency(step, frequency):
    assert tables.infer_frequency(pd.date_range("2000-01-01", periods=40, freq=step)) == frequency


def test_irregular_dates_have_no_frequency():
    dates = pd.DatetimeIndex(["2000-01-01", "2000-01-04", "2000-02-20", "2000-02-21", "2000-07-01"])
    assert tables.infer_frequency(dates) is None


def test_bands_of_a_never_negative_series_stay_at_or_above_zero():
    """Yearly sunspots have years at 0: a +-1.96 RMSE band would dip below zero; it must not."""
    parsed = tables.parse_series(load("sunspots_yearly"), "SUNACTIVITY", "YEAR")
    cfg = lstm.Config(source="custom", values=tuple(parsed.values), period=parsed.season, log=False,
                      hidden=8, layers=1, epochs=40)
    model, _ = lstm.train(cfg)
    fc = forecasting.forecast(model, lstm.prepare(cfg), 24)
    assert (fc.lower >= 0).all()
    assert (fc.forecast - 1.96 * fc.rmse < 0).any(), \
        "the test needs a band that would cross zero unclipped"
    errors = forecasting.horizon_errors(model, lstm.prepare(cfg), 12)
    assert "seasonal naive" not in errors  # yearly data: no season to repeat
