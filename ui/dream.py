"""Deep Dream as a background job of one session, watched live by the page.

The same ``ui.jobs.Job``, worker pool and live view as a training, but the job belongs to one
user (their photo), so it lives in ``st.session_state`` rather than in the app-wide registry. The
work is core.deepdream.dream; the Stop button makes its ``on_step`` return True, so it stops within
one gradient step and the dream so far is kept and shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import streamlit as st

from core import deepdream
from ui import jobs

STATE_KEY = "_deepdream_job"


@dataclass
class Dream:
    """A dream job's result."""

    image: deepdream.DreamResult
    source: np.ndarray  # the input image (RGB uint8), for the before/after view
    label: str  # the input image's name
    norms: tuple[float, float]  # activation RMS before and after, at the working size
    previews: list[tuple[int, str, np.ndarray]] = field(default_factory=list)  # (octave, size, RGB)


def dream_work(backbone, pixels: np.ndarray, cfg: deepdream.Config, label: str) -> jobs.Work:
    """The job's work: the dream, each octave's preview kept, then the activation before/after."""
    def work(on_step: jobs.OnStep) -> Dream:
        previews: list[tuple[int, str, np.ndarray]] = []

        def step(i: int, metrics: dict) -> bool:
            if isinstance(metrics.get("preview"), np.ndarray):
                previews.append((int(metrics["octave"]), str(metrics["size"]), metrics["preview"]))
            # the live view shows the latest octave's preview until the next one is ready
            return on_step(i, {**metrics, "last_preview": previews[-1] if previews else None})

        image = deepdream.dream(backbone, pixels, cfg, on_step=step)
        norms = (deepdream.activation_norm(backbone, pixels, cfg), deepdream.activation_norm(backbone, image.pixels, cfg))
        return Dream(image, pixels, label, norms, previews)

    return work


def current_job() -> jobs.Job | None:
    return st.session_state.get(STATE_KEY)


def matches(job: jobs.Job | None, cfg: deepdream.Config, digest: str) -> bool:
    """The job dreams these settings on this image."""
    return job is not None and job.cfg == cfg and job.input == digest


def start(backbone, pixels: np.ndarray, cfg: deepdream.Config, digest: str, label: str) -> jobs.Job:
    """Start a dream for this session (stopping one still running with other settings)."""
    previous = current_job()
    if previous is not None and not previous.done.is_set():
        if matches(previous, cfg, digest):
            return previous
        previous.stop()
    job = jobs.start("deepdream", cfg, dream_work(backbone, pixels, cfg, label), input=digest)
    st.session_state[STATE_KEY] = job
    return job


def _progress_text(latest: dict) -> str:
    if not latest.get("total_steps"):
        return "starting…"
    return (f"step {int(latest['step'])} / {int(latest['total_steps'])} · octave {int(latest['octave'])} of "
            f"{int(latest['octaves'])} ({latest['size']} px) · objective {latest['objective']:.3g}")


def _preview(latest: dict) -> None:
    if latest.get("last_preview") is not None:
        octave, size, image = latest["last_preview"]
        st.image(image, caption=f"After octave {octave} ({size} px)", width=420)


def _outcome(job: jobs.Job) -> str:
    what = "failed" if job.error else "stopped" if job.stopped else "done"
    return f"Dream {what} in {job.seconds:.1f} s"


def watch(job: jobs.Job) -> None:
    """Live progress (bar, objective, the latest octave's preview) and a Stop button, until done."""
    jobs.watch(job, label="Dreaming", key="dd", stop_help="Stop now and keep the dream so far",
               progress_text=_progress_text, render_preview=_preview, outcome=_outcome,
               clear_preview=True,  # the page shows every octave's preview once the dream is done
               poll_seconds=0.2)


def result_or_stop(job: jobs.Job) -> Dream:
    """The finished dream, or the page stops with the reason; a stopped dream says so."""
    total = job.cfg.iterations * job.cfg.octaves
    return jobs.result_or_stop(job, failed="The dream failed",
                               stopped=f"Stopped after {len(job.history)} of {total} steps: showing the dream so far.")


def wipe(before: np.ndarray, after: np.ndarray, fraction: float) -> np.ndarray:
    """A before/after wipe: the dream left of ``fraction`` of the width, the photo right of it."""
    out = before.copy()
    cut = int(round(fraction * before.shape[1]))
    out[:, :cut] = after[:, :cut]
    if 0 < cut < before.shape[1]:
        out[:, max(cut - 1, 0): cut + 1] = 255  # the dividing line
    return out
