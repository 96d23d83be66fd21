"""Background jobs, watched live: a training (one per (topic, Config), shared by the whole app) or any
other long computation that reports through ``on_step`` and returns a result (a session's Deep Dream).

Why in the background: the script run stays free to draw progress, a Stop button works (the
job's ``on_step`` returns True, so the work stops within one step, keeping what it has), and a
second session asking for the same model joins the running training instead of starting it again.
Jobs run on a bounded pool of worker threads (``core.scheduler``, ``$DLE_TRAIN_WORKERS``) and the
rest wait in a FIFO queue: a waiting page shows its place in it, its Stop button takes the job out,
and a queued job whose last watcher moved on leaves the queue. A worker never calls ``st.*``; it
only writes to the ``Job`` object, which the script run polls (and redraws at most twice a second).

Finished models are kept under a memory budget (``$DLE_MODEL_MEMORY_MB``, least recently used
evicted first); an evicted model comes back from the disk cache. On shutdown every job is told to
stop and the queue is dropped, so the server exits promptly without a half-written checkpoint.

What pages use: ``train_live`` (get or start a training and watch it), ``result_or_stop`` (the
finished model, or the page stops with the right message), ``report`` (the same message, without
stopping), ``ready_model`` (a model at hand without training), ``retrain_button`` and
``model_id`` (the stable id that keys every ``st.cache_data`` of a model). Finished models live in
a ``st.cache_resource`` registry (shared by all sessions, read-only, in ``eval()``), and on disk
through ``core.checkpoints.load_or_train``.
"""

from __future__ import annotations

import atexit
import itertools
import os
import signal
import threading
import time
import traceback
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import StopException
from torch import nn

from core.checkpoints import BUNDLED_DIR, cache_dir, config_key, load_or_train
from core.device import get_device
from core.scheduler import Scheduler, Task, default_workers
from core.training import DivergenceError, freeze
from ui.frame import show_error

OnStep = Callable[[int, dict], bool]  # (step, metrics) -> stop now?
Work = Callable[[OnStep], object]  # reports each step through on_step, returns the job's result

STOPPED_EARLY = ("Training was stopped early: showing the model as it was at that moment. "
                 "It is not saved; change any setting and back, or press Retrain, to train again.")
CANCELLED = ("Stopped while it waited in the queue: nothing was trained. "
             "Change any setting and back, or reload the page, to queue it again.")
MEMORY_ENV_VAR = "DLE_MODEL_MEMORY_MB"
DEFAULT_MODEL_MEMORY_MB = 1024
REDRAW_SECONDS = 0.5  # the live view redraws at most twice a second, and only when something changed
CHART_POINTS = 300  # the live loss chart is drawn from at most this many (evenly spaced) steps
SHUTDOWN_GRACE_S = 5.0  # on exit, how long running jobs get to notice their stop and return


# --- the job ---------------------------------------------------------------------------------------


@dataclass(eq=False)
class Job:
    topic: str
    cfg: object
    input: str = ""  # what the work runs on besides its Config (the dream's image digest)
    history: list[dict[str, float]] = field(default_factory=list)
    latest: dict[str, object] = field(default_factory=dict)  # last on_step metrics, previews included
    stop_event: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    result: object = None  # what the work returned: the model, for a training
    source: str = ""  # where a training's model came from: "trained", "disk cache" or "bundled"
    stopped: bool = False
    abandoned: bool = False  # stopped because its session moved on to other settings: discard
    watchers: set = field(default_factory=set)  # tokens of the sessions whose page waits for it
    error: BaseException | None = None
    started: float = field(default_factory=time.perf_counter)  # reset when a worker picks it up
    finished: float | None = None
    cancelled: bool = False  # stopped while queued: it never ran
    task: Task | None = None  # its place in the scheduler's queue
    scheduler: Scheduler | None = None
    on_done: Callable[[Job], None] | None = None  # the registry's memory accounting
    model_bytes: int = 0  # parameter + buffer bytes of the finished model
    last_used: int = 0  # LRU clock tick of its last request

    @property
    def queue_position(self) -> int:
        """1 = next to run, 2 = the one after...; 0 once running or done."""
        if self.task is None or self.scheduler is None or self.done.is_set():
            return 0
        return self.scheduler.position(self.task)

    def stop(self) -> None:
        """Stop the work within one step; a job still in the queue leaves it and never runs."""
        self.stop_event.set()
        if self.task is not None and self.scheduler is not None and self.scheduler.cancel(self.task):
            _finish_cancelled(self)

    @property
    def model(self):
        """A training's model (None until it has finished without an error)."""
        return self.result

    @property
    def ok(self) -> bool:
        """Finished, without an error, with a result to show (possibly stopped early)."""
        return self.done.is_set() and self.error is None and self.result is not None

    @property
    def seconds(self) -> float:
        return (self.finished or time.perf_counter()) - self.started

    def on_step(self, step: int, metrics: dict) -> bool:
        """The work's progress report: kept for the live view; True asks the work to stop."""
        self.history.append({k: v for k, v in metrics.items() if isinstance(v, float)})
        self.latest = metrics
        return self.stop_event.is_set()


