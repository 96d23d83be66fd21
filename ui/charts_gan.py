"""Plotly builders for the GAN page (kept here so the page stays thin)."""

from __future__ import annotations

import plotly.graph_objects as go

from core import digits, gan


def loss_figure(history: list[dict], kind: str) -> go.Figure:
    """Smoothed D and G losses per generator iteration, each with its dashed chance level."""
    frame = gan.loss_frame(history, window=max(1, len(history) // 60))
    fig = go.Figure()
    for name, color in (("d_loss", "#d62728"), ("g_loss", "#1f77b4")):
        fig.add_scatter(x=frame.index, y=frame[name], name=name.replace("_loss", " loss"), line_color=color)
        fig.add_hline(y=gan.chance_losses(kind)[name], line_dash="dash", line_color=color, opacity=0.5)
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10), xaxis_title="generator iteration",
                      yaxis_title="loss (smoothed)", title="Discriminator vs generator")
    return fig


def judge_histogram_figure(fake: dict, real: dict) -> go.Figure:
    """Share of generated vs real digits per CNN-predicted label (the mode-collapse meter)."""
    fig = go.Figure()
    fig.add_bar(x=list(range(10)), y=fake["hist"], name="generated")
    fig.add_bar(x=list(range(10)), y=real["hist"], name="real held-out digits", opacity=0.5)
    fig.add_hline(y=0.1, line_dash="dot", annotation_text="uniform")
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10), barmode="group",
                      xaxis=dict(title="digit predicted by the CNN", dtick=1), yaxis_title="share of samples",
                      title=f"Mode-collapse meter: {digits.N_JUDGED} samples labelled by the digits CNN")
    return fig
