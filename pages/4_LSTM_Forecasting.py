"""LSTM forecasting: airline passengers (or any series) one step and many steps ahead (tutorial 5.1-5.3)."""

import streamlit as st

from core import lstm
from core.training import history_frame
from ui.charts import loss_curves
from ui.charts_lstm import series_figure
from ui.frame import page_frame, show_error
from ui.jobs import model_id, result_or_stop, retrain_button, train_live
from ui.panels_lstm import data_controls, forecast_panel, one_step_and_scores, positive_series, state_panel

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

EPOCHS = [50, 100, 200, 300, 400, 600, 1000, 2000]
TUTORIAL = {"lstm_look_back": 2, "lstm_target": "level", "lstm_log": False, "lstm_cell": "LSTM", "lstm_hidden": 4,
            "lstm_layers": 2, "lstm_lr": 1e-2, "lstm_epochs": 1000, "lstm_clip": 0.0, "lstm_train_frac": 0.7}


def use_tutorial_settings() -> None:
    st.session_state.update(TUTORIAL)


def controls(fields: dict) -> lstm.Config:
    positive = positive_series(fields)
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
    epochs = st.sidebar.select_slider("Epochs (full batch)", EPOCHS, value=300, key="lstm_epochs")
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
model, history = result_or_stop(job), job.history

steps, table = one_step_and_scores(model, model_id(model), cfg, data)
st.subheader("How good is it on the test part?")
cols = st.columns(3)
for col, (name, row) in zip(cols, table.iterrows()):
    col.metric(f"{name} · test RMSE", f"{row['RMSE']:.2f}", help=f"MAPE {row['MAPE %']:.1f} %")
st.dataframe(table.style.format("{:.2f}"), width="stretch")
st.caption("RMSE in the series' own units and MAPE in %, over the same test months. Persistence says "
           "*next = last value*; seasonal naive says *next = the value one season ago*. A model that cannot "
           "beat them has learnt nothing useful.")

forecast_panel(model, cfg, data, dates, freq, unit, steps)

left, right = st.columns(2)
with left:
    st.plotly_chart(loss_curves(history_frame(history), {"loss": "train", "test_loss": "test"},
                                title="MSE per epoch (scaled units)"), key="lstm_loss")
    st.caption(f"Trained in {job.seconds:.1f} s ({job.source}). A test loss that turns up while the train loss "
               "keeps falling is overfitting: fewer epochs or a smaller hidden size help.")
with right:
    state_panel(model, cfg, data, dates, freq)

retrain_button(lstm, cfg, key="lstm_retrain")
with st.expander("Show the PyTorch code for these settings"):
    st.code(lstm.pytorch_code(cfg), language="python")
