"""LSTM forecasting: airline passengers (or any series) one step and many steps ahead (tutorial 5.1-5.3)."""

import os

import numpy as np
import pandas as pd
import streamlit as st

from core import forecasting, lstm
from core.tables import MAX_SERIES_ROWS, parse_series, read_csv_upload
from core.training import history_frame
from ui.charts import loss_curves
from ui.charts_lstm import horizon_errors_figure, series_figure, state_heatmap_figure
from ui.frame import page_frame, show_error
from ui.jobs import retrain_button, train_live

page_frame(
    "LSTM Forecasting",
    intro=("A recurrent network reads the last few values of a series one at a time, carrying a memory "
           "(its hidden state, and for an LSTM also a cell state) from step to step, and predicts the next "
           "value. An LSTM's gates decide what to forget, what to store and what to output, which keeps "
           "gradients alive over long sequences. Is it any good? Only if it beats the naive forecasts: "
           "*same as last month* and *same as a year ago*."),
    formula=r"c_t = f_t \odot c_{t-1} + i_t \odot \tanh(W_c[h_{t-1}, x_t] + b_c),\qquad "
            r"h_t = o_t \odot \tanh(c_t),\qquad \hat y_{t+1} = W_y h_t + b_y",
)

FAST = os.environ.get("DLE_FAST") == "1"  # tests only: fewer default epochs
EPOCHS = [50, 100, 200, 300, 400, 600, 1000, 2000]
PERIOD_BY_FREQ = {"MS": 12, "ME": 12, "M": 12, "D": 7, "QS": 4, "QE": 4, "h": 24, "H": 24}


@st.cache_data(show_spinner=False, max_entries=8)
def parse_upload(data: bytes, value_col: str | None, date_col: str | None):
    frame = read_csv_upload(data, max_rows=MAX_SERIES_ROWS)
    return frame if value_col is None else parse_series(frame, value_col, date_col, min_points=lstm.MIN_POINTS)


def data_controls() -> tuple[dict, pd.DatetimeIndex | None, str | None, str]:
    """Sidebar data choice -> (Config fields, dates, their frequency, the value's name)."""
    st.sidebar.header("Data")
    labels = {"airline": "Airline passengers 1949-1960", "synthetic": "Synthetic seasonal series",
              "custom": "Upload a CSV"}
    source = st.sidebar.radio("Series", list(labels), format_func=labels.get, key="lstm_source")
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
        numeric = [c for c in columns if pd.to_numeric(frame[c], errors="coerce").notna().mean() > 0.9]
        datelike = [c for c in columns if c not in numeric and
                    pd.to_datetime(frame[c], errors="coerce", format="mixed").notna().mean() > 0.9]
        value_col = st.sidebar.selectbox("Value column", columns, key="lstm_value_col",
                                         index=columns.index(numeric[-1]) if numeric else 0)
        options = ["(none)"] + [c for c in columns if c != value_col]
        date_col = st.sidebar.selectbox("Date column (optional)", options, key="lstm_date_col",
                                        index=options.index(datelike[0]) if datelike and datelike[0] in options else 0)
        parsed = parse_upload(upload.getvalue(), value_col, None if date_col == "(none)" else date_col)
    except ValueError as exc:
        show_error(exc, "This CSV cannot be used")
        st.info("Showing the airline passengers instead.")
        return airline
    for note in parsed.notes:
        st.warning(note, icon=":material/healing:")
    period = st.sidebar.number_input("Season length (steps)", 1, 400, PERIOD_BY_FREQ.get(parsed.freq or "", 12),
                                     key="lstm_period_csv", help="The lag of the seasonal-naive baseline.")
    return ({"source": "custom", "values": tuple(parsed.values.tolist()), "period": int(period)},
            parsed.dates, parsed.freq, value_col)


TUTORIAL = {"lstm_look_back": 2, "lstm_target": "level", "lstm_log": False, "lstm_cell": "LSTM", "lstm_hidden": 4,
            "lstm_layers": 2, "lstm_lr": 1e-2, "lstm_epochs": 1000, "lstm_clip": 0.0, "lstm_train_frac": 0.7}


def use_tutorial_settings() -> None:
    st.session_state.update(TUTORIAL)


