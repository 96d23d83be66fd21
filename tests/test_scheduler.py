"""A whole class on one server: trainings wait in a bounded FIFO pool, a queued job can be stopped or
dropped, identical Configs share one job, finished models stay within a memory budget (evicted ones
come back from the disk cache), and the live view says where a waiting page stands in the queue.
"""

from __future__ import annotations

import ctypes
import gc
import sys
import threading
import time
import types
from dataclasses import dataclass

import pytest
import torch
from torch import nn

from core import checkpoints, regression
from core.scheduler import Scheduler, default_workers

# --- a dummy topic: train() waits on a per-seed gate the test opens --------------------------------


@dataclass(frozen=True)
class Config:
    seed: int = 0
    steps: int = 5
    width: int = 4  # nn.Linear(width, width): the model's size, for the memory budget
    version: int = 1


class GatedTopic(types.ModuleType):
    def __init__(self, name: str = "dle_gated_topic"):
        super().__init__(name)
        self.Config = Config
        self.ran: list[int] = []  # seeds, in the order their training started
        self.gates: dict[int, threading.Event] = {}
        self.lock = threading.Lock()
        self.step_seconds = 0.0

    def gate(self, seed: int) -> threading.Event:
        with self.lock:
            return self.gates.setdefault(seed, threading.Event())

    def build_model(self, cfg):
        torch.manual_seed(cfg.seed)
        return nn.Linear(cfg.width, cfg.width)

    def train(self, cfg, *, on_step=None):
        self.ran.append(cfg.seed)
        model = self.build_model(cfg)
        assert self.gate(cfg.seed).wait(30), "the test never opened this training's gate"
        history = []
        for step in range(1, cfg.steps + 1):
            time.sleep(self.step_seconds)
            record = {"step": float(step), "loss": 1.0 / step}
            history.append(record)
            if on_step is not None and on_step(step, {**record, "total_steps": float(cfg.steps)}):
                break
        return model, history


@pytest.fixture
def topic(tmp_path, monkeypatch):
    monkeypatch.setenv(checkpoints.ENV_VAR, str(tmp_path / "ckpt"))
    module = GatedTopic()
    monkeypatch.setitem(sys.modules, module.__name__, module)
    yield module
    for event in list(module.gates.values()):  # never leave a worker blocked for the next test
        event.set()


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def one_worker_registry(**kwargs):
    from ui.jobs import JobRegistry

    return JobRegistry(Scheduler(1), **kwargs)


# --- the pool size ------------------------------------------------------------------------------------


def test_pool_size_from_env_cpu_count_and_device(monkeypatch):
    monkeypatch.delenv("DLE_TRAIN_WORKERS", raising=False)
    assert default_workers("cpu", cpus=2) == 1 and default_workers("cpu", cpus=16) == 8
    assert default_workers("cpu", cpus=1) == 1 and default_workers("cuda", cpus=16) == 2
    monkeypatch.setenv("DLE_TRAIN_WORKERS", "3")
    assert default_workers("cpu", cpus=2) == 3
    monkeypatch.setenv("DLE_TRAIN_WORKERS", "0")
    with pytest.raises(ValueError):
        default_workers()


# --- the queue ----------------------------------------------------------------------------------------


def test_second_job_waits_first_in_queue_until_the_first_finishes(topic):
    registry = one_worker_registry()
    first = registry.get_or_start(topic, Config(seed=1), watcher="A")
    wait_for(lambda: topic.ran == [1])
    second = registry.get_or_start(topic, Config(seed=2), watcher="B")
    third = registry.get_or_start(topic, Config(seed=3), watcher="C")
    for _ in range(20):  # stays put while the first one runs
        assert (first.queue_position, second.queue_position, third.queue_position) == (0, 1, 2)
        time.sleep(0.01)
    assert topic.ran == [1]
    topic.gate(1).set()
    assert first.done.wait(10) and first.ok
    wait_for(lambda: topic.ran == [1, 2])
    assert second.queue_position == 0 and third.queue_position == 1
    topic.gate(2).set()
    topic.gate(3).set()
    assert second.done.wait(10) and third.done.wait(10)
    assert topic.ran == [1, 2, 3] and second.ok and third.ok


def test_a_cancelled_queued_job_never_runs(topic):
    registry = one_worker_registry()
    first = registry.get_or_start(topic, Config(seed=1), watcher="A")
    wait_for(lambda: topic.ran == [1])
    queued = registry.get_or_start(topic, Config(seed=2), watcher="B")
    assert queued.queue_position == 1
    queued.stop()  # B presses Stop while waiting
    assert queued.done.is_set() and queued.cancelled and queued.stopped and queued.result is None
    assert queued.queue_position == 0
    topic.gate(1).set()
    topic.gate(2).set()
    assert first.done.wait(10)
    time.sleep(0.2)
    assert topic.ran == [1], "a cancelled job ran"
    # the session that cancelled keeps seeing its cancelled job; anyone else asking queues it again
    assert registry.get_or_start(topic, Config(seed=2), watcher="B", current=queued) is queued
    again = registry.get_or_start(topic, Config(seed=2), watcher="C")
    assert again is not queued and again.done.wait(10) and again.ok and topic.ran == [1, 2]


