"""The core/ contract, checked over every topic module that exists (timm-style)."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys

import pytest
import torch

import core
from tests.conftest import ROOT


def test_core_never_imports_streamlit():
    code = ("import sys, core, importlib\n"
            "for n in core.TOPICS + ('training', 'checkpoints', 'device', 'images', 'mnist', 'tables',\n"
            "                        'forecasting', 'pretrained', 'projection', 'vision'):\n"
            "    try: importlib.import_module('core.' + n)\n"
            "    except ModuleNotFoundError as e:\n"
            "        if e.name != 'core.' + n: raise\n"
            "assert 'streamlit' not in sys.modules, 'core imported streamlit'\n"
            "print('ok')")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr


def test_import_core_does_no_work():
    out = subprocess.run([sys.executable, "-c", "import sys, core; print('torch' in sys.modules)"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.strip() == "False", "importing core should not even import torch"


TOPICS = sorted(core.registry())


def trainable(topic):
    """Modules built on pretrained weights only (Deep Dream optimises an image, not a model) set
    TRAINABLE = False and are checked by their own tests instead."""
    module = core.registry()[topic]
    if not getattr(module, "TRAINABLE", True):
        pytest.skip(f"core.{topic} trains no model")
    return module


@pytest.mark.parametrize("topic", TOPICS)
def test_topic_contract(topic):
    module = trainable(topic)
    cfg = module.Config.tiny()
    assert dataclasses.is_dataclass(cfg) and type(cfg).__dataclass_params__.frozen
    assert hash(cfg) == hash(module.Config.tiny()), "Config must hash by value (it is the cache key)"
    assert "seed" in {f.name for f in dataclasses.fields(cfg)}
    assert "version" in {f.name for f in dataclasses.fields(cfg)}
    model = module.build_model(cfg)
    assert isinstance(model, torch.nn.Module)
    steps = []
    model, history = module.train(cfg, on_step=lambda step, metrics: steps.append((step, metrics)))
    assert history, "train() must return a non-empty history"
    assert steps, "train() must report through on_step"
    for record in history:
        for key, value in record.items():
            assert isinstance(value, float) and math.isfinite(value), (key, value)
    for p in model.parameters():
        assert torch.isfinite(p).all()


@pytest.mark.parametrize("topic", TOPICS)
def test_topic_stop_request_is_honoured(topic):
    module = trainable(topic)
    cfg = module.Config.tiny()
    calls = []

    def stop_at_first(step, metrics):
        calls.append(step)
        return True

    module.train(cfg, on_step=stop_at_first)
    assert len(calls) == 1, f"{topic}: training went on after a stop request ({len(calls)} callbacks)"