def start(topic: str, cfg, work: Work, *, input: str = "", scheduler: Scheduler | None = None) -> Job:
    """Queue ``work(on_step)`` as a new job on the shared worker pool; watch it with ``watch``."""
    job = Job(topic, cfg, input=input)
    _launch(job, work, scheduler or shared_scheduler())
    return job


def _launch(job: Job, work: Work, scheduler: Scheduler) -> None:
    job.scheduler = scheduler
    _live_jobs.add(job)
    job.task = scheduler.submit(lambda: _run(job, work), name=f"job-{job.topic}")
    if job.task.state == "cancelled":  # the scheduler is shutting down
        _finish_cancelled(job)


def _run(job: Job, work: Work) -> None:
    # A stop that came as the job left the queue (or a bare ``stop_event.set()``) still runs it
    # for one step: the work returns what it has, as a stop mid-way would.
    job.started = time.perf_counter()  # the time in the queue is not the job's
    try:
        job.result = work(job.on_step)
        job.stopped = job.stop_event.is_set()
    except BaseException as exc:  # reported to the page; the worker must not die silently
        job.error = exc
        if not isinstance(exc, (DivergenceError, ValueError)):
            traceback.print_exc()
    finally:
        _finish(job)


def _finish_cancelled(job: Job) -> None:
    job.cancelled = job.stopped = True
    job.started = time.perf_counter()
    _finish(job)


def _finish(job: Job) -> None:
    if job.done.is_set():
        return
    job.finished = time.perf_counter()
    job.done.set()
    if job.on_done is not None:
        job.on_done(job)


# --- the worker pool, and a prompt exit --------------------------------------------------------------

_live_jobs: weakref.WeakSet[Job] = weakref.WeakSet()  # every job not yet collected, for the shutdown
_scheduler: Scheduler | None = None
_scheduler_lock = threading.Lock()


def shared_scheduler() -> Scheduler:
    """The process-wide worker pool (``$DLE_TRAIN_WORKERS``, else from the CPU count and device),
    created on first use; its shutdown hook is registered with it."""
    global _scheduler
    with _scheduler_lock:
        if _scheduler is None:
            _scheduler = Scheduler(default_workers(get_device().type))
            # threading's own exit hooks run before the interpreter joins threads (and before the
            # thread pools' hooks, which are registered earlier and run in reverse order)
            register = getattr(threading, "_register_atexit", None)
            (register or atexit.register)(shutdown)
        return _scheduler


def _hook_signals() -> None:
    """Stop every job as soon as SIGTERM/SIGINT arrives, not at exit: the server first waits for
    its open requests, and those wait for the pages, which wait for their trainings. Signal
    handlers can only be set on the main thread, which runs Streamlit's event loop: the handler is
    chained there (before Streamlit's own, which it then calls). Outside ``streamlit run`` (tests,
    scripts) there is no loop and only the exit hook remains. Called once, when this module is
    first imported (a page's first run), so a SIGTERM during the first trainings is caught too."""
    try:
        from streamlit import runtime

        loop = runtime.get_instance()._get_async_objs().eventloop if runtime.exists() else None
    except Exception:  # a private attribute: without it, the exit hook still stops the jobs
        loop = None
    if loop is not None and not loop.is_closed():
        loop.call_soon_threadsafe(_chain_signal_handlers)