def test_identical_configs_share_one_queued_job(topic):
    registry = one_worker_registry()
    registry.get_or_start(topic, Config(seed=1))
    wait_for(lambda: topic.ran == [1])
    a = registry.get_or_start(topic, Config(seed=5), watcher="A")
    b = registry.get_or_start(topic, Config(seed=5), watcher="B")
    assert a is b and a.watchers == {"A", "B"} and a.queue_position == 1
    assert registry.scheduler.queued() == 1
    topic.gate(1).set()
    topic.gate(5).set()
    assert a.done.wait(10) and a.ok and topic.ran == [1, 5]


def test_an_unwatched_queued_job_leaves_the_queue(topic):
    registry = one_worker_registry()
    registry.get_or_start(topic, Config(seed=1), watcher="A")
    wait_for(lambda: topic.ran == [1])
    dropped = registry.get_or_start(topic, Config(seed=2), watcher="B")
    kept = registry.get_or_start(topic, Config(seed=3), watcher="C")
    shared = registry.get_or_start(topic, Config(seed=4), watcher="D")
    registry.get_or_start(topic, Config(seed=4), watcher="E")
    assert (dropped.queue_position, kept.queue_position, shared.queue_position) == (1, 2, 3)
    registry.release(dropped, "B")  # B moved on: nobody waits for seed 2 any more
    registry.release(shared, "D")  # E still waits for seed 4
    assert dropped.done.is_set() and dropped.abandoned and dropped.cancelled
    assert kept.queue_position == 1 and shared.queue_position == 2 and not shared.done.is_set()
    for seed in (1, 2, 3, 4):
        topic.gate(seed).set()
    assert kept.done.wait(10) and shared.done.wait(10)
    assert topic.ran == [1, 3, 4]


def test_shutdown_drops_the_queue_and_stops_running_jobs(topic, monkeypatch):
    from ui import jobs

    scheduler = Scheduler(1)
    monkeypatch.setattr(jobs, "_scheduler", scheduler)
    registry = jobs.JobRegistry(scheduler)
    topic.step_seconds = 0.01  # 100 s unless stopped
    running = registry.get_or_start(topic, Config(seed=1, steps=10_000))
    wait_for(lambda: topic.ran == [1])
    queued = registry.get_or_start(topic, Config(seed=2))
    topic.gate(1).set()
    wait_for(lambda: len(running.history) > 0)
    jobs.shutdown(grace_s=5)
    assert running.done.is_set() and running.stopped and not running.cancelled
    assert queued.done.is_set() and queued.cancelled and topic.ran == [1]
    assert not list((checkpoints.cache_dir()).glob("*")), "a stopped training was saved"


# --- bounded memory -----------------------------------------------------------------------------------


def test_an_evicted_model_comes_back_from_the_disk_cache(topic):
    from ui.jobs import model_bytes

    one = model_bytes(topic.build_model(Config(width=64)))  # 64*64 + 64 floats = 16.6 kB
    registry = one_worker_registry(budget_bytes=int(2.5 * one))  # room for two
    for seed in (1, 2, 3):
        topic.gate(seed).set()
        job = registry.get_or_start(topic, Config(seed=seed, width=64))
        assert job.done.wait(10) and job.ok and job.source == "trained"
    assert registry.held_bytes() <= registry.budget_bytes and registry.evictions == 1
    assert registry.find(topic, Config(seed=1, width=64)) is None  # the least recently used went
    back = registry.get_or_start(topic, Config(seed=1, width=64))
    assert back.done.wait(10) and back.ok
    # no training ran (train() never called, so nothing reached on_step): it came from the disk
    assert back.source == "disk cache" and topic.ran == [1, 2, 3], "the evicted model was retrained"
    assert len(back.history) == 5  # the checkpoint brings the history back too


def test_recently_used_models_are_kept(topic):
    registry = one_worker_registry(budget_bytes=10**9)
    from ui.jobs import model_bytes

    one = model_bytes(topic.build_model(Config(width=64)))
    registry.budget_bytes = int(2.5 * one)
    for seed in (1, 2):
        topic.gate(seed).set()
        assert registry.get_or_start(topic, Config(seed=seed, width=64)).done.wait(10)
    registry.find(topic, Config(seed=1, width=64))  # seed 1 was looked at after seed 2
    topic.gate(3).set()
    assert registry.get_or_start(topic, Config(seed=3, width=64)).done.wait(10)
    assert registry.find(topic, Config(seed=1, width=64)) is not None
    assert registry.find(topic, Config(seed=2, width=64)) is None


