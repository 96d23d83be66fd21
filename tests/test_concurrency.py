"""Several sessions, one server: the same model is trained once, and one session's stop or change
of settings never breaks another session's page.

A dummy topic module (a linear layer "trained" in small sleeps) makes the overlap deterministic:
its train() blocks until the test lets it go, so both sessions really ask while it runs.
"""

from __future__ import annotations

import sys
import threading
import time
import types
from dataclasses import dataclass

import pytest
import torch
from torch import nn

from core import checkpoints

# --- a dummy topic whose training the test controls ----------------------------------------------


@dataclass(frozen=True)
class Config:
    steps: int = 20
    seed: int = 0
    version: int = 1


class DummyTopic(types.ModuleType):
    """Quacks like a core/<topic> module; counts trainings; train() waits for ``release``."""

    def __init__(self, name: str = "dle_dummy_topic"):
        super().__init__(name)
        self.Config = Config
        self.calls = 0
        self.started = threading.Event()
        self.release = threading.Event()
        self.step_seconds = 0.02
        self.tail_seconds = 0.2

    def build_model(self, cfg):
        torch.manual_seed(cfg.seed)
        return nn.Linear(2, 1)

    def train(self, cfg, *, on_step=None):
        self.calls += 1
        model = self.build_model(cfg)
        history = []
        self.started.set()
        assert self.release.wait(30), "test never released the training"
        for step in range(1, cfg.steps + 1):
            time.sleep(self.step_seconds)
            with torch.no_grad():
                model.bias.add_(1.0)
            record = {"step": float(step), "loss": 1.0 / step}
            history.append(record)
            if on_step is not None and on_step(step, {**record, "total_steps": float(cfg.steps)}):
                break
        time.sleep(self.tail_seconds)  # e.g. saving: the page sees the last step before the job is done
        return model, history


@pytest.fixture
def topic(tmp_path, monkeypatch):
    monkeypatch.setenv(checkpoints.ENV_VAR, str(tmp_path / "ckpt"))
    module = DummyTopic()
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return module


