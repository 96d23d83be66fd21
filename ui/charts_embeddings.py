"""Plotly builders for the word-embeddings page (kept here so the page stays thin)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ui.charts import loss_curves

COLORS = {"word": "#4F46E5", "found": "#DC2626", "neighbour": "#F59E0B"}


def word_figure(xyz, words, counts, found=None, neighbours=(), ranges=None, labels: int = 150) -> go.Figure:
    """Labelled points, size by frequency; the found word red, its neighbours amber."""
    role = np.array(["found" if w == found else "neighbour" if w in neighbours else "word" for w in words])
    size = 7 + 16 * np.sqrt(counts / counts.max())
    labelled = set(np.argsort(-counts, kind="stable")[:labels].tolist())  # the most frequent + highlights
    text = [w if (i in labelled or role[i] != "word") else "" for i, w in enumerate(words)]
    hover = [f"{w} ({c}×)" for w, c in zip(words, counts)]
    fig = go.Figure()
    for name in ("word", "neighbour", "found"):
        m = role == name
        if not m.any():
            continue
        common = dict(mode="markers+text", name=name, text=np.array(text)[m], hovertext=np.array(hover)[m],
                      hoverinfo="text", textposition="top center",
                      marker=dict(size=size[m], color=COLORS[name], opacity=0.75))
        if xyz.shape[1] == 3:
            fig.add_trace(go.Scatter3d(x=xyz[m, 0], y=xyz[m, 1], z=xyz[m, 2], **common))
        else:
            fig.add_trace(go.Scatter(x=xyz[m, 0], y=xyz[m, 1], **common))
    fig.update_layout(height=560, margin=dict(l=0, r=0, t=10, b=0), legend=dict(orientation="h"))
    if ranges is not None:
        fig.update_xaxes(range=ranges[0])
        fig.update_yaxes(range=ranges[1])
    return fig


def epoch_figure(coords: np.ndarray, s: int, words, counts, found, neighbours) -> go.Figure:
    """Snapshot ``s`` of (S, V, 2) coords on fixed axes, with the found word's dotted path so far."""
    lo, hi = coords.min((0, 1)), coords.max((0, 1))
    pad = 0.08 * (hi - lo)
    fig = word_figure(coords[s], words, counts, found, neighbours,
                      ranges=[(lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1])])
    if found in words:  # the found word's path up to this epoch
        path = coords[: s + 1, words.index(found)]
        fig.add_trace(go.Scatter(x=path[:, 0], y=path[:, 1], mode="lines", name=f"path of '{found}'",
                                 line=dict(color=COLORS["found"], dash="dot")))
    return fig


def next_word_figure(table: pd.DataFrame) -> go.Figure:
    """Horizontal bars: probability of each candidate next word, most likely on top."""
    fig = go.Figure(go.Bar(x=table["probability"], y=table["word"], orientation="h",
                           marker_color=COLORS["word"]))
    fig.update_layout(height=320, margin=dict(l=0, r=0, t=10, b=0), yaxis=dict(autorange="reversed"),
                      xaxis_title="probability")
    return fig


def loss_with_tutorial_figure(frame: pd.DataFrame) -> go.Figure:
    """Training loss (log scale) with the tutorial's loss after 100 epochs as a dotted reference."""
    fig = loss_curves(frame, {"loss": "training loss"}, title="Training loss (log scale)")
    if len(frame):  # a trace, not add_hline: plotly misplaces hline annotations on log axes
        fig.add_scatter(x=[frame.index.min(), frame.index.max()], y=[0.061979] * 2, mode="lines",
                        name="tutorial after 100 epochs (0.062)", line=dict(dash="dot", color="gray"))
    return fig
