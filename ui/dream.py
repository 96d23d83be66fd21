"""Deep Dream as a background job of one session, watched live by the page.

Like ui.jobs.train_live, but for an *image* optimisation that belongs to one user (their photo):
the job lives in ``st.session_state``, runs core.deepdream.dream in a thread (which never calls
``st.*``), and the page polls it, drawing the progress bar and each octave's preview. The Stop
button sets an event that the dream's ``on_step`` returns, so it stops within one gradient step
and the dream so far is kept and shown.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field

import numpy as np
import streamlit as st

from core import deepdream

STATE_KEY = "_deepdream_job"


@dataclass
class DreamJob:
    cfg: deepdream.Config
    digest: str  # the input image's hash
    label: str  # the input image's name
    source: np.ndarray  # the input image (RGB uint8), for the before/after view
    latest: dict = field(default_factory=dict)
    previews: list[tuple[int, str, np.ndarray]] = field(default_factory=list)  # (octave, size, RGB)
    stop_event: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    result: deepdream.DreamResult | None = None
    norms: tuple[float, float] | None = None  # activation RMS before and after, at the working size
    error: BaseException | None = None
    started: float = field(default_factory=time.perf_counter)
    finished: float | None = None

    @property
    def seconds(self) -> float:
        return (self.finished or time.perf_counter()) - self.started


def _run(job: DreamJob, backbone, pixels: np.ndarray) -> None:
    def on_step(step: int, metrics: dict) -> bool:
        job.latest = metrics
        if isinstance(metrics.get("preview"), np.ndarray):
            job.previews.append((int(metrics["octave"]), str(metrics["size"]), metrics["preview"]))
        return job.stop_event.is_set()

    try:
        job.result = deepdream.dream(backbone, pixels, job.cfg, on_step=on_step)
        job.norms = (deepdream.activation_norm(backbone, pixels, job.cfg),
                     deepdream.activation_norm(backbone, job.result.pixels, job.cfg))
    except BaseException as exc:  # shown by the page; the thread must not die silently
        job.error = exc
        if not isinstance(exc, ValueError):
            traceback.print_exc()
    finally:
        job.finished = time.perf_counter()
        job.done.set()


def current_job() -> DreamJob | None:
    return st.session_state.get(STATE_KEY)


def start(backbone, pixels: np.ndarray, cfg: deepdream.Config, digest: str, label: str) -> DreamJob:
    """Start a dream for this session (stopping one still running with other settings)."""
    previous = current_job()
    if previous is not None and not previous.done.is_set():
        if previous.cfg == cfg and previous.digest == digest:
            return previous
        previous.stop_event.set()
    job = DreamJob(cfg, digest, label, pixels)
    st.session_state[STATE_KEY] = job
    threading.Thread(target=_run, args=(job, backbone, pixels), daemon=True, name="deepdream").start()
    return job


def watch(job: DreamJob, *, poll_seconds: float = 0.2, key: str = "dd_stop") -> None:
    """Live progress (bar, objective, the latest octave's preview) and a Stop button, until done."""
    if job.done.is_set():
        return
    box = st.status("Dreaming…", expanded=True)
    with box:
        stop_col, bar_col = st.columns([1, 4])
        if stop_col.button("Stop", icon=":material/stop_circle:", key=key, help="Stop now and keep the dream so far"):
            job.stop_event.set()
        bar = bar_col.progress(0.0, text="starting…")
        preview = st.empty()
        shown_previews = -1
        while True:
            finished = job.done.wait(poll_seconds)
            latest = job.latest
            total = float(latest.get("total_steps", 0) or 0)
            if total:
                bar.progress(min(float(latest["step"]) / total, 1.0),
                             text=f"step {int(latest['step'])} / {int(total)} · octave {int(latest['octave'])} of "
                                  f"{int(latest['octaves'])} ({latest['size']} px) · objective {latest['objective']:.3g}")
            if len(job.previews) != shown_previews and job.previews:
                shown_previews = len(job.previews)
                octave, size, image = job.previews[-1]
                preview.image(image, caption=f"After octave {octave} ({size} px)", width=420)
            if finished:
                break
        preview.empty()  # the page shows every octave's preview once the dream is done
    state = "error" if job.error else "complete"
    what = "failed" if job.error else "stopped" if job.result is not None and job.result.stopped else "done"
    box.update(label=f"Dream {what} in {job.seconds:.1f} s", state=state, expanded=False)


def wipe(before: np.ndarray, after: np.ndarray, fraction: float) -> np.ndarray:
    """A before/after wipe: the dream left of ``fraction`` of the width, the photo right of it."""
    out = before.copy()
    cut = int(round(fraction * before.shape[1]))
    out[:, :cut] = after[:, :cut]
    if 0 < cut < before.shape[1]:
        out[:, max(cut - 1, 0): cut + 1] = 255  # the dividing line
    return out
