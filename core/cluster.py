"""Trainings on a Dask cluster: several app replicas share one pool of workers (``$DLE_SCHEDULER``).

With ``DLE_SCHEDULER=tcp://host:8786`` every training of ``ui.jobs`` runs as a task on that
``dask scheduler``'s workers instead of this process: :func:`train_remote` (app side) submits
:func:`remote_train` (worker side), forwards its progress to the job's ``on_step`` and turns a Stop
into a ``distributed.Event`` the worker checks. The worker runs exactly what the in-process job
runs, ``core.checkpoints.load_or_train`` on ``core.device.get_device()`` (a GPU worker picks CUDA
by itself), so with ``DLE_CACHE_DIR`` on shared storage every replica and worker sees one
checkpoint store. Only plain values cross the wire: the topic's name, its frozen Config, numeric
metrics, and back a CPU ``state_dict`` + history, which the app rebuilds with ``build_model``.

Why Dask, not Ray: a pure-Python wheel whose futures and Queue/Event primitives fit progress and
Stop directly, with no daemon beyond ``dask scheduler`` / ``dask worker``; Ray is a much heavier
runtime (its own object store, raylet and GCS) for what is here one function call per training.

Unset (the default), nothing here runs and ``distributed`` is never imported: the app trains in
its own worker threads (``core.scheduler``). Streamlit-free.
"""

from __future__ import annotations

import importlib
import os
import threading
import time
import uuid
from collections.abc import Callable

ENV_VAR = "DLE_SCHEDULER"
REPORT_SECONDS = 0.1  # the worker sends progress, and checks for Stop, at most this often
POLL_SECONDS = 0.1  # the app side reads the progress, the future and its Stop this often
APP_SLOTS = 256  # app-side threads that only wait on remote trainings (the cluster bounds the work)

OnStep = Callable[[int, dict], object]


class Cancelled(Exception):
    """A remote training stopped before any worker started it: nothing was trained."""


def address() -> str:
    """``$DLE_SCHEDULER`` (e.g. ``tcp://host:8786``), or "" for in-process training."""
    return os.environ.get(ENV_VAR, "").strip()


def enabled() -> bool:
    return bool(address())


_clients: dict[str, object] = {}
_clients_lock = threading.Lock()


def client():
    """One ``distributed.Client`` per scheduler address for this process, connected on first use."""
    from distributed import Client  # only here: the default set-up never imports distributed

    where = address()
    with _clients_lock:
        found = _clients.get(where)
        if found is None or found.status not in ("running", "connecting"):
            found = _clients[where] = Client(where, set_as_default=False, timeout=30)
        return found


def close_clients() -> None:
    with _clients_lock:
        for found in _clients.values():
            found.close()
        _clients.clear()


# --- on the worker ---------------------------------------------------------------------------------


def remote_train(topic: str, cfg, queue_name: str, stop_name: str, *, persist: bool = True,
                 use_bundled: bool = True) -> dict:
    """Runs on a Dask worker: the training ``ui.jobs`` would run in-process (through the shared
    checkpoint cache unless not ``persist``), reporting numeric progress to the Queue
    ``queue_name`` (first step, then every ``REPORT_SECONDS``, and the last step) and stopping
    when the Event ``stop_name`` is set. Returns plain values: a CPU state_dict, history, source."""
    from distributed import Event, Queue

    from core.checkpoints import load_or_train
    from core.device import get_device

    module = importlib.import_module(topic)
    queue, stop = Queue(queue_name), Event(stop_name)
    queue.put((0, {}))  # "started": from now on a Stop must stop the training, not cancel the task
    sent = [0.0]

    def on_step(step: int, metrics: dict) -> bool:
        now = time.monotonic()
        last = step == metrics.get("total_steps")
        if step > 1 and not last and now - sent[0] < REPORT_SECONDS:
            return False
        sent[0] = now
        numbers = {k: float(v) for k, v in metrics.items()
                   if isinstance(v, int | float) and not isinstance(v, bool)}  # previews stay here
        queue.put((int(step), numbers))
        return stop.is_set()

    try:
        if persist:
            model, history, source = load_or_train(cfg, module.build_model, module.train, on_step=on_step,
                                                   device=get_device(), use_bundled=use_bundled)
        else:
            model, history = module.train(cfg, on_step=on_step)
            source = "trained"
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        return {"state_dict": state, "history": list(history), "source": source,
                "stopped": bool(stop.is_set())}
    finally:
        queue.close()


# --- in the app ------------------------------------------------------------------------------------


def train_remote(module, cfg, on_step: OnStep, *, persist: bool = True, use_bundled: bool = True,
                 should_stop: Callable[[], bool] = lambda: False):
    """Train ``cfg`` of topic ``module`` on the cluster, blocking the calling thread (an app-side
    job thread) until it ends: each progress report goes to ``on_step``; when ``on_step`` returns
    truthy or ``should_stop()`` (a Stop while the task still waits on the cluster) the worker is
    told to stop, and a task not started yet is cancelled. Returns ``(model, history, source)``
    like ``load_or_train``: the model rebuilt here with ``build_model``, on ``get_device()``,
    frozen. A worker's exception (a DivergenceError...) is raised here."""
    from distributed import Event, Queue

    from core.device import get_device
    from core.training import freeze

    dask = client()
    tag = uuid.uuid4().hex
    queue, stop = Queue(f"dle-progress-{tag}", client=dask), Event(f"dle-stop-{tag}", client=dask)
    future = dask.submit(remote_train, module.__name__, cfg, queue.name, stop.name, persist=persist,
                         use_bundled=use_bundled, key=f"train-{module.__name__}-{tag}", pure=False)
    stopping = started = False

    def forward(report) -> None:
        nonlocal stopping, started
        step, metrics = report
        started = True
        if step and on_step(step, metrics) and not stopping:
            stopping = True
            stop.set()

    try:
        # Non-blocking reads every POLL_SECONDS: a get(timeout=) that times out logs a traceback
        # on the scheduler each time.
        while not future.done():
            for report in queue.get(batch=True):
                forward(report)
            if should_stop() and not stopping:
                stopping = True
                stop.set()  # a running training stops within REPORT_SECONDS and returns what it has
                if not started:  # still waiting for a worker: it leaves the cluster's queue
                    future.cancel()
            time.sleep(POLL_SECONDS)
        for report in queue.get(batch=True) if future.status == "finished" else ():
            forward(report)
        if future.cancelled():
            raise Cancelled("stopped while it waited for a cluster worker")
        payload = future.result()
    finally:
        queue.close()
        stop.clear()  # with no waiters, this also deletes the Event on the scheduler
    model = module.build_model(cfg)
    model.load_state_dict(payload["state_dict"])
    return freeze(model.to(get_device())), payload["history"], payload["source"]
