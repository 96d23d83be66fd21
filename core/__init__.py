"""Deep Learning Explorer's model library: pure PyTorch/numpy, no Streamlit.

One module per topic, each with the same face (house style):

- ``Config``: a frozen dataclass; its fields are the hyperparameters, the seed and a ``version``.
  It is also the cache key. ``Config.tiny()`` gives a variant that trains in seconds (tests).
- ``build_model(cfg)`` -> ``nn.Module``.
- ``train(cfg, *, on_step=None) -> (model, history)``: progress leaves ``core`` only through
  ``on_step(step, metrics)``, which may return a truthy value to ask training to stop.
- Pure helpers that return numpy arrays or DataFrames for the pages to plot.

Importing ``core`` does no work: topic modules are imported on demand (``registry()``).
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

# OpenMP threads that spin-wait for work burn the CPU another thread needs: on a busy 2-core
# machine one Deep Dream step took 1.18 s with the default policy and 0.15 s with PASSIVE. OpenMP
# reads this once, when torch first loads, so it is set here, before any core module imports torch
# (a user's own setting wins).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# The topic modules, in tutorial order. Each follows the contract above; the contract test and
# core.make_checkpoints iterate over them. This is not the list of pages (ui.frame.PAGES is): digits
# has no page of its own (its CNN serves the CNN and GAN pages), word2vec is the second model of the
# word-embeddings page, and cnn and deepdream train nothing (TRAINABLE = False).
TOPICS: tuple[str, ...] = (
    "regression",
    "logistic",
    "cnn",
    "digits",
    "lstm",
    "embeddings",
    "word2vec",
    "autoencoder",
    "gan",
    "deepdream",
)


def registry() -> dict[str, ModuleType]:
    """Import every topic module that exists and return them by name (timm-style registry)."""
    modules = {}
    for name in TOPICS:
        try:
            modules[name] = importlib.import_module(f"core.{name}")
        except ModuleNotFoundError as exc:  # a topic not written yet; anything else is a bug
            if exc.name != f"core.{name}":
                raise
    return modules