def _chain_signal_handlers() -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(signum)
        if getattr(previous, "stops_jobs", False):
            continue  # already chained

        def handler(number, frame, previous=previous):
            stop_all()
            if callable(previous):
                previous(number, frame)
            elif previous == signal.SIG_DFL:
                raise SystemExit(128 + number)

        handler.stops_jobs = True
        signal.signal(signum, handler)


def stop_all() -> None:
    """Drop the queue (its jobs end as cancelled) and ask every running job to stop; no waiting."""
    if _scheduler is None:
        return
    for job in list(_live_jobs):
        job.stop_event.set()
    for task in _scheduler.close():
        for job in list(_live_jobs):
            if job.task is task:
                _finish_cancelled(job)


def shutdown(grace_s: float = SHUTDOWN_GRACE_S) -> None:
    """``stop_all``, then give running jobs ``grace_s`` to return: a stopped training is not
    saved, and a checkpoint write in progress finishes (it is atomic anyway)."""
    if _scheduler is None:
        return
    stop_all()
    _scheduler.join(grace_s)


def model_bytes(model) -> int:
    """Parameter and buffer bytes of a model (0 for results that are not modules)."""
    if not isinstance(model, nn.Module):
        return 0
    tensors = itertools.chain(model.parameters(), model.buffers())
    return sum(t.numel() * t.element_size() for t in tensors)


def memory_budget_bytes() -> int:
    return int(float(os.environ.get(MEMORY_ENV_VAR) or DEFAULT_MODEL_MEMORY_MB) * 2**20)


def _training(job: Job, module: ModuleType, persist: bool, use_bundled: bool) -> Work:
    """The work of a training job: ``module.train`` (through the checkpoint cache unless not
    ``persist``), returning the frozen model; the job gets the full history and the source."""
    def work(on_step: OnStep):
        if persist:
            model, history, job.source = load_or_train(job.cfg, module.build_model, module.train, on_step=on_step,
                                                       device=get_device(), use_bundled=use_bundled)
        else:
            model, history = module.train(job.cfg, on_step=on_step)
            job.source = "trained"
            freeze(model)
        job.history = list(history) or job.history  # a checkpoint brings its own history
        return model

    return work


# --- the registry of trainings ---------------------------------------------------------------------


