"""core.training and core.device: the shared loop every topic trains with."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from core import device as device_mod
from core.training import DivergenceError, batch_indices, fit, make_optimizer, run_steps, seed_everything


def _line_problem(seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(64, 1, generator=gen)
    return x, 3 * x - 1


def _fit(batch_size=None, epochs=30, lr=0.1, on_step=None, seed=0):
    generator = seed_everything(seed)
    model = nn.Linear(1, 1)
    x, y = _line_problem()
    result = fit(model, lambda m, b: nn.functional.mse_loss(m(b[0]), b[1]), (x, y),
                 make_optimizer("SGD", model.parameters(), lr), epochs=epochs, generator=generator,
                 batch_size=batch_size, on_step=on_step)
    return model, result


@pytest.mark.parametrize("batch_size", [None, 8])
def test_fit_learns_a_line_full_batch_and_minibatch(batch_size):
    model, result = _fit(batch_size=batch_size, epochs=60)
    assert result.history[-1]["loss"] < 1e-3
    assert model.weight.item() == pytest.approx(3, abs=0.05) and model.bias.item() == pytest.approx(-1, abs=0.05)


def test_stop_request_is_honoured_within_one_step():
    seen = []
    _, result = _fit(on_step=lambda step, metrics: seen.append(step) or step == 3)
    assert seen == [1, 2, 3] and result.stopped and len(result.history) == 3


def test_nan_is_caught_with_step_and_learning_rate():
    with pytest.raises(DivergenceError) as info:
        _fit(lr=50.0, epochs=200)
    err = info.value
    assert err.lr == 50.0 and 1 <= err.step < 200 and not math.isfinite(err.value)
    assert f"step {err.step}" in str(err) and "learning rate 50" in str(err)


def test_same_seed_same_result_different_seed_different_order():
    a, _ = _fit(batch_size=8, epochs=3, seed=1)
    b, _ = _fit(batch_size=8, epochs=3, seed=1)
    c, _ = _fit(batch_size=8, epochs=3, seed=2)
    assert torch.equal(a.weight, b.weight)
    assert not torch.equal(a.weight, c.weight)


def test_batch_indices_cover_every_sample_once():
    gen = torch.Generator().manual_seed(0)
    batches = list(batch_indices(10, 3, gen))
    assert [len(b) for b in batches] == [3, 3, 3, 1]
    assert sorted(torch.cat(batches).tolist()) == list(range(10))
    assert len(list(batch_indices(10, None, gen))) == 1


def test_run_steps_reports_every_n_and_keeps_previews_out_of_history():
    reported = []
    result = run_steps(lambda s: {"loss": torch.tensor(1.0 / s), "preview": np.zeros(3)}, 10,
                       on_step=lambda s, m: reported.append(m), report_every=4)
    assert [r["step"] for r in result.history] == [4.0, 8.0, 10.0]
    assert all("preview" not in r for r in result.history)
    assert all("preview" in m and m["total_steps"] == 10.0 for m in reported)


def test_unknown_optimizer_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown optimizer"):
        make_optimizer("Lion", nn.Linear(1, 1).parameters(), 0.1)


def test_device_choice_and_override(monkeypatch):
    monkeypatch.delenv(device_mod.ENV_VAR, raising=False)
    expected = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    assert device_mod.get_device().type == expected
    monkeypatch.setenv(device_mod.ENV_VAR, "cpu")
    assert device_mod.get_device().type == "cpu"
    if not torch.cuda.is_available():
        monkeypatch.setenv(device_mod.ENV_VAR, "cuda")
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            device_mod.get_device()
    assert device_mod.describe_device(torch.device("cpu"))["kind"] == "CPU"