def run_threads(*targets, timeout=60):
    results, errors = {}, {}

    def wrap(name, fn):
        try:
            results[name] = fn()
        except BaseException as exc:  # reported to the test
            errors[name] = exc

    threads = [threading.Thread(target=wrap, args=(i, fn)) for i, fn in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a session hung"
    assert not errors, errors
    return [results[i] for i in range(len(targets))]


# --- the job registry ------------------------------------------------------------------------------


def test_two_sessions_same_model_train_once(topic):
    from ui.jobs import JobRegistry

    registry = JobRegistry()
    cfg = Config(seed=1)
    gate = threading.Barrier(2)

    def session():
        gate.wait()  # both ask at the same moment
        job = registry.get_or_start(topic, cfg)
        topic.release.set()
        assert job.done.wait(30)
        return job

    job_a, job_b = run_threads(session, session)
    assert job_a is job_b, "two sessions got two jobs for the same Config"
    assert topic.calls == 1, f"the model was trained {topic.calls} times"
    assert job_a.error is None and job_a.model is not None and not job_a.stopped
    assert float(job_a.model.bias.detach()) == pytest.approx(float(topic.build_model(cfg).bias.detach()) + cfg.steps)
    # a third, later session gets the finished job without training
    assert registry.get_or_start(topic, cfg) is job_a and topic.calls == 1


def test_stop_in_one_session_does_not_break_the_other(topic):
    from ui.jobs import JobRegistry

    registry = JobRegistry()
    cfg = Config(seed=2, steps=200)
    job = registry.get_or_start(topic, cfg, watcher="A")
    assert registry.get_or_start(topic, cfg, watcher="B") is job
    topic.release.set()
    while len(job.history) < 3:
        time.sleep(0.01)
    job.stop_event.set()  # session A presses Stop
    assert job.done.wait(30)
    # session B: no error, a usable (partial) model, and the history up to the stop
    assert job.error is None and job.model is not None and job.stopped
    assert 3 <= len(job.history) < cfg.steps
    assert not job.model.training and not any(p.requires_grad for p in job.model.parameters())
    assert topic.calls == 1


def test_changing_settings_does_not_abandon_a_job_another_session_waits_for(topic):
    from ui.jobs import JobRegistry

    registry = JobRegistry()
    cfg = Config(seed=3, steps=30)
    job = registry.get_or_start(topic, cfg, watcher="A")
    registry.get_or_start(topic, cfg, watcher="B")
    registry.release(job, "A")  # A moved a slider: it no longer needs this model, B still does
    assert not job.stop_event.is_set() and not job.abandoned
    topic.release.set()
    assert job.done.wait(30)
    assert job.error is None and not job.stopped and len(job.history) == cfg.steps


def test_changing_settings_abandons_a_job_nobody_waits_for(topic):
    from ui.jobs import JobRegistry

    registry = JobRegistry()
    cfg = Config(seed=4, steps=500)
    job = registry.get_or_start(topic, cfg, watcher="A")
    topic.release.set()
    registry.release(job, "A")
    assert job.done.wait(30)
    assert job.abandoned and job.stopped
    # the abandoned (partial) job is replaced by a fresh training when asked again
    again = registry.get_or_start(topic, cfg, watcher="C")
    assert again is not job
    again.stop_event.set()
    assert again.done.wait(30)


# --- two real Streamlit sessions (AppTest) on a page that uses train_live ------------------------

SCRIPT = """
import sys
import streamlit as st
from ui.jobs import train_live

topic = sys.modules["dle_dummy_topic"]
seed = st.session_state.get("seed", 10)


def preview(latest):
    # pages key their live charts by step: a preview drawn twice for one step in a run must not
    # raise StreamlitDuplicateElementKey
    st.plotly_chart({"data": [{"y": [latest["loss"]]}]}, key=f"live_{int(latest['step'])}")


job = train_live(topic, topic.Config(seed=seed), label="Dummy training", poll_seconds=0.05,
                 render_preview=preview)
if job.model is not None:
    st.metric("bias", round(float(job.model.bias), 3))
    st.caption(f"source: {job.source}")
"""


def _session(seed: int | None = None, preset: dict | None = None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_string(SCRIPT, default_timeout=60)
    if seed is not None:
        at.session_state["seed"] = seed
    for name, value in (preset or {}).items():
        at.session_state[name] = value
    return at


def test_two_apptest_sessions_share_one_training(topic, clear_streamlit_caches):
    cfg = Config(seed=10)
    expected = round(float(topic.build_model(cfg).bias.detach()) + cfg.steps, 3)
    a, b = _session(), _session()
    releaser = threading.Thread(target=lambda: (topic.started.wait(30), time.sleep(0.3), topic.release.set()))
    releaser.start()
    run_threads(lambda: a.run(), lambda: b.run())
    releaser.join()
    for at in (a, b):
        assert not at.exception, [e.value for e in at.exception]
        assert not at.error and not at.warning, [e.value for e in at.error] + [w.value for w in at.warning]
        assert at.metric[0].value == str(expected)
    assert topic.calls == 1, f"two sessions caused {topic.calls} trainings"
    # a third session, after the fact, reads the finished model without training
    c = _session()
    c.run()
    assert not c.exception and c.metric[0].value == str(expected) and topic.calls == 1


def test_other_session_moving_on_does_not_cut_short_my_training(topic, clear_streamlit_caches):
    """Session A was watching job X and changes its settings while B waits for X: B must get the
    fully trained model, not one stopped by A."""
    from ui.jobs import registry

    cfg = Config(seed=10)
    job_x = registry().get_or_start(topic, cfg, watcher="session-A")
    b = _session()
    # A's next script run asks for other settings (seed 11), while B waits for X
    a = _session(seed=11, preset={"_job_session_token": "session-A", "_job_watch_train": job_x})
    topic.step_seconds = 0.05

    def run_a():
        topic.started.wait(30)
        time.sleep(0.2)
        a.run()

    def release_later():
        time.sleep(0.5)
        topic.release.set()

    run_threads(lambda: b.run(), run_a, release_later)
    assert not b.exception and not a.exception
    assert not job_x.stopped and not job_x.abandoned, "A's change of settings stopped B's training"
    assert not b.warning, [w.value for w in b.warning]
    assert b.metric[0].value == str(round(float(topic.build_model(cfg).bias.detach()) + cfg.steps, 3))
    assert topic.calls == 2  # X once, A's new settings once