class JobRegistry:
    """All training jobs of this server process, by (topic, Config), run on ``scheduler``'s pool;
    finished models kept within ``budget_bytes`` (least recently asked for evicted first)."""

    def __init__(self, scheduler: Scheduler | None = None, budget_bytes: int | None = None):
        self.lock = threading.Lock()
        self.jobs: dict[tuple[str, object], Job] = {}
        self.fresh: set[tuple[str, object]] = set()  # retrained on request: skip shipped checkpoints
        self.scheduler = scheduler or Scheduler(default_workers(get_device().type))
        self.budget_bytes = memory_budget_bytes() if budget_bytes is None else budget_bytes
        self.evictions = 0
        self._clock = itertools.count(1)

    def get_or_start(self, module: ModuleType, cfg, *, persist: bool = True, watcher: str | None = None,
                     current: Job | None = None) -> Job:
        """The job for ``cfg``: the running or finished one, else a new one in the queue.
        ``current``: the job this session already shows (kept even if it was cancelled)."""
        key = (module.__name__, cfg)
        with self.lock:
            job = self.jobs.get(key)
            # Kept: running and queued jobs, finished ones, stopped ones (the user chose that model),
            # divergences (deterministic: same Config, same NaN) and a cancelled one for the session
            # that cancelled it. Replaced: other failures, jobs abandoned because their session
            # changed settings, and cancelled ones asked for again.
            replace = job is not None and job.done.is_set() and (
                job.abandoned or (job.cancelled and job is not current)
                or (job.error is not None and not isinstance(job.error, DivergenceError)))
            if job is not None and not replace:
                if watcher is not None:
                    job.watchers.add(watcher)
                job.last_used = next(self._clock)
                return job
            job = Job(module.__name__, cfg, on_done=self._finished, last_used=next(self._clock))
            if watcher is not None:
                job.watchers.add(watcher)
            self.jobs[key] = job
        _launch(job, _training(job, module, persist, use_bundled=key not in self.fresh), self.scheduler)
        return job

    def find(self, module: ModuleType, cfg) -> Job | None:
        with self.lock:
            job = self.jobs.get((module.__name__, cfg))
            if job is not None:
                job.last_used = next(self._clock)
            return job

    def held_bytes(self) -> int:
        """Parameter and buffer bytes of the finished models this registry keeps."""
        with self.lock:
            return sum(job.model_bytes for job in self.jobs.values())

    def _finished(self, job: Job) -> None:
        """A job ended: count its model, then evict the least recently used finished models
        until the rest fit the budget (the job itself last: a model bigger than the budget is
        still shown to the session that waits for it, then dropped)."""
        job.model_bytes = model_bytes(job.result)
        with self.lock:
            held = sum(j.model_bytes for j in self.jobs.values())
            if held <= self.budget_bytes:
                return
            finished = sorted((j for j in self.jobs.values() if j.done.is_set() and j.model_bytes),
                              key=lambda j: (j is job, j.last_used))
            for old in finished:
                if held <= self.budget_bytes:
                    break
                self.jobs.pop((old.topic, old.cfg), None)
                held -= old.model_bytes
                self.evictions += 1

    def release(self, job: Job, watcher: str) -> None:
        """A session stops waiting for ``job`` (it moved on to other settings). The job is stopped
        and marked abandoned only if no other session still waits for it: one user's slider must
        not cut short the model another user is waiting for."""
        with self.lock:
            job.watchers.discard(watcher)
            unwatched = not job.done.is_set() and not job.watchers
            if unwatched:
                job.abandoned = True
        if unwatched:
            job.stop()  # a queued job leaves the queue and never runs

    def forget(self, module: ModuleType, cfg, *, fresh: bool = False) -> None:
        """Drop the in-memory job; ``fresh=True`` also skips a shipped checkpoint next time."""
        with self.lock:
            self.jobs.pop((module.__name__, cfg), None)
            if fresh:
                self.fresh.add((module.__name__, cfg))


@st.cache_resource(show_spinner=False)
def registry() -> JobRegistry:
    return JobRegistry(shared_scheduler())


# --- watching a job --------------------------------------------------------------------------------


