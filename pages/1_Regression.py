"""Regression: gradient descent vs the closed-form least-squares answer (tutorial 3.2)."""

import numpy as np
import streamlit as st

from core import regression
from core.training import OPTIMIZERS, history_frame
from ui.charts import descent_path_figure, loss_curves, regression_fit_figure as fit_figure
from ui.frame import page_frame, show_error
from ui.jobs import result_or_stop, retrain_button, train_live
from ui.panels_points import regression_points
from ui.panels_regression import data_controls

page_frame(
    "Regression",
    intro=("A model with weights **w** and bias **b** predicts ŷ = b + w₁x + w₂x² + … + w_d x^d. "
           "Gradient descent nudges the weights downhill on the mean squared error, one step per epoch. "
           "For this model there is also an exact answer, the *normal equation*, so you can watch the "
           "descent close in on it — or fail to, when the learning rate is off or the features are badly scaled. "
           "Put points where you want them (the table below) to feel how a single point tugs a "
           "least-squares fit, and how a high degree bends to hit every point it is given."),
    formula=r"L(\theta)=\frac{1}{n}\sum_{i=1}^{n}\big(\theta^\top x_i - y_i\big)^2,\qquad "
            r"\theta \leftarrow \theta-\eta\,\nabla L(\theta),\qquad \theta^*=(X^\top X)^{-1}X^\top y",
)

LEARNING_RATES = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0]


def controls() -> regression.Config:
    data = data_controls()
    st.sidebar.header("Model and training")
    default_degree = 1 if data["dataset"] == "tutorial" else 3
    degree = st.sidebar.slider("Polynomial degree", 1, 10, default_degree, key="reg_degree")
    optimizer = st.sidebar.selectbox("Optimizer", OPTIMIZERS, index=OPTIMIZERS.index("Adam"), key="reg_opt")
    lr = st.sidebar.select_slider("Learning rate (log scale)", LEARNING_RATES, value=0.1, key="reg_lr")
    epochs = st.sidebar.slider("Epochs", 10, 5000, 600, 10, key="reg_epochs")
    standardize = st.sidebar.checkbox("Standardise features", value=True, key="reg_std",
                                      help="z-score x, x², … with the training set's mean and std.")
    test_fraction = st.sidebar.slider("Test fraction", 0.0, 0.5, 0.25, 0.05, key="reg_test")
    seed = st.sidebar.number_input("Seed", 0, 10_000, 0, key="reg_seed")
    return regression.Config(degree=degree, optimizer=optimizer, lr=lr, epochs=epochs, standardize=standardize,
                             test_fraction=test_fraction, seed=int(seed), data_seed=int(seed), **data)


try:
    cfg = regression_points(controls())
    data = regression.make_data(cfg)
except ValueError as exc:
    show_error(exc, "These settings cannot be used")
    st.stop()

grid = regression.plot_grid(data)
exact = regression.closed_form(regression.poly_features(data.x_train, cfg.degree), data.y_train)
reference = {"closed form": regression.predict(exact, grid)}
if data.true_coeffs is not None:
    reference["true curve"] = regression.predict(np.array(data.true_coeffs), grid)

live_chart = st.empty()


def preview(latest: dict) -> None:
    if "curve" in latest:
        st.plotly_chart(fit_figure(data, {"gradient descent": latest["curve"], **reference}),
                        key=f"reg_live_{int(latest['step'])}")


job = train_live(regression, cfg, label="Gradient descent", chart_keys=("loss", "test_loss"),
                 render_preview=preview, key="reg")
model = result_or_stop(job, on_failure=lambda: live_chart.plotly_chart(fit_figure(data, reference),
                                                                       key="reg_fit_failed"))
history = job.history
frame = history_frame(history)
last = history[-1]
coeffs = regression.learned_coefficients(model, data)

cols = st.columns(4)
cols[0].metric("Train MSE", f"{last['loss']:.4g}")
cols[1].metric("Test MSE", f"{last['test_loss']:.4g}" if "test_loss" in last else "—")
cols[2].metric("‖θ_GD − θ*‖", f"{last['dist_to_optimum']:.3g}",
               help="Distance from the gradient-descent weights to the closed-form optimum (optimiser's coordinates).")
cols[3].metric("cond(XᵀX)", f"{regression.condition_number(regression.poly_features(data.x_train, cfg.degree)):.3g}",
               help="Condition number of the raw design. Huge values (high degree, unscaled x) make gradient "
                    "descent crawl: try turning standardisation off at degree 6+.")


@st.fragment
def replay() -> None:
    """Scrub through training: the fit (and, at degree 1, the point on the loss surface) at any epoch."""
    steps = [int(r["step"]) for r in history]
    epoch = st.select_slider("Replay training: epoch", steps, value=steps[-1], key="reg_replay")
    record = history[steps.index(epoch)]
    curve = regression.predict(regression.coefficients_at(record, data), grid)
    st.plotly_chart(fit_figure(data, {"gradient descent": curve, **reference}), key="reg_fit")
    st.caption("Thick line: gradient descent at the chosen epoch. Dashed: the closed-form least-squares fit "
               "(the best any weights can do on the training points). Dotted: the curve the data was drawn from.")


with live_chart.container():
    replay()

left, right = st.columns(2)
with left:
    st.subheader("Coefficients")
    st.dataframe(regression.coefficient_table(model, data).style.format("{:.4f}"), width="stretch")
    st.caption("With enough epochs and a good learning rate, gradient descent lands on the closed form; "
               "with noise, neither matches the true curve exactly.")
with right:
    st.subheader("Loss curves")
    st.plotly_chart(loss_curves(frame, {"loss": "train", "test_loss": "test"}, title="MSE per epoch"),
                    key="reg_loss")

if cfg.degree == 1:
    st.subheader("The descent path on the loss surface")
    contour = descent_path_figure(regression.loss_surface(data), frame)
    c1, c2 = st.columns([3, 2])
    c1.plotly_chart(contour, key="reg_contour")
    c2.plotly_chart(loss_curves(frame, {"dist_to_optimum": "‖θ − θ*‖"}, title="Distance to the optimum"),
                    key="reg_dist")
    c2.caption("Without standardisation the surface is a long, narrow valley: the path zig-zags and the "
               "distance falls slowly. Standardised, the valley is round and descent goes straight in.")

retrain_button(regression, cfg, key="reg_retrain")
with st.expander("Show the PyTorch code for these settings"):
    st.code(regression.pytorch_code(cfg), language="python")
