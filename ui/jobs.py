"""Training that the whole app shares: one background job per (topic, Config), watched live.

Why a thread: the script run stays free to draw progress, a Stop button works (it stops the job
gracefully within one step, keeping what was learnt), and a second session asking for the same
model joins the running job instead of training it again. The thread never calls ``st.*``; it
only writes to the ``Job`` object, which the script run polls.

Finished models live in a ``st.cache_resource`` registry (shared by all sessions, read-only, in
``eval()``), and on disk through ``core.checkpoints.load_or_train``.
"""

from __future__ import annotations

import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType

import pandas as pd
import streamlit as st

from core.checkpoints import load_or_train
from core.device import get_device
from core.training import DivergenceError


@dataclass
class Job:
    topic: str
    cfg: object
    history: list[dict[str, float]] = field(default_factory=list)
    latest: dict[str, object] = field(default_factory=dict)  # last on_step metrics, previews included
    stop_event: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    model: object = None
    source: str = ""
    stopped: bool = False
    abandoned: bool = False  # stopped because its session moved on to other settings: discard
    watchers: set = field(default_factory=set)  # tokens of the sessions whose page waits for it
    error: BaseException | None = None
    started: float = field(default_factory=time.perf_counter)
    finished: float | None = None

    @property
    def seconds(self) -> float:
        return (self.finished or time.perf_counter()) - self.started


