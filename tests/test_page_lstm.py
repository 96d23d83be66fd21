"""The LSTM forecasting page through AppTest (at 50 epochs instead of 300: conftest.SMALL_SETTINGS)."""

from __future__ import annotations

import numpy as np
import pytest

from core.lstm import read_airline
from tests.conftest import open_page, page_errors

PAGE = "pages/4_LSTM_Forecasting.py"


@pytest.fixture
def page(clear_streamlit_caches):
    at = open_page(PAGE)
    assert not page_errors(at), page_errors(at)
    return at


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def chart_keys(at) -> list[str]:
    return [chart.proto.id.rsplit("-", 1)[-1] for chart in at.get("plotly_chart")]


def test_airline_page_shows_test_rmse_next_to_both_baselines(page):
    shown = metrics(page)
    labels = list(shown)
    assert labels == ["Model (LSTM) · test RMSE", "Persistence · test RMSE",
                      "Seasonal naive (lag 12) · test RMSE"], labels
    values = [float(v) for v in shown.values()]
    assert all(v > 0 for v in values)
    # the baselines, by hand, on the test months (the last 30 %: 1957-06 .. 1960-12)
    y = read_airline()["Passengers"].to_numpy(float)
    t = np.arange(101, 144)
    assert values[1] == pytest.approx(np.sqrt(np.mean((y[t] - y[t - 1]) ** 2)), abs=0.006)
    assert values[2] == pytest.approx(np.sqrt(np.mean((y[t] - y[t - 12]) ** 2)), abs=0.006)
    charts = chart_keys(page)
    for key in ("lstm_series", "lstm_horizon_errors", "lstm_loss", "lstm_heatmap"):
        assert key in charts, charts
    assert page.slider(key="lstm_horizon").value == 24


def test_look_back_slider_changes_the_result(page):
    before = metrics(page)["Model (LSTM) · test RMSE"]
    page.slider(key="lstm_look_back").set_value(6).run()
    assert not page_errors(page), page_errors(page)
    after = metrics(page)["Model (LSTM) · test RMSE"]
    assert after != before


def test_horizon_slider_and_cell_choice(page):
    page.slider(key="lstm_horizon").set_value(6).run()
    assert not page_errors(page)
    # a longer run (~1-2 s) so that the live preview (current predictions) is drawn while it trains
    page.select_slider(key="lstm_epochs").set_value(600)
    page.selectbox(key="lstm_cell").set_value("GRU").run()
    assert not page_errors(page), page_errors(page)
    assert "Model (GRU) · test RMSE" in metrics(page)
    assert "lstm_live_600" in chart_keys(page)  # the live preview's last frame, in the status box
    assert page.radio(key="lstm_state").options == ["hidden"]  # a GRU has no cell state


def test_csv_with_a_text_value_column_gives_a_message_and_the_page_keeps_working(page):
    metrics_before = metrics(page)
    page.radio(key="lstm_source").set_value("custom").run()
    rows = "".join(f"{2020 + i // 12}-{1 + i % 12:02d}-01,shop {i},{100 + 10 * (i % 12) + i}\n"
                   for i in range(48) if i != 30)  # one month missing
    page.file_uploader(key="lstm_csv").upload("sales.csv", ("when,name,sales\n" + rows).encode(), "text/csv").run()
    assert not page.exception
    page.selectbox(key="lstm_value_col").set_value("name").run()
    assert not page.exception
    assert any("not numeric" in e.value for e in page.error), page_errors(page)
    assert metrics(page), "the page still shows a model (the airline passengers)"
    page.selectbox(key="lstm_value_col").set_value("sales").run()
    assert not page_errors(page), page_errors(page)
    assert metrics(page)["Persistence · test RMSE"] != metrics_before["Persistence · test RMSE"]
    assert any("1 missing date was added" in w.value for w in page.warning), [w.value for w in page.warning]
    assert page.selectbox(key="lstm_date_col").value == "when"  # the date column is found by itself


def test_synthetic_noise_slider_changes_the_result(page):
    page.radio(key="lstm_source").set_value("synthetic").run()
    assert not page_errors(page), page_errors(page)
    before = metrics(page)
    page.slider(key="lstm_noise").set_value(30.0).run()
    assert not page_errors(page), page_errors(page)
    assert metrics(page) != before
    page.slider(key="lstm_trend").set_value(-1.0).run()
    page.slider(key="lstm_season").set_value(100.0).run()  # now the series dips below zero: no logs
    assert not page_errors(page), page_errors(page)
    assert page.checkbox(key="lstm_log").disabled


def test_settings_that_leave_too_few_windows_give_a_message(page):
    page.radio(key="lstm_source").set_value("synthetic").run()
    page.slider(key="lstm_length").set_value(48).run()
    page.slider(key="lstm_train_frac").set_value(0.5).run()
    page.slider(key="lstm_look_back").set_value(24).run()  # 24 training points, all in the first window
    assert not page.exception
    assert any("too few windows" in e.value for e in page.error), page_errors(page)
    page.slider(key="lstm_look_back").set_value(12).run()  # and back: the page recovers
    assert not page_errors(page), page_errors(page)
    assert metrics(page)


def test_tutorial_settings_button(page):
    page.button(key="lstm_tutorial").click().run()
    assert not page_errors(page), page_errors(page)
    assert page.slider(key="lstm_look_back").value == 2
    assert page.select_slider(key="lstm_hidden").value == 4
    assert page.select_slider(key="lstm_epochs").value == 1000
    assert "Model (LSTM) · test RMSE" in metrics(page)


def test_weekly_co2_csv_finds_its_dates_and_a_52_week_season(page):
    """Real weekly CO2 (YYYYMMDD integers, 59 empty readings): the date column and the calendar are
    found, the season length follows it, and the x-axis shows dates, not row numbers."""
    from pathlib import Path

    data = (Path(__file__).resolve().parent / "data" / "co2_weekly.csv").read_bytes()
    page.radio(key="lstm_source").set_value("custom").run()
    page.file_uploader(key="lstm_csv").upload("co2.csv", data, "text/csv").run()
    assert not page_errors(page), page_errors(page)
    assert page.selectbox(key="lstm_date_col").value == "date"
    assert page.selectbox(key="lstm_value_col").value == "co2"
    assert any("Found **weekly** dates" in c.value for c in page.sidebar.caption), [c.value for c in page.sidebar.caption]
    assert page.number_input(key="lstm_period_weekly").value == 52
    assert "Seasonal naive (lag 52) · test RMSE" in metrics(page), list(metrics(page))
    series = next(c for c in page.get("plotly_chart") if c.proto.id.endswith("lstm_series"))
    assert '"1958-' in series.proto.spec or "1958-" in series.proto.spec  # dates on the x-axis
    # the learner can override the season length
    page.number_input(key="lstm_period_weekly").set_value(12).run()
    assert "Seasonal naive (lag 12) · test RMSE" in metrics(page), list(metrics(page))


def test_yearly_sunspots_have_no_season_and_bands_above_zero(page):
    from pathlib import Path

    data = (Path(__file__).resolve().parent / "data" / "sunspots_yearly.csv").read_bytes()
    page.radio(key="lstm_source").set_value("custom").run()
    page.file_uploader(key="lstm_csv").upload("sunspots.csv", data, "text/csv").run()
    assert not page_errors(page), page_errors(page)
    assert page.selectbox(key="lstm_date_col").value == "YEAR"
    assert any("no season (yearly data)" in c.value for c in page.sidebar.caption)
    assert not any(k.startswith("Seasonal naive") for k in metrics(page)), list(metrics(page))
