"""Decision boundary: logistic regression and small MLPs on 2-D points (tutorial 3.3–3.4)."""

import numpy as np
import streamlit as st

from core import logistic
from core.training import OPTIMIZERS, history_frame
from ui.charts import boundary_figure, loss_curves
from ui.frame import page_frame, show_error
from ui.jobs import result_or_stop, retrain_button, train_live
from ui.panels_points import boundary_points

page_frame(
    "Decision Boundary",
    intro=("Logistic regression turns a weighted sum of the inputs into a probability with the sigmoid, "
           "and calls a point class 1 when that probability passes a threshold. The boundary is therefore "
           "a straight line. Hidden layers with a non-linear activation (an MLP) let the boundary bend: "
           "try *circles* with logistic regression, then with one hidden layer of 8 tanh units. Placing your "
           "own points (the table below) shows what each model can and cannot carve: a line stays a line, "
           "an MLP bends around an island."),
    formula=r"P(y=1\mid x)=\sigma(w_1x_1+w_2x_2+b)=\frac{1}{1+e^{-(w_1x_1+w_2x_2+b)}},\qquad "
            r"L=-\frac{1}{n}\sum_i\big[y_i\log p_i+(1-y_i)\log(1-p_i)\big]",
)

LEARNING_RATES = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.05, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0]
DATASET_LABELS = {"exam": "Exam scores (tutorial)", "moons": "Moons", "circles": "Circles", "xor": "XOR",
                  "spiral": "Spiral", "blobs": "Blobs"}


def controls() -> logistic.Config:
    st.sidebar.header("Data")
    dataset = st.sidebar.selectbox("Data set", list(DATASET_LABELS), index=1, format_func=DATASET_LABELS.get,
                                   key="lr_dataset")
    n_samples = st.sidebar.slider("Points", 40, 1000, 200, 20, key="lr_points", disabled=dataset == "exam",
                                  help="The exam set always has the tutorial's 100 students.")
    noise = st.sidebar.slider("Noise", 0.0, 1.0, 0.2, 0.05, key="lr_noise")
    test_fraction = st.sidebar.slider("Test fraction", 0.1, 0.5, 0.3, 0.05, key="lr_test")
    st.sidebar.header("Model")
    kind = st.sidebar.radio("Model", ["logistic", "mlp"], index=1, key="lr_model", horizontal=True,
                            format_func={"logistic": "Logistic regression", "mlp": "MLP"}.get)
    layers = st.sidebar.slider("Hidden layers", 1, 4, 1, key="lr_layers", disabled=kind == "logistic")
    units = st.sidebar.slider("Units per hidden layer", 1, 32, 8, key="lr_units", disabled=kind == "logistic")
    activation = st.sidebar.selectbox("Activation", list(logistic.ACTIVATIONS), index=1, key="lr_act",
                                      disabled=kind == "logistic")
    st.sidebar.header("Training")
    optimizer = st.sidebar.selectbox("Optimizer", OPTIMIZERS, index=OPTIMIZERS.index("Adam"), key="lr_opt")
    lr = st.sidebar.select_slider("Learning rate (log scale)", LEARNING_RATES, value=0.05, key="lr_lr")
    weight_decay = st.sidebar.select_slider("L2 weight decay", [0.0, 1e-4, 1e-3, 1e-2, 0.1, 1.0], value=0.0,
                                            key="lr_wd")
    epochs = st.sidebar.slider("Epochs", 10, 3000, 300, 10, key="lr_epochs")
    seed = st.sidebar.number_input("Seed", 0, 10_000, 0, key="lr_seed")
    return logistic.Config(dataset=dataset, n_samples=n_samples, noise=noise, test_fraction=test_fraction,
                           model=kind, hidden_layers=layers, hidden_units=units, activation=activation,
                           weight_decay=weight_decay, optimizer=optimizer, lr=lr, epochs=epochs,
                           seed=int(seed), data_seed=int(seed))


try:
    cfg = boundary_points(controls())
    data = logistic.make_data(cfg)
except ValueError as exc:
    show_error(exc, "These settings cannot be used")
    st.stop()


def preview(latest: dict) -> None:
    if "probability_grid" in latest:
        bounds = logistic.plot_bounds(data)
        x1, x2 = np.linspace(*bounds[:2], 40), np.linspace(*bounds[2:], 40)
        st.plotly_chart(boundary_figure(data, x1, x2, latest["probability_grid"], 0.5),
                        key=f"lr_live_{int(latest['step'])}")


job = train_live(logistic, cfg, label="Training", chart_keys=("loss", "test_loss"), render_preview=preview,
                 key="lr")
model, history = result_or_stop(job), job.history
frame = history_frame(history)
grid = logistic.probability_grid(model, data)


@st.fragment
def threshold_panel() -> None:
    """Moving the threshold re-draws the contour and the confusion matrix, not the training."""
    threshold = st.slider("Decision threshold t (class 1 when P(y=1) ≥ t)", 0.05, 0.95, 0.5, 0.05,
                          key="lr_threshold")
    line = None
    left, right = st.columns([3, 2])
    with right:
        cols = st.columns(2)
        cols[0].metric("Train accuracy", f"{logistic.accuracy(model, data, 'train', threshold):.1%}")
        cols[1].metric("Test accuracy", f"{logistic.accuracy(model, data, 'test', threshold):.1%}")
        st.markdown("**Confusion matrix (test points)**")
        st.dataframe(logistic.confusion(model, data, threshold), width="stretch")
        if cfg.model == "logistic":
            w1, w2, b = logistic.boundary_equation(model, data, threshold)
            st.markdown("**Boundary learnt**")
            st.latex(rf"{w1:.3f}\,x_1 {w2:+.3f}\,x_2 {b:+.3f} = 0")
            if abs(w2) > 1e-9:
                xs = grid["x1"][[0, -1]]
                line = (xs, -(w1 * xs + b) / w2)
        st.caption("Raising t makes the model stricter about class 1: fewer false positives, more false negatives.")
    with left:
        st.plotly_chart(boundary_figure(data, grid["x1"], grid["x2"], grid["p"], threshold, line), key="lr_boundary")
        st.caption("Colour: the model's P(y=1). Black line: where P(y=1) = t. Circles: training points; "
                   "crosses: held-out test points the model never trained on.")


threshold_panel()

left, right = st.columns(2)
left.plotly_chart(loss_curves(frame, {"loss": "train", "test_loss": "test"}, title="Cross-entropy"), key="lr_loss")
right.plotly_chart(loss_curves(frame, {"train_acc": "train", "test_acc": "test"}, title="Accuracy (t = 0.5)",
                               log_y=False), key="lr_acc")

if cfg.model == "mlp":
    with st.expander("What the first hidden layer's units respond to"):
        tiles = logistic.hidden_activations(model, data)
        cols = st.columns(min(8, len(tiles)))
        for i, tile in enumerate(tiles):
            scaled = (tile - tile.min()) / (np.ptp(tile) + 1e-9)
            cols[i % len(cols)].image(scaled[::-1], caption=f"unit {i + 1}", clamp=True, width=80)
        st.caption("Each tile is one hidden unit's activation over the plane: every unit draws one soft line; "
                   "the next layers combine those lines into the curved boundary.")

retrain_button(logistic, cfg, key="lr_retrain")