class JobRegistry:
    """All jobs of this server process, by (topic, Config)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.jobs: dict[tuple[str, object], Job] = {}
        self.fresh: set[tuple[str, object]] = set()  # retrained on request: skip shipped checkpoints

    def get_or_start(self, module: ModuleType, cfg, *, persist: bool = True, watcher: str | None = None) -> Job:
        key = (module.__name__, cfg)
        with self.lock:
            job = self.jobs.get(key)
            # Kept: running jobs, finished ones, stopped ones (the user chose that model) and
            # divergences (deterministic: same Config, same NaN). Replaced: other failures and jobs
            # abandoned mid-way because their session changed settings.
            replace = job is not None and job.done.is_set() and (
                job.abandoned or (job.error is not None and not isinstance(job.error, DivergenceError)))
            if job is not None and not replace:
                if watcher is not None:
                    job.watchers.add(watcher)
                return job
            job = Job(module.__name__, cfg)
            if watcher is not None:
                job.watchers.add(watcher)
            self.jobs[key] = job
        use_bundled = key not in self.fresh
        threading.Thread(target=_run, args=(job, module, persist, use_bundled), daemon=True,
                         name=f"train-{module.__name__}").start()
        return job

    def release(self, job: Job, watcher: str) -> None:
        """A session stops waiting for ``job`` (it moved on to other settings). The job is stopped
        and marked abandoned only if no other session still waits for it: one user's slider must
        not cut short the model another user is waiting for."""
        with self.lock:
            job.watchers.discard(watcher)
            if not job.done.is_set() and not job.watchers:
                job.abandoned = True
                job.stop_event.set()

    def forget(self, module: ModuleType, cfg, *, fresh: bool = False) -> None:
        """Drop the in-memory job; ``fresh=True`` also skips a shipped checkpoint next time."""
        with self.lock:
            self.jobs.pop((module.__name__, cfg), None)
            if fresh:
                self.fresh.add((module.__name__, cfg))


def _run(job: Job, module: ModuleType, persist: bool, use_bundled: bool = True) -> None:
    def on_step(step: int, metrics: dict) -> bool:
        job.history.append({k: v for k, v in metrics.items() if isinstance(v, float)})
        job.latest = metrics
        return job.stop_event.is_set()

    try:
        device = get_device()
        if persist:
            model, history, source = load_or_train(job.cfg, module.build_model, module.train,
                                                   on_step=on_step, device=device, use_bundled=use_bundled)
        else:
            model, history = module.train(job.cfg, on_step=on_step)
            source = "trained"
            from core.training import freeze
            freeze(model)
        job.model, job.source = model, source
        job.history = list(history) or job.history
        job.stopped = job.stop_event.is_set()
    except BaseException as exc:  # reported to the page; the thread must not die silently
        job.error = exc
        if not isinstance(exc, (DivergenceError, ValueError)):
            traceback.print_exc()
    finally:
        job.finished = time.perf_counter()
        job.done.set()


@st.cache_resource(show_spinner=False)
def registry() -> JobRegistry:
    return JobRegistry()


def train_live(
    module: ModuleType,
    cfg,
    *,
    label: str = "Training",
    chart_keys: tuple[str, ...] = ("loss",),
    render_preview: Callable[[dict], None] | None = None,
    poll_seconds: float = 0.25,
    persist: bool = True,
    key: str = "train",
) -> Job:
    """Get the trained model for ``cfg``, training it (once, app-wide) with live progress.

    While the job runs, this draws a progress bar, the loss curves of ``chart_keys`` and
    ``render_preview(latest_metrics)`` (e.g. the current fit line or a sample grid), and a Stop
    button. Returns the finished job; check ``job.error`` (shown already) and ``job.stopped``.
    """
    token = st.session_state.setdefault("_job_session_token", uuid.uuid4().hex)
    job = registry().get_or_start(module, cfg, persist=persist, watcher=token)
    # a session that changes its settings mid-training stops the job it had been watching,
    # unless another session is waiting for the same model
    watching_key = f"_job_watch_{key}"
    previous = st.session_state.get(watching_key)
    if previous is not None and previous is not job:
        registry().release(previous, token)
    st.session_state[watching_key] = job

    if not job.done.is_set():
        box = st.status(f"{label}…", expanded=True)
        with box:
            stop_col, text_col = st.columns([1, 4])
            if stop_col.button("Stop", icon=":material/stop_circle:", key=f"{key}_stop", help="Stop training and keep the model as it is now"):
                job.stop_event.set()
            progress = text_col.progress(0.0)
            chart = st.empty()
            preview = st.empty()
            # Draw only what changed: a preview drawn twice for the same metrics in one run would
            # repeat its element keys (pages key live charts by step) -> StreamlitDuplicateElementKey.
            shown, shown_latest = -1, None
            while True:
                finished = job.done.wait(poll_seconds)
                if len(job.history) != shown or job.latest is not shown_latest:
                    fresh = job.latest is not shown_latest
                    shown, shown_latest = len(job.history), job.latest
                    _draw_progress(job, progress, chart, preview, chart_keys, render_preview if fresh else None)
                if finished:
                    break
        state = "error" if job.error else "complete"
        if job.error is None and job.source in ("disk cache", "bundled"):
            outcome = f"loaded from the {job.source} checkpoint in {job.seconds:.1f} s"
        else:
            outcome = f"{'failed' if job.error else 'stopped early' if job.stopped else 'done'} in {job.seconds:.1f} s"
        box.update(label=f"{label}: {outcome}", state=state, expanded=False)
    if job.error is not None:
        if isinstance(job.error, DivergenceError):
            st.error(f"**The training diverged.** {job.error}", icon=":material/error:")
        else:
            st.error(f"**Training failed.** {type(job.error).__name__}: {job.error}", icon=":material/warning:")
    elif job.stopped:
        st.warning("Training was stopped early: showing the model as it was at that moment. "
                   "It is not saved; change any setting and back, or press Retrain, to train again.")
    return job


def _draw_progress(job: Job, progress, chart, preview, chart_keys, render_preview) -> None:
    latest = job.latest
    total = float(latest.get("total_steps", 0) or 0)
    step = float(latest.get("step", 0) or 0)
    if total:
        text = f"step {int(step)} / {int(total)}"
        for name in chart_keys:
            if isinstance(latest.get(name), float):
                text += f" · {name} {latest[name]:.4g}"
        progress.progress(min(step / total, 1.0), text=text)
    frame = history_frame(list(job.history), chart_keys)  # a copy: the thread keeps appending
    if not frame.empty:
        chart.line_chart(frame, height=220)
    if render_preview is not None and latest:
        with preview.container():
            render_preview(latest)


def history_frame(history: list[dict[str, float]], keys: tuple[str, ...]) -> pd.DataFrame:
    """The chosen metric columns of a history, indexed by step (missing columns skipped)."""
    frame = pd.DataFrame(history)
    if frame.empty or "step" not in frame:
        return pd.DataFrame()
    cols = [k for k in keys if k in frame]
    return frame.set_index("step")[cols]


def retrain_button(module: ModuleType, cfg, key: str = "retrain") -> None:
    """Forget the in-memory model for ``cfg`` so the next run trains again (disk cache kept)."""
    if st.button("Retrain", icon=":material/refresh:", key=key, help="Train this configuration again from scratch"):
        registry().forget(module, cfg, fresh=True)  # really train, even where a checkpoint is shipped
        from core.checkpoints import cache_dir, config_key

        (cache_dir() / f"{config_key(cfg)}.pt").unlink(missing_ok=True)
        st.rerun()
