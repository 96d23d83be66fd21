"""Plotly builders for the LSTM forecasting page (kept here so the page stays thin)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go


def x_values(positions, dates: pd.DatetimeIndex | None, freq: str | None, n: int) -> np.ndarray:
    """Positions 0, 1, ... (future ones included) -> x values: dates when they are regular."""
    positions = np.asarray(positions)
    if dates is not None and freq:
        return np.asarray(pd.date_range(dates[0], periods=int(positions.max()) + 1, freq=freq)[positions])
    if dates is not None and positions.max() < n:
        return np.asarray(dates[positions])
    return positions


def series_figure(data, dates: pd.DatetimeIndex | None, freq: str | None, unit: str, pred: np.ndarray | None,
                  fc: pd.DataFrame | None = None, height: int = 430) -> go.Figure:
    """The series, one-step predictions (train/test), and the recursive forecast with its band."""
    n = len(data.series)

    def xs(positions) -> np.ndarray:
        return x_values(positions, dates, freq, n)

    fig = go.Figure()
    fig.add_scatter(x=xs(np.arange(n)), y=data.series, name="actual", line=dict(color="#444", width=1.5))
    if pred is not None:
        for part, color in (("train", "#1f77b4"), ("test", "#ff7f0e")):
            mask = data.train if part == "train" else ~data.train
            fig.add_scatter(x=xs(data.target_idx[mask]), y=pred[mask], name=f"one-step ({part})",
                            line=dict(color=color, width=2))
    if fc is not None:
        band_x = np.concatenate([xs(fc.t), xs(fc.t)[::-1]])
        fig.add_scatter(x=band_x, y=np.concatenate([fc.upper, fc.lower[::-1]]), fill="toself", name="±1.96 backtest RMSE",
                        fillcolor="rgba(44,160,44,0.2)", line=dict(width=0), hoverinfo="skip")
        fig.add_scatter(x=xs(fc.t), y=fc.forecast, name="recursive forecast", line=dict(color="#2ca02c", width=2.5))
    boundary = xs([data.n_train])[0]
    fig.add_vline(x=boundary, line_dash="dash", line_color="gray")
    fig.add_annotation(x=boundary, y=1, yref="paper", text="train | test", showarrow=False, yshift=10)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), yaxis_title=unit,
                      legend=dict(orientation="h", y=-0.15))
    return fig


def horizon_errors_figure(errors: pd.DataFrame) -> go.Figure:
    """Backtest RMSE per forecast horizon, one line per method."""
    fig = go.Figure()
    for name in errors.columns:
        fig.add_scatter(x=errors.index, y=errors[name], name=name, mode="lines+markers")
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10), xaxis_title="steps ahead (h)",
                      yaxis_title="backtest RMSE", title="Error growth with the horizon")
    return fig


def state_heatmap_figure(heat: np.ndarray, data, dates: pd.DatetimeIndex | None, freq: str | None,
                         which: str) -> go.Figure:
    """Top layer's hidden/cell state (units x windows) with the train/test boundary."""
    n = len(data.series)
    fig = go.Figure(go.Heatmap(z=heat, x=x_values(data.target_idx, dates, freq, n), y=np.arange(heat.shape[0]),
                               colorscale="RdBu", zmid=0, colorbar=dict(title=which)))
    fig.add_vline(x=x_values([data.n_train], dates, freq, n)[0], line_dash="dash", line_color="black")
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=30, b=10), yaxis_title="unit",
                      title=f"Top layer's {which} state after reading each window")
    return fig