def watch(
    job: Job,
    *,
    label: str,
    key: str,
    stop_help: str = "Stop training and keep the model as it is now",
    chart_keys: tuple[str, ...] = (),
    render_preview: Callable[[dict], None] | None = None,
    progress_text: Callable[[dict], str] | None = None,
    outcome: Callable[[Job], str] | None = None,
    clear_preview: bool = False,
    poll_seconds: float = 0.25,
) -> None:
    """Live progress of a running job, until it is done: a status box with a Stop button, a
    progress bar (``progress_text(latest)`` as its text, or the job's place in the queue), the
    curves of ``chart_keys`` and ``render_preview(latest)``; then the box collapses to
    ``outcome(job)``. Nothing if already done.

    Cheap for a class watching at once: it polls every ``poll_seconds`` but redraws at most every
    ``REDRAW_SECONDS`` and only when the job moved (new steps, new preview, new queue place), and
    the chart is a plain Vega-Lite spec over at most ``CHART_POINTS`` steps (no altair per draw).
    """
    if job.done.is_set():
        return
    progress_text = progress_text or (lambda latest: _steps_text(latest, chart_keys))
    box = st.status(f"{label}…", expanded=True)
    with box:
        stop_col, text_col = st.columns([1, 4])
        if stop_col.button("Stop", icon=":material/stop_circle:", key=f"{key}_stop", help=stop_help):
            job.stop()
        progress = text_col.progress(0.0, text=progress_text({}) or None)
        chart = st.empty()
        preview = st.empty()
        # Draw only what changed: a preview drawn twice for the same metrics in one run would
        # repeat its element keys (pages key live charts by step) -> StreamlitDuplicateElementKey.
        shown, shown_latest, shown_place, drawn_at = -1, None, -1, 0.0
        while True:
            finished = job.done.wait(poll_seconds)
            place = job.queue_position
            moved = len(job.history) != shown or job.latest is not shown_latest or place != shown_place
            if finished and job.cancelled:
                where = f" (it was {ordinal(shown_place)} in the queue)" if shown_place > 0 else ""
                progress.progress(0.0, text=f"Stopped before it started{where}")
            elif moved and (finished or time.perf_counter() - drawn_at >= REDRAW_SECONDS):
                fresh = job.latest is not shown_latest
                shown, shown_latest, shown_place = len(job.history), job.latest, place
                drawn_at = time.perf_counter()
                if place:
                    progress.progress(0.0, text=f"Waiting for a free trainer: {ordinal(place)} in the queue")
                else:
                    _draw_progress(job, progress, progress_text, chart, chart_keys)
                if fresh and render_preview is not None and shown_latest:
                    with preview.container():
                        render_preview(shown_latest)
            if finished:
                break
        if clear_preview:
            preview.empty()
    box.update(label=(outcome or _training_outcome(label))(job), state="error" if job.error else "complete",
               expanded=False)


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th... 11th, 12th, 13th, 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _steps_text(latest: dict, chart_keys: tuple[str, ...]) -> str:
    if not latest.get("total_steps"):
        return ""
    text = f"step {int(latest.get('step', 0))} / {int(latest['total_steps'])}"
    for name in chart_keys:
        if isinstance(latest.get(name), float):
            text += f" · {name} {latest[name]:.4g}"
    return text


def _draw_progress(job: Job, progress, progress_text, chart, chart_keys) -> None:
    latest = job.latest
    total = float(latest.get("total_steps", 0) or 0)
    if total:
        progress.progress(min(float(latest.get("step", 0) or 0) / total, 1.0), text=progress_text(latest))
    elif not latest:
        progress.progress(0.0, text="Starting…")
    if chart_keys:
        frame = history_frame(downsample(job.history, CHART_POINTS), chart_keys)
        if not frame.empty:
            chart.vega_lite_chart(_long(frame), _LINE_SPEC, width="stretch")


# A line per metric over the step: what st.line_chart draws, without building an altair chart per
# redraw (~50 ms each here, against ~3 ms for this spec).
_LINE_SPEC = {
    "height": 220,
    "mark": {"type": "line", "tooltip": True},
    "encoding": {
        "x": {"field": "step", "type": "quantitative", "title": "step"},
        "y": {"field": "value", "type": "quantitative", "title": None},
        "color": {"field": "metric", "type": "nominal", "title": None, "legend": {"orient": "bottom"}},
    },
}


