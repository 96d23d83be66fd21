"""Plotly builders for the autoencoder page (kept here so the page stays thin)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core import autoencoder as ae

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def scatter3d(view: ae.LatentView, markers=(), height: int = 520, legend: bool = True) -> go.Figure:
    """Held-out codes in 3-D coloured by true digit, plus named (name, point, symbol, colour) markers."""
    fig = go.Figure()
    for digit in range(10):
        pts = view.points[view.labels == digit]
        fig.add_trace(go.Scatter3d(x=pts[:, 0], y=pts[:, 1], z=pts[:, 2], mode="markers", name=str(digit),
                                   marker=dict(size=2.5, color=COLOURS[digit], opacity=0.75),
                                   hovertemplate=f"digit {digit}<extra></extra>"))
    for name, point, symbol, colour in markers:
        fig.add_trace(go.Scatter3d(x=[point[0]], y=[point[1]], z=[point[2]], mode="markers", name=name,
                                   marker=dict(size=9, symbol=symbol, color=colour, line=dict(width=2, color="white"))))
    axis = "PC" if view.axes.shape[1] > 3 else "code"
    fig.update_layout(height=height, margin=dict(l=0, r=0, t=10, b=0), showlegend=legend, legend_title_text="digit",
                      legend_itemsizing="constant",
                      uirevision="latent",  # keep the user's rotation when the figure is redrawn
                      scene=dict(xaxis_title=f"{axis} 1", yaxis_title=f"{axis} 2", zaxis_title=f"{axis} 3"))
    return fig


def loss_figure(history: list[dict], model: str) -> go.Figure:
    """Training and held-out loss per epoch (plus the held-out KL term for the VAE), log scale."""
    curve = go.Figure()
    for key, label in (("loss", "training loss"), ("test_loss", "held-out loss"), ("test_kl", "held-out KL term")):
        if key == "test_kl" and model != "vae":
            continue
        curve.add_trace(go.Scatter(x=[r["step"] for r in history if key in r],
                                   y=[r[key] for r in history if key in r], name=label, mode="lines"))
    curve.update_layout(height=260, margin=dict(l=0, r=0, t=10, b=0), xaxis_title="epoch", yaxis_title="per digit",
                        yaxis_type="log")
    return curve


def plane_figure(view: ae.LatentView, plane: tuple[int, int], grid: int = 40, height: int = 460) -> go.Figure:
    """The held-out codes seen along one axis: a 2-D scatter of view axes ``plane`` (coloured by
    digit), under an invisible ``grid`` x ``grid`` scatter of candidate codes, so a click anywhere on
    the plane selects a point (Streamlit's plotly selections work on 2-D scatters, not 3-D ones).
    A selected grid point turns into a black diamond; the data points keep their look."""
    i, j = plane
    (x_lo, x_hi), (y_lo, y_hi) = view.ranges()[i], view.ranges()[j]
    fig = go.Figure()
    for digit in range(10):
        pts = view.points[view.labels == digit]
        fig.add_trace(go.Scatter(x=pts[:, i], y=pts[:, j], mode="markers", name=str(digit),
                                 marker=dict(size=5, color=COLOURS[digit], opacity=0.6),
                                 selected=dict(marker=dict(opacity=1.0, size=12, color="black")),
                                 unselected=dict(marker=dict(opacity=0.6)),
                                 hovertemplate=f"digit {digit}: click to decode this code<extra></extra>"))
    gx, gy = np.meshgrid(np.linspace(x_lo, x_hi, grid), np.linspace(y_lo, y_hi, grid))
    fig.add_trace(go.Scatter(x=gx.ravel().round(4), y=gy.ravel().round(4), mode="markers", name="any code",
                             showlegend=False, marker=dict(size=12, opacity=0.0, color="black", symbol="diamond"),
                             selected=dict(marker=dict(opacity=1.0)), unselected=dict(marker=dict(opacity=0.0)),
                             hovertemplate="(%{x:.2f}, %{y:.2f}): click to decode<extra></extra>"))
    axis = "PC" if view.axes.shape[1] > 3 else "code"
    fig.update_layout(height=height, margin=dict(l=0, r=0, t=10, b=0), legend_title_text="digit",
                      legend_itemsizing="constant", hovermode="closest", clickmode="event+select",
                      xaxis_title=f"{axis} {i + 1}", yaxis_title=f"{axis} {j + 1}")
    return fig
