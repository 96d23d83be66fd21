"""Widget groups and panels of the LSTM forecasting page: the series choice (built-in, synthetic or
the user's CSV), the forecast and the recurrent-state views of a trained model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core import forecasting, lstm
from core.tables import MAX_SERIES_ROWS, guess_date_column, parse_series, read_csv_upload
from ui.charts_lstm import horizon_errors_figure, series_figure, state_heatmap_figure
from ui.frame import show_error
from ui.jobs import model_id

SOURCE_LABELS = {"airline": "Airline passengers 1949-1960", "synthetic": "Synthetic seasonal series",
                 "custom": "Upload a CSV"}


@st.cache_data(show_spinner=False, max_entries=8)
def parse_upload(data: bytes, value_col: str | None, date_col: str | None):
    frame = read_csv_upload(data, max_rows=MAX_SERIES_ROWS)
    return frame if value_col is None else parse_series(frame, value_col, date_col, min_points=lstm.MIN_POINTS)


def data_controls() -> tuple[dict, pd.DatetimeIndex | None, str | None, str]:
    """Sidebar data choice -> (Config fields, dates, their frequency, the value's name)."""
    st.sidebar.header("Data")
    source = st.sidebar.radio("Series", list(SOURCE_LABELS), format_func=SOURCE_LABELS.get, key="lstm_source")
    airline = ({"source": "airline"}, pd.DatetimeIndex(lstm.read_airline()["Month"]), "MS",
               "passengers (thousands)")
    if source == "airline":
        return airline
    if source == "synthetic":
        fields = {"source": "synthetic",
                  "length": st.sidebar.slider("Points", 48, 480, 144, 12, key="lstm_length"),
                  "trend": st.sidebar.slider("Trend (rise per step)", -1.0, 5.0, 2.0, 0.25, key="lstm_trend"),
                  "season": st.sidebar.slider("Season amplitude", 0.0, 100.0, 40.0, 5.0, key="lstm_season"),
                  "noise": st.sidebar.slider("Noise (std)", 0.0, 40.0, 8.0, 1.0, key="lstm_noise"),
                  "period": st.sidebar.slider("Season length (steps)", 2, 24, 12, key="lstm_period")}
        return fields, None, None, "value"
    upload = st.sidebar.file_uploader("CSV file", type=["csv", "txt"], key="lstm_csv",
                                      help="One row per time step: a column of numbers, optionally a date column.")
    if upload is None:
        st.info("Upload a CSV in the sidebar and pick its value column. Until then, the airline passengers are shown.")
        return airline
    try:
        frame = parse_upload(upload.getvalue(), None, None)
        columns = [str(c) for c in frame.columns]
        guessed = guess_date_column(frame)  # named like a date, or holding dates, years or YYYYMMDD numbers
        numeric = [c for c in columns if c != guessed and pd.to_numeric(frame[c], errors="coerce").notna().mean() > 0.9]
        value_col = st.sidebar.selectbox("Value column", columns, key="lstm_value_col",
                                         index=columns.index(numeric[-1]) if numeric else 0)
        options = ["(none)"] + [c for c in columns if c != value_col]
        date_col = st.sidebar.selectbox("Date column (optional)", options, key="lstm_date_col",
                                        index=options.index(guessed) if guessed in options else 0)
        parsed = parse_upload(upload.getvalue(), value_col, None if date_col == "(none)" else date_col)
    except ValueError as exc:
        show_error(exc, "This CSV cannot be used")
        st.info("Showing the airline passengers instead.")
        return airline
    for note in parsed.notes:
        st.warning(note, icon=":material/healing:")
    found = calendar_note(parsed, date_col)
    st.sidebar.caption(found)
    period = st.sidebar.number_input(
        "Season length (steps, 0 = none)", 0, 400, parsed.season if parsed.dates is not None else 12,
        key=f"lstm_period_{parsed.frequency}",  # a new calendar brings its own default
        help="The lag of the seasonal-naive baseline: 7 for daily data (a week), 52 weekly, 12 monthly, 4 quarterly; "
             "0 for none (yearly data). Set from the calendar found in the date column; change it if you know better.")
    return ({"source": "custom", "values": tuple(parsed.values.tolist()), "period": int(period)},
            parsed.dates, parsed.freq, value_col)


def calendar_note(parsed, date_col: str) -> str:
    """What the page found in the date column, in one sentence."""
    if parsed.dates is None:
        return "No date column: the x-axis counts rows, and the season length is yours to set."
    span = f"{parsed.dates[0]:%Y-%m-%d} to {parsed.dates[-1]:%Y-%m-%d}"
    if parsed.frequency is None:
        return f"Dates in {date_col!r} ({span}) come at irregular steps: no season length could be inferred."
    season = f"season length {parsed.season}" if parsed.season else "no season (yearly data)"
    return f"Found **{parsed.frequency}** dates in {date_col!r}, {span}: {season}."


# --- cached views of a trained model (keyed by its id) -----------------------------------------------


@st.cache_data(show_spinner=False, max_entries=16)
def one_step_and_scores(_model, model: str, cfg: lstm.Config, _data: lstm.Prepared) -> tuple[pd.DataFrame, pd.DataFrame]:
    return forecasting.one_step(_model, _data), forecasting.scores(_model, _data)


@st.cache_data(show_spinner=False, max_entries=32)
def multi_step(_model, model: str, cfg: lstm.Config, horizon: int, _data: lstm.Prepared) -> tuple[pd.DataFrame, pd.DataFrame]:
    return forecasting.forecast(_model, _data, horizon), forecasting.horizon_errors(_model, _data, horizon)


# --- panels --------------------------------------------------------------------------------------------


@st.fragment
def forecast_panel(model, cfg: lstm.Config, data, dates, freq, unit: str, one_step: pd.DataFrame) -> None:
    horizon = st.slider("Forecast horizon (steps past the end)", 1, 36, 24, key="lstm_horizon")
    fc, errors = multi_step(model, model_id(model), cfg, horizon, data)
    st.plotly_chart(series_figure(data, dates, freq, unit, one_step.prediction.to_numpy(), fc), key="lstm_series")
    st.caption("Grey: the data; dashed line: where training data ends. Blue/orange: one-step predictions, each "
               "from the true past values. Green: the forecast past the end, where each prediction is fed back as "
               "the newest input. Its band is ±1.96 × the error that recursive forecasts made at each horizon "
               "when started from every test month (a backtest), so it widens as errors pile up.")
    st.plotly_chart(horizon_errors_figure(errors), key="lstm_horizon_errors")


@st.fragment
def state_panel(model, cfg: lstm.Config, data, dates, freq) -> None:
    kinds = ["hidden", "cell"] if cfg.cell == "LSTM" else ["hidden"]
    which = st.radio("State", kinds, horizontal=True, key="lstm_state")
    heat = lstm.state_heatmap(model, data, which)
    st.plotly_chart(state_heatmap_figure(heat, data, dates, freq, which), key="lstm_heatmap")
    st.caption("Each column is the memory the network hands to its output layer for one prediction. Units that "
               "flip colour every season track the yearly cycle; a cell state drifting past the dashed line is "
               "the network meeting levels it never saw in training.")


def positive_series(fields: dict) -> bool:
    """The chosen series is all positive (a log transform is possible)."""
    return bool(np.min(lstm.load_series(lstm.Config(**fields))) > 0)