def _long(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.reset_index().melt("step", var_name="metric", value_name="value").dropna()


def downsample(history: list[dict[str, float]], points: int) -> list[dict[str, float]]:
    """At most ``points`` evenly spaced records of ``history`` (first and last kept), copied out
    of the list the worker keeps appending to."""
    n = len(history)
    if n <= points:
        return list(history[:n])
    stride = (n - 1) / (points - 1)
    return [history[round(i * stride)] for i in range(points)]


def _training_outcome(label: str) -> Callable[[Job], str]:
    def outcome(job: Job) -> str:
        if job.error is None and job.source in ("disk cache", "bundled"):
            return f"{label}: loaded from the {job.source} checkpoint in {job.seconds:.1f} s"
        what = "failed" if job.error else "stopped early" if job.stopped else "done"
        return f"{label}: {what} in {job.seconds:.1f} s"

    return outcome


def history_frame(history: list[dict[str, float]], keys: tuple[str, ...]) -> pd.DataFrame:
    """The chosen metric columns of a history, indexed by step (missing columns skipped)."""
    frame = pd.DataFrame(history)
    if frame.empty or "step" not in frame:
        return pd.DataFrame()
    cols = [k for k in keys if k in frame]
    return frame.set_index("step")[cols]


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
    button. Returns the finished job: pass it to ``result_or_stop`` (or ``report``).
    """
    token = st.session_state.setdefault("_job_session_token", uuid.uuid4().hex)
    watching_key = f"_job_watch_{key}"
    previous = st.session_state.get(watching_key)
    job = registry().get_or_start(module, cfg, persist=persist, watcher=token, current=previous)
    # a session that changes its settings mid-training stops the job it had been watching,
    # unless another session is waiting for the same model
    if previous is not None and previous is not job:
        registry().release(previous, token)
    st.session_state[watching_key] = job
    try:
        watch(job, label=label, key=key, chart_keys=chart_keys, render_preview=render_preview,
              poll_seconds=poll_seconds)
    except StopException:
        # the session closed (or the server is stopping): this page no longer waits for the job
        registry().release(job, token)
        raise
    return job


# --- the outcome, in the page ----------------------------------------------------------------------


def report(job: Job, *, failed: str = "Training failed", stopped: str = STOPPED_EARLY) -> bool:
    """Say how a finished job ended when that needs words: a failure in an error box, an early
    stop in a warning. True when its result can be shown."""
    if job.error is not None:
        if isinstance(job.error, DivergenceError):
            show_error(job.error, "The training diverged", icon=":material/error:")
        else:  # our own refusals (ValueError) speak for themselves; anything else also gives its type
            detail = job.error if isinstance(job.error, ValueError) else f"{type(job.error).__name__}: {job.error}"
            show_error(detail, failed)
        return False
    if job.cancelled:
        st.warning(CANCELLED)
        return False
    if job.stopped:
        st.warning(stopped)
    return job.ok


def result_or_stop(job: Job, *, failed: str = "Training failed", stopped: str = STOPPED_EARLY,
                   on_failure: Callable[[], None] | None = None):
    """The finished job's result (a training's model), or the page stops here with the message
    (after ``on_failure()``, e.g. to still show the data)."""
    if report(job, failed=failed, stopped=stopped):
        return job.result
    if on_failure is not None:
        on_failure()
    st.stop()


# --- models without a training ---------------------------------------------------------------------


def has_checkpoint(cfg) -> bool:
    """A checkpoint for ``cfg`` is on disk or shipped with the app (loading it takes a moment)."""
    name = f"{config_key(cfg)}.pt"
    return (cache_dir() / name).is_file() or (BUNDLED_DIR / name).is_file()


def ready_model(module: ModuleType, cfg, *, key: str):
    """``cfg``'s model if it is at hand without training: finished in this server (and not stopped
    early), or in a checkpoint, which is loaded under a short "Loading" status. Else None."""
    job = registry().find(module, cfg)
    if job is not None:
        return job.result if job.ok and not job.stopped else None
    if not has_checkpoint(cfg):
        return None
    job = train_live(module, cfg, label="Loading", key=key)
    return job.result if report(job) else None


def retrain(module: ModuleType, cfg) -> None:
    """Forget ``cfg``'s model in memory and on disk, so the next run trains it again from scratch
    (skipping a shipped checkpoint too)."""
    registry().forget(module, cfg, fresh=True)
    (cache_dir() / f"{config_key(cfg)}.pt").unlink(missing_ok=True)


def retrain_button(module: ModuleType, cfg, key: str) -> None:
    if st.button("Retrain", icon=":material/refresh:", key=key, help="Train this configuration again from scratch"):
        retrain(module, cfg)
        st.rerun()


# --- a stable id per model instance ----------------------------------------------------------------

_ids: dict[int, str] = {}
_ids_lock = threading.Lock()


def model_id(model) -> str:
    """This model instance's id, for ``st.cache_data`` keys (pass the model itself as ``_model``).

    The same for as long as the instance lives, and never given to another one: unlike ``id()``,
    which a later object can reuse, or a Config, which a stopped and a retrained model share.
    """
    with _ids_lock:
        found = _ids.get(id(model))
        if found is None:
            found = _ids[id(model)] = uuid.uuid4().hex
            weakref.finalize(model, _ids.pop, id(model), None)  # no lock: runs inside the GC
        return found


_hook_signals()
