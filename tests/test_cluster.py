"""Beyond one machine: with ``DLE_SCHEDULER`` set, the app's trainings run on a Dask cluster (a real
``LocalCluster`` of two worker processes, on loopback), through the same job API the pages use:
live progress arrives, the model equals the one trained in-process, and Stop stops it early.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import torch

pytest.importorskip("distributed")

from core import checkpoints, cluster, regression
from core.scheduler import Scheduler
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """A scheduler and two workers as separate processes on loopback, as on real machines (and so
    nothing of the cluster stays allocated in the test process for later memory tests)."""
    from tests.e2e.live import free_port

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT),
               # set before the workers start: their processes inherit it (the shared checkpoint store)
               **{checkpoints.ENV_VAR: str(tmp_path_factory.mktemp("shared-ckpt"))})
    dask = [sys.executable, "-m", "distributed.cli"]
    procs = [subprocess.Popen([*dask[:2], "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port",
                               str(port), "--no-dashboard"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    procs += [subprocess.Popen([*dask[:2], "distributed.cli.dask_worker", address, "--nthreads", "1",
                                "--nworkers", "1", "--no-dashboard", "--host", "127.0.0.1"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        from distributed import Client

        with Client(address, timeout=60) as client:  # wait until both workers have joined
            client.wait_for_workers(2, timeout=120)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv(cluster.ENV_VAR, address)
            mp.setenv(checkpoints.ENV_VAR, env[checkpoints.ENV_VAR])
            yield address
    finally:
        cluster.close_clients()
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def registry():
    from ui.jobs import JobRegistry

    return JobRegistry(Scheduler(2))


def test_default_never_imports_distributed():
    env = {k: v for k, v in os.environ.items() if k != cluster.ENV_VAR}
    code = "import sys, ui.jobs; assert 'distributed' not in sys.modules, 'distributed imported'"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=120)


def test_training_on_the_cluster_reports_live_and_equals_in_process(dask_cluster, monkeypatch):
    from ui import jobs

    reported = []  # (step, finished yet?) for every progress report the job got
    original = jobs.Job.on_step

    def recording(self, step, metrics):
        reported.append((step, self.done.is_set()))
        return original(self, step, metrics)

    monkeypatch.setattr(jobs.Job, "on_step", recording)
    cfg = regression.Config(n_samples=30, epochs=1000)
    job = registry().get_or_start(regression, cfg)
    assert job.done.wait(60)
    assert job.ok, job.error
    assert job.source == "trained" and not job.stopped
    steps = [step for step, _ in reported]
    assert steps == sorted(steps) and not any(done for _, done in reported), reported
    assert len([s for s in steps if s < cfg.epochs]) >= 3 and steps[-1] == cfg.epochs, steps  # live
    local, history = regression.train(cfg)  # the same Config, trained here
    assert job.history == history  # the worker's full history, not just the reports
    remote = job.model.state_dict()
    for name, tensor in local.state_dict().items():
        assert torch.equal(tensor, remote[name].cpu()), name  # same seed -> bit-identical weights
    assert history[-1]["loss"] == job.history[-1]["loss"]
    assert not job.model.training and not any(p.requires_grad for p in job.model.parameters())
    # the worker wrote the shared checkpoint store: a second replica loads it instead of training
    assert (checkpoints.cache_dir() / f"{checkpoints.config_key(cfg)}.pt").is_file()
    again = registry().get_or_start(regression, cfg)
    assert again.done.wait(60) and again.ok and again.source == "disk cache"


def test_stop_on_the_cluster_ends_the_training_early(dask_cluster):
    cfg = regression.Config(n_samples=30, epochs=20_000, seed=7)
    job = registry().get_or_start(regression, cfg)
    deadline = time.monotonic() + 60
    while not job.latest and not job.done.is_set() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert job.latest, "no progress report arrived"
    job.stop()
    assert job.done.wait(30), "the stopped training did not end"
    assert job.ok and job.stopped and not job.cancelled, job.error
    assert 0 < len(job.history) < cfg.epochs / 2
    # a stopped training is not saved in the shared store
    assert not (checkpoints.cache_dir() / f"{checkpoints.config_key(cfg)}.pt").exists()
