"""A bounded pool of worker threads with a FIFO queue: the long runs of one server process.

Why a pool: a thread per training oversubscribes the CPU as soon as a class presses Train at once
(30 trainings on 2 cores each get 1/15 of a core, and every page's redraw competes with them), so
nobody's model is ready soon. With ``workers`` trainings at a time the first ones finish at full
speed and the rest wait in order, each page showing its place in the queue.

Why threads, not processes: the finished models are shared by every session in memory (one copy,
read-only), torch releases the GIL inside its ops, and a process would have to ship each model
and every progress report back. The GIL contention that remained was Streamlit's own
``gc.collect(2)`` after every script run, switched off in ``.streamlit/config.toml``.

Size: ``$DLE_TRAIN_WORKERS``, else :func:`default_workers` (half the CPU cores, at least 1; 2 on a
GPU). Streamlit-free: the page side (queue position, Stop) is ``ui.jobs``.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable

ENV_VAR = "DLE_TRAIN_WORKERS"


def default_workers(device_type: str = "cpu", cpus: int | None = None) -> int:
    """How many trainings run at once: ``$DLE_TRAIN_WORKERS``, else one per two CPU cores (torch
    uses several threads per training), or 2 on a GPU (one feeds it while the other syncs)."""
    forced = os.environ.get(ENV_VAR, "").strip()
    if forced:
        value = int(forced)  # a typo should fail loudly, not silently serialise a class
        if value < 1:
            raise ValueError(f"{ENV_VAR} must be at least 1, got {value}")
        return value
    if device_type in ("cuda", "mps"):
        return 2
    if cpus is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cpus // 2)


class Task:
    """One queued run: ``fn()`` is called on a worker unless ``cancel`` came first."""

    def __init__(self, fn: Callable[[], None], name: str = ""):
        self.fn = fn
        self.name = name
        self.state = "queued"  # -> "running" -> "done", or "queued" -> "cancelled"


class Scheduler:
    """``workers`` daemon threads taking tasks in FIFO order (started on first use)."""

    def __init__(self, workers: int | None = None):
        self.workers = workers or default_workers()
        self._cond = threading.Condition()
        self._queue: deque[Task] = deque()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._closed = False

    def submit(self, fn: Callable[[], None], name: str = "") -> Task:
        task = Task(fn, name)
        with self._cond:
            if self._closed:
                task.state = "cancelled"
                return task
            self._queue.append(task)
            if len(self._queue) > self._idle and len(self._threads) < self.workers:
                thread = threading.Thread(target=self._work, daemon=True, name=f"train-worker-{len(self._threads)}")
                self._threads.append(thread)
                thread.start()
            self._cond.notify()
        return task

    def position(self, task: Task) -> int:
        """1 for the next task to run, 2 for the one after...; 0 when it is not queued (any more)."""
        with self._cond:
            if task.state != "queued":
                return 0
            for place, queued in enumerate(self._queue, start=1):
                if queued is task:
                    return place
            return 0

    def cancel(self, task: Task) -> bool:
        """Take a queued task out of the queue; False if it already started (stop it otherwise)."""
        with self._cond:
            if task.state != "queued":
                return False
            try:
                self._queue.remove(task)
            except ValueError:
                return False
            task.state = "cancelled"
            return True

    def queued(self) -> int:
        with self._cond:
            return len(self._queue)

    def close(self) -> list[Task]:
        """Refuse new tasks and drop the queued ones (returned, so their owners can be told)."""
        with self._cond:
            self._closed = True
            dropped = list(self._queue)
            self._queue.clear()
            for task in dropped:
                task.state = "cancelled"
            self._cond.notify_all()
        return dropped

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the running tasks to end; True if they all did."""
        deadline = time.monotonic() + timeout
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self._threads)

    def _work(self) -> None:
        while True:
            with self._cond:
                self._idle += 1
                while not self._queue and not self._closed:
                    self._cond.wait()
                self._idle -= 1
                if not self._queue:  # closed and drained
                    return
                task = self._queue.popleft()
                task.state = "running"
            try:
                task.fn()  # the owner catches its own errors (ui.jobs._run); keep the worker alive anyway
            except BaseException:
                pass
            finally:
                task.state = "done"