def _rss_kb() -> int:
    """Resident memory in kB, after handing freed heap pages back to the OS: glibc keeps freed
    blocks (and raises its mmap threshold after big frees), so without the trim RSS after a long
    test session measures the allocator's history, not the models still alive."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: measure as is
        pass
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_two_hundred_trainings_stay_within_the_memory_budget(tmp_path, monkeypatch):
    """200 distinct regression models through one registry: the models it keeps never exceed the
    budget, and the process does not grow with the number of trainings."""
    from ui.jobs import model_bytes

    monkeypatch.setenv(checkpoints.ENV_VAR, str(tmp_path / "ckpt"))
    base = regression.Config.tiny()
    one = model_bytes(regression.build_model(base))
    budget = 20 * one  # twenty models' worth
    registry = one_worker_registry(budget_bytes=budget)

    def train(seeds):
        for seed in seeds:
            job = registry.get_or_start(regression, regression.Config(**{**base.__dict__, "seed": seed}))
            assert job.done.wait(60) and job.ok, job.error
            assert registry.held_bytes() <= budget

    train(range(1000, 1040))  # warm-up: allocator pools, lazy imports, torch's caches
    gc.collect()
    rss_before = _rss_kb()
    train(range(1040, 1200))
    gc.collect()
    growth_mb = (_rss_kb() - rss_before) / 1024
    held = registry.held_bytes()
    kept = len([j for j in registry.jobs.values() if j.model_bytes])
    print(f"\n200 trainings: model {one} B, budget {budget} B, held {held} B in {kept} models, "
          f"{registry.evictions} evicted, RSS growth over the last 160: {growth_mb:.1f} MB")
    assert held <= budget and kept <= 20 and registry.evictions >= 180
    assert growth_mb < 40, f"RSS grew {growth_mb:.1f} MB over 160 trainings"


# --- the live view: a waiting page shows its place ----------------------------------------------------

SCRIPT = """
import sys
import streamlit as st
from ui.jobs import report, train_live

topic = sys.modules["dle_gated_topic"]
job = train_live(topic, topic.Config(seed=7), label="Gated training", poll_seconds=0.05)
report(job)
"""


def test_a_waiting_page_shows_its_place_and_can_leave_the_queue(topic, monkeypatch, clear_streamlit_caches):
    from streamlit.testing.v1 import AppTest

    from ui import jobs

    monkeypatch.setattr(jobs, "_scheduler", Scheduler(1))
    registry = jobs.registry()
    blocker = registry.get_or_start(topic, Config(seed=1), watcher="someone else")
    wait_for(lambda: topic.ran == [1])
    at = AppTest.from_string(SCRIPT, default_timeout=60)
    places = []

    def stop_while_queued():
        wait_for(lambda: registry.find(topic, Config(seed=7)) is not None)
        job = registry.find(topic, Config(seed=7))
        places.append(job.queue_position)
        time.sleep(1.0)  # the page draws its place
        job.stop()  # what its Stop button does

    helper = threading.Thread(target=stop_while_queued)
    helper.start()
    at.run()
    helper.join(30)
    assert not at.exception, [e.value for e in at.exception]
    assert places == [1]
    assert at.progress[0].text == "Stopped before it started (it was 1st in the queue)"
    assert at.warning[0].value == jobs.CANCELLED
    topic.gate(1).set()
    topic.gate(7).set()
    assert blocker.done.wait(10)
    time.sleep(0.2)
    assert topic.ran == [1], "the cancelled job ran"
    assert [jobs.ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"]


def test_evicted_models_free_their_memory(topic):
    """200 models of 1 MB each (200 MB if all were kept) under a 16 MB budget: RSS stays near it."""
    registry = one_worker_registry(budget_bytes=16 * 2**20)
    width = 512  # nn.Linear(512, 512): 1.05 MB of float32

    def train(seeds):
        for seed in seeds:
            topic.gate(seed).set()
            job = registry.get_or_start(topic, Config(seed=seed, width=width, steps=1))
            assert job.done.wait(30) and job.ok
            assert registry.held_bytes() <= registry.budget_bytes

    train(range(60))  # warm-up: the budget fills, torch's save/load paths and the allocator settle
    gc.collect()
    rss_before = _rss_kb()
    train(range(60, 200))
    gc.collect()
    growth_mb = (_rss_kb() - rss_before) / 1024
    alive = sum(1 for o in gc.get_objects() if type(o) is nn.Linear and o.in_features == width)
    print(f"\n200 x 1 MB models, 16 MB budget: held {registry.held_bytes() / 2**20:.1f} MB, {alive} alive, "
          f"{registry.evictions} evicted, RSS growth over the last 140: {growth_mb:.1f} MB")
    assert registry.evictions >= 180 and alive <= 16, "evicted models are still referenced"
    assert growth_mb < 40, f"RSS grew {growth_mb:.1f} MB over 140 MB of trained models"
