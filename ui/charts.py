"""Small plotly builders shared by pages (kept here so pages stay thin)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go


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
