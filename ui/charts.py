"""Small plotly builders shared by pages (kept here so pages stay thin)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core import regression


def loss_curves(frame: pd.DataFrame, columns: dict[str, str], *, title: str = "Loss", log_y: bool = True,
                x_title: str = "epoch") -> go.Figure:
    """Line chart of history columns (column -> legend label), log scale by default."""
    fig = go.Figure()
    for column, label in columns.items():
        if column in frame:
            fig.add_scatter(x=frame.index, y=frame[column], mode="lines", name=label)
    fig.update_layout(title=title, height=300, margin=dict(l=10, r=10, t=40, b=10),
                      xaxis_title=x_title, legend=dict(orientation="h", y=-0.25))
    if log_y:
        fig.update_yaxes(type="log")
    return fig


def regression_fit_figure(data, curves: dict[str, np.ndarray]) -> go.Figure:
    """Train/test points and named curves over ``regression.plot_grid(data)``."""
    fig = go.Figure()
    fig.add_scatter(x=data.x_train, y=data.y_train, mode="markers", name="train", marker=dict(size=8))
    if len(data.x_test):
        fig.add_scatter(x=data.x_test, y=data.y_test, mode="markers", name="test",
                        marker=dict(size=9, symbol="x"))
    grid = regression.plot_grid(data)
    styles = {"gradient descent": dict(width=3), "closed form": dict(dash="dash"), "true curve": dict(dash="dot")}
    for name, y in curves.items():
        fig.add_scatter(x=grid, y=y, mode="lines", name=name, line=styles.get(name, {}))
    y_all = np.concatenate([data.y_train, data.y_test])
    pad = 0.3 * (y_all.max() - y_all.min() + 1e-9)
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=30, b=10), xaxis_title="x", yaxis_title="y",
                      yaxis_range=[y_all.min() - pad, y_all.max() + pad], legend=dict(orientation="h", y=-0.15))
    return fig


def descent_path_figure(surface: dict[str, np.ndarray], frame: pd.DataFrame) -> go.Figure:
    """log-MSE contours over (w, b), the (w, b) of every recorded epoch, and the closed-form star."""
    fig = go.Figure(go.Contour(x=surface["w"], y=surface["b"], z=np.log10(surface["loss"] + 1e-12),
                               colorscale="Viridis", colorbar=dict(title="log₁₀ MSE"), ncontours=25))
    fig.add_scatter(x=frame["w1"], y=frame["b"], mode="lines+markers", name="(w, b) per epoch",
                    marker=dict(size=3, color="white"), line=dict(color="white"))
    fig.add_scatter(x=[surface["optimum"][0]], y=[surface["optimum"][1]], mode="markers", name="closed form",
                    marker=dict(symbol="star", size=16, color="red"))
    fig.update_layout(height=420, xaxis_title="w", yaxis_title="b", margin=dict(l=10, r=10, t=30, b=10))
    return fig


def boundary_figure(data, x1, x2, p, threshold: float, line=None) -> go.Figure:
    """Probability heatmap, the p = threshold contour, and train (circles) / test (crosses) points."""
    fig = go.Figure(go.Heatmap(x=x1, y=x2, z=p, zmin=0, zmax=1, colorscale="RdBu", opacity=0.75,
                               colorbar=dict(title="P(y=1)")))
    fig.add_contour(x=x1, y=x2, z=p, contours=dict(start=threshold, end=threshold, size=1, coloring="none"),
                    line=dict(width=3, color="black"), showscale=False, name=f"p = {threshold:.2f}")
    for split, xs, ys, symbol in (("train", data.x_train, data.y_train, "circle"),
                                  ("test", data.x_test, data.y_test, "x")):
        for label, colour in ((0, "#b2182b"), (1, "#2166ac")):
            pts = xs[ys == label]
            fig.add_scatter(x=pts[:, 0], y=pts[:, 1], mode="markers", name=f"{split} · class {label}",
                            marker=dict(symbol=symbol, size=8, color=colour, line=dict(width=1, color="white")))
    if line is not None:
        fig.add_scatter(x=line[0], y=line[1], mode="lines", name="w·x + b = logit(t)",
                        line=dict(color="black", dash="dash"))
    fig.update_layout(height=480, margin=dict(l=10, r=10, t=30, b=10), xaxis_title="x₁", yaxis_title="x₂",
                      xaxis_range=[x1[0], x1[-1]], yaxis_range=[x2[0], x2[-1]], legend=dict(orientation="h", y=-0.15))
    return fig
