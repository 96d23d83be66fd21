"""The disk checkpoint cache survives what a crash, a full disk or a tampered file leave behind.

Each damaged file must be discarded and the model retrained (never a crash, never a wrong model),
the cache folder must follow DLE_CACHE_DIR, and a file that tries to run code when unpickled must
be refused. A tiny topic module (one linear layer, trained in milliseconds) keeps this fast; one
test runs the real digits CNN's tiny Config through the same path.
"""

from __future__ import annotations

import os
import pickle
import time
from dataclasses import dataclass

import pytest
import torch
from torch import nn

from core import checkpoints
from core.checkpoints import cache_dir, config_key, load_or_train

# --- a tiny topic module -------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    width: int = 3
    steps: int = 5
    seed: int = 0
    version: int = 1

    @classmethod
    def tiny(cls) -> Config:
        return cls()


class Trainer:
    """build_model/train pair that counts trainings; the trained weights depend only on the seed."""

    def __init__(self):
        self.calls = 0

    @staticmethod
    def build_model(cfg: Config) -> nn.Module:
        torch.manual_seed(cfg.seed)
        return nn.Linear(cfg.width, 1)

    def train(self, cfg: Config, *, on_step=None):
        self.calls += 1
        model = self.build_model(cfg)
        history = []
        with torch.no_grad():
            for step in range(1, cfg.steps + 1):
                model.weight.add_(0.1)  # a deterministic "update" so a trained model differs from a fresh one
                record = {"step": float(step), "loss": 1.0 / step}
                history.append(record)
                if on_step is not None and on_step(step, dict(record)):
                    break
        return model, history


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A private cache folder through the environment variable, and no shipped checkpoints."""
    folder = tmp_path / "ckpt"
    monkeypatch.setenv(checkpoints.ENV_VAR, str(folder))
    monkeypatch.setattr(checkpoints, "BUNDLED_DIR", tmp_path / "bundled")
    return folder


def expected_weight(cfg: Config) -> torch.Tensor:
    model = Trainer.build_model(cfg)
    return model.weight.detach() + 0.1 * cfg.steps


def checkpoint_path(cfg) -> os.PathLike:
    return cache_dir() / f"{config_key(cfg)}.pt"


# --- tests ---------------------------------------------------------------------------------------


def test_location_follows_environment_variable(cache):
    cfg = Config()
    trainer = Trainer()
    model, history, source = load_or_train(cfg, trainer.build_model, trainer.train)
    assert source == "trained" and trainer.calls == 1
    files = list(cache.glob("*.pt"))
    assert [f.name for f in files] == [f"{config_key(cfg)}.pt"], "checkpoint not written under DLE_CACHE_DIR"
    assert torch.allclose(model.weight, expected_weight(cfg))
    assert not model.training and not any(p.requires_grad for p in model.parameters()), "model must come frozen"

    again = Trainer()
    model2, history2, source2 = load_or_train(cfg, again.build_model, again.train)
    assert source2 == "disk cache" and again.calls == 0
    assert torch.equal(model2.weight, model.weight)
    assert history2 == history


def _write_good_checkpoint(cfg: Config) -> bytes:
    trainer = Trainer()
    load_or_train(cfg, trainer.build_model, trainer.train)
    return checkpoint_path(cfg).read_bytes()


DAMAGES = {
    "truncated": lambda good: good[: len(good) // 2],
    "empty": lambda good: b"",
    "garbage": lambda good: os.urandom(997),
    "text": lambda good: b"this is not a checkpoint\n" * 20,
    "wrong-payload": lambda good: _saved({"weights": [1, 2, 3]}),  # loads, but is not a checkpoint
    "wrong-shape": lambda good: _saved({"state_dict": {"weight": torch.zeros(7, 7), "bias": torch.zeros(7)}}),
}


def _saved(obj) -> bytes:
    """torch.save of any object to bytes (pickles it whole, as an attacker's file would)."""
    import io

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_damaged_checkpoint_is_discarded_and_retrained(cache, damage):
    cfg = Config(seed=3)
    good = _write_good_checkpoint(cfg)
    path = checkpoint_path(cfg)
    damaged = DAMAGES[damage](good)
    path.write_bytes(damaged)

    trainer = Trainer()
    model, history, source = load_or_train(cfg, trainer.build_model, trainer.train)
    assert source == "trained" and trainer.calls == 1, f"{damage} file was not retrained"
    assert torch.allclose(model.weight, expected_weight(cfg))
    assert path.read_bytes() != damaged, "damaged file left in place"
    # the rewritten file is good again: the next request loads it
    after = Trainer()
    _, _, source = load_or_train(cfg, after.build_model, after.train)
    assert source == "disk cache" and after.calls == 0


class _Exploit:
    """Unpickling this runs code (creates a marker file): weights_only loading must refuse it."""

    marker = ""

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_malicious_pickle_is_refused_not_executed(cache, tmp_path):
    cfg = Config(seed=5)
    marker = tmp_path / "pwned"
    exploit = _Exploit()
    exploit.marker = str(marker)
    path = checkpoint_path(cfg)
    # a raw pickle, and a torch.save zip whose state_dict is the exploit object
    for payload in (pickle.dumps(exploit), _saved({"state_dict": exploit})):
        path.write_bytes(payload)
        trainer = Trainer()
        model, _, source = load_or_train(cfg, trainer.build_model, trainer.train)
        assert not marker.exists(), "a checkpoint file was unpickled with code execution"
        assert source == "trained" and trainer.calls == 1
        assert torch.allclose(model.weight, expected_weight(cfg))


def test_stray_temp_file_is_ignored_and_cleaned(cache):
    """A kill mid-write leaves `<key>.pt.<random>.tmp` and no `<key>.pt`: retrain, never load the
    temp file, and clear old strays when the checkpoint is finally written."""
    cfg = Config(seed=7)
    key = config_key(cfg)
    cache.mkdir(parents=True, exist_ok=True)
    stray = cache / f"{key}.pt.k1ll3d.tmp"
    # the stray holds a *valid-looking* checkpoint with wrong weights: loading it would be a bug
    stray.write_bytes(_saved({"state_dict": {"weight": torch.full((1, 3), 42.0), "bias": torch.zeros(1)},
                              "history": []}))
    old = time.time() - 3600
    os.utime(stray, (old, old))

    trainer = Trainer()
    model, _, source = load_or_train(cfg, trainer.build_model, trainer.train)
    assert source == "trained" and trainer.calls == 1
    assert torch.allclose(model.weight, expected_weight(cfg)), "the stray temp file was loaded"
    assert (cache / f"{key}.pt").is_file()
    assert not stray.exists(), "an old stray temp file was left behind after a successful write"


def test_fresh_temp_file_of_a_concurrent_writer_is_left_alone(cache):
    """A temp file written seconds ago may belong to another process still writing: keep it."""
    cfg = Config(seed=8)
    cache.mkdir(parents=True, exist_ok=True)
    busy = cache / f"{config_key(cfg)}.pt.busy.tmp"
    busy.write_bytes(b"partial")
    trainer = Trainer()
    load_or_train(cfg, trainer.build_model, trainer.train)
    assert busy.exists()


def test_corrupt_bundled_checkpoint_is_not_deleted_but_skipped(cache, tmp_path):
    """Shipped checkpoints are read-only: a damaged one is skipped (and kept), and training runs."""
    cfg = Config(seed=9)
    bundled = tmp_path / "bundled"
    bundled.mkdir()
    shipped = bundled / f"{config_key(cfg)}.pt"
    shipped.write_bytes(b"\x00" * 10)
    trainer = Trainer()
    _, _, source = load_or_train(cfg, trainer.build_model, trainer.train)
    assert source == "trained" and trainer.calls == 1
    assert shipped.exists(), "load_or_train must never delete a shipped checkpoint"


def test_stopped_training_is_not_saved(cache):
    cfg = Config(seed=11, steps=10)
    trainer = Trainer()
    _, history, source = load_or_train(cfg, trainer.build_model, trainer.train, on_step=lambda s, m: s >= 2)
    assert source == "trained" and len(history) == 2
    assert not checkpoint_path(cfg).exists(), "a stopped (partial) model must not be cached"


def _cheapest_real_topic():
    """A real core topic with a fast tiny Config (the regression/logistic modules train in well
    under a second); the digits CNN otherwise (slower: a conv net over 500 digits)."""
    import core

    modules = core.registry()
    for name in ("regression", "logistic"):
        if name in modules:
            return modules[name], modules[name].Config.tiny()
    from core import digits

    return digits, digits.Config(epochs=1, test_fraction=0.9)


def test_real_topic_round_trip(cache):
    """A real topic module through the same path: truncated file -> retrained, same weights."""
    module, cfg = _cheapest_real_topic()
    model, history, source = load_or_train(cfg, module.build_model, module.train)
    assert source == "trained"
    path = checkpoint_path(cfg)
    assert path.is_file()
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    model2, history2, source2 = load_or_train(cfg, module.build_model, module.train)
    assert source2 == "trained"
    for a, b in zip(model.state_dict().values(), model2.state_dict().values()):
        assert torch.allclose(a.float(), b.float(), atol=1e-5), "same Config must retrain to the same weights"
    _, _, source3 = load_or_train(cfg, module.build_model, module.train)
    assert source3 == "disk cache"