def controls(fields: dict) -> lstm.Config:
    positive = bool(np.min(lstm.load_series(lstm.Config(**fields))) > 0)
    st.sidebar.header("Windows and scaling")
    st.sidebar.button("Use the tutorial's settings", key="lstm_tutorial", on_click=use_tutorial_settings,
                      help="Look-back 2, the next value as target, no logs, hidden 4, 1000 epochs, no clipping. "
                           "The scaler stays fitted on the training part only (the tutorial's leak is not copied).")
    look_back = st.sidebar.slider("Look-back (past values per input)", 1, 24, 12, key="lstm_look_back",
                                  help="The tutorial uses 2. 12 lets the network see a whole year.")
    train_frac = st.sidebar.slider("Train fraction", 0.5, 0.9, 0.7, 0.05, key="lstm_train_frac")
    target = st.sidebar.radio("The network predicts", lstm.TARGETS, key="lstm_target", format_func={
        "change": "the change from the last value", "level": "the next value (tutorial)"}.get)
    log = st.sidebar.checkbox("Log transform", value=positive, disabled=not positive, key="lstm_log",
                              help="Work with log(y): a season that grows with the level becomes a constant "
                                   "shape. Needs positive values.") and positive
    st.sidebar.header("Model and training")
    cell = st.sidebar.selectbox("Recurrent cell", lstm.CELLS, index=2, key="lstm_cell")
    hidden = st.sidebar.select_slider("Hidden size", [2, 4, 8, 16, 32, 64], value=16, key="lstm_hidden")
    layers = st.sidebar.slider("Layers", 1, 3, 2, key="lstm_layers")
    lr = st.sidebar.select_slider("Learning rate (Adam)", [1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3], value=1e-2,
                                  key="lstm_lr")
    epochs = st.sidebar.select_slider("Epochs (full batch)", EPOCHS, value=50 if FAST else 300, key="lstm_epochs")
    clip = st.sidebar.select_slider("Gradient clipping (max norm, 0 = off)", [0.0, 0.1, 0.5, 1.0, 5.0],
                                    value=1.0, key="lstm_clip")
    seed = st.sidebar.number_input("Seed", 0, 10_000, 0, key="lstm_seed")
    return lstm.Config(**fields, look_back=look_back, train_frac=train_frac, target=target, log=log, cell=cell,
                       hidden=hidden, layers=layers, lr=lr, epochs=epochs, clip=clip, seed=int(seed))


try:
    fields, dates, freq, unit = data_controls()
    cfg = controls(fields)
    data = lstm.prepare(cfg)
except ValueError as exc:
    show_error(exc, "These settings cannot be used")
    st.stop()

def preview(latest: dict) -> None:
    if "pred" in latest:
        st.plotly_chart(series_figure(data, dates, freq, unit, latest["pred"], height=300),
                        key=f"lstm_live_{int(latest['step'])}")


job = train_live(lstm, cfg, label=f"Training the {cfg.cell}", chart_keys=("loss", "test_loss"),
                 render_preview=preview, key="lstm")
if job.error is not None:
    st.stop()
model, history = job.model, job.history
version = (job.stopped, len(history))  # part of the cache keys: a stopped model differs from a full one


@st.cache_data(show_spinner=False, max_entries=16)
def one_step_and_scores(_model, cfg: lstm.Config, version) -> tuple[pd.DataFrame, pd.DataFrame]:
    return forecasting.one_step(_model, data), forecasting.scores(_model, data)


@st.cache_data(show_spinner=False, max_entries=32)
def multi_step(_model, cfg: lstm.Config, horizon: int, version) -> tuple[pd.DataFrame, pd.DataFrame]:
    return forecasting.forecast(_model, data, horizon), forecasting.horizon_errors(_model, data, horizon)


steps, table = one_step_and_scores(model, cfg, version)
st.subheader("How good is it on the test part?")
cols = st.columns(3)
for col, (name, row) in zip(cols, table.iterrows()):
    col.metric(f"{name} · test RMSE", f"{row['RMSE']:.2f}", help=f"MAPE {row['MAPE %']:.1f} %")
st.dataframe(table.style.format("{:.2f}"), width="stretch")
st.caption("RMSE in the series' own units and MAPE in %, over the same test months. Persistence says "
           "*next = last value*; seasonal naive says *next = the value one season ago*. A model that cannot "
           "beat them has learnt nothing useful.")


@st.fragment
def forecast_panel() -> None:
    horizon = st.slider("Forecast horizon (steps past the end)", 1, 36, 24, key="lstm_horizon")
    fc, errors = multi_step(model, cfg, horizon, version)
    st.plotly_chart(series_figure(data, dates, freq, unit, steps.prediction.to_numpy(), fc), key="lstm_series")
    st.caption("Grey: the data; dashed line: where training data ends. Blue/orange: one-step predictions, each "
               "from the true past values. Green: the forecast past the end, where each prediction is fed back as "
               "the newest input. Its band is ±1.96 × the error that recursive forecasts made at each horizon "
               "when started from every test month (a backtest), so it widens as errors pile up.")
    st.plotly_chart(horizon_errors_figure(errors), key="lstm_horizon_errors")


forecast_panel()

left, right = st.columns(2)
with left:
    st.plotly_chart(loss_curves(history_frame(history), {"loss": "train", "test_loss": "test"},
                                title="MSE per epoch (scaled units)"), key="lstm_loss")
    st.caption(f"Trained in {job.seconds:.1f} s ({job.source}). A test loss that turns up while the train loss "
               "keeps falling is overfitting: fewer epochs or a smaller hidden size help.")


@st.fragment
def state_panel() -> None:
    kinds = ["hidden", "cell"] if cfg.cell == "LSTM" else ["hidden"]
    which = st.radio("State", kinds, horizontal=True, key="lstm_state")
    heat = lstm.state_heatmap(model, data, which)
    st.plotly_chart(state_heatmap_figure(heat, data, dates, freq, which), key="lstm_heatmap")
    st.caption("Each column is the memory the network hands to its output layer for one prediction. Units that "
               "flip colour every season track the yearly cycle; a cell state drifting past the dashed line is "
               "the network meeting levels it never saw in training.")


with right:
    state_panel()

retrain_button(lstm, cfg, key="lstm_retrain")
with st.expander("Show the PyTorch code for these settings"):
    st.code(lstm.pytorch_code(cfg), language="python")
