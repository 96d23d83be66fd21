"""The one training loop every topic shares, plus the small pieces around it.

Progress leaves through ``on_step(step, metrics)`` (minGPT's callback). If the callback returns a
truthy value, training stops after the current step and the result so far is returned: that is how
a page's Stop button works without the page owning the loop.

Every optimizer step checks the loss for NaN/inf and raises :class:`DivergenceError`, naming the
step and the learning rate, instead of letting a page plot an empty chart.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

# on_step(step, metrics) -> stop?  (None/False: go on; True: stop after this step)
OnStep = Callable[[int, dict[str, float]], "bool | None"]

OPTIMIZERS: tuple[str, ...] = ("SGD", "SGD+momentum", "Adagrad", "RMSprop", "Adam")


class DivergenceError(FloatingPointError):
    """Training produced a NaN or infinite loss: almost always a learning rate that is too high."""

    def __init__(self, step: int, lr: float | None, metric: str = "loss", value: float = math.nan):
        self.step, self.lr, self.metric, self.value = step, lr, metric, value
        lr_text = f"learning rate {lr:g}" if lr is not None else "learning rate"
        super().__init__(
            f"Training diverged at step {step}: the {metric} became {value} with {lr_text}. "
            "Each update overshot the minimum by more than the last, so the weights blew up. "
            "Lower the learning rate (try 10x smaller) or turn on feature standardisation."
        )


@dataclass
class TrainResult:
    """What a training loop hands back besides the model: the history and whether it was stopped."""

    history: list[dict[str, float]] = field(default_factory=list)
    stopped: bool = False


def seed_everything(seed: int) -> torch.Generator:
    """Seed torch/numpy/random and return a generator for data order, so same Config, same model."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def make_optimizer(
    name: str,
    params,
    lr: float,
    *,
    weight_decay: float = 0.0,
    momentum: float = 0.9,
    betas: tuple[float, float] = (0.9, 0.999),
) -> torch.optim.Optimizer:
    """The optimizers of tutorial 3.6, by the names the pages show."""
    if name == "SGD":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if name == "SGD+momentum":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "Adagrad":
        return torch.optim.Adagrad(params, lr=lr, weight_decay=weight_decay)
    if name == "RMSprop":
        return torch.optim.RMSprop(params, lr=lr, weight_decay=weight_decay)
    if name == "Adam":
        return torch.optim.Adam(params, lr=lr, betas=betas, weight_decay=weight_decay)
    raise ValueError(f"Unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")


def check_finite(metrics: Mapping[str, float], step: int, lr: float | None, keys: Sequence[str] = ("loss",)) -> None:
    """Raise DivergenceError if any of ``keys`` in ``metrics`` is NaN or infinite."""
    for key in keys:
        value = metrics.get(key)
        if value is not None and not math.isfinite(value):
            raise DivergenceError(step, lr, key, value)


def split_metrics(metrics: Mapping[str, object]) -> tuple[dict[str, float], dict[str, object]]:
    """Scalars (numbers, 1-element tensors) -> floats for the history; the rest (numpy previews
    such as a sample grid or the current fit line) is passed to ``on_step`` only."""
    scalars: dict[str, float] = {}
    extras: dict[str, object] = {}
    for key, value in metrics.items():
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            scalars[key] = float(value.detach())
        elif isinstance(value, (int, float, np.floating, np.integer)):
            scalars[key] = float(value)
        else:
            extras[key] = value
    return scalars, extras


def run_steps(
    step_fn: Callable[[int], Mapping[str, object]],
    n_steps: int,
    *,
    on_step: OnStep | None = None,
    lr: float | None = None,
    finite_keys: Sequence[str] = ("loss",),
    report_every: int = 1,
) -> TrainResult:
    """Call ``step_fn(step)`` for step = 1..n_steps; check, record and report its metrics.

    ``step_fn`` does one unit of work (an optimizer step, an epoch, a GAN iteration) and returns
    its metrics. Every step is checked for NaN; every ``report_every``-th step (and the last) is
    recorded in the history (scalars only) and passed to ``on_step`` (scalars plus any previews,
    e.g. numpy arrays), whose truthy return stops the loop. ``on_step`` also receives
    ``total_steps`` so a progress bar needs no other channel.
    """
    result = TrainResult()
    for step in range(1, n_steps + 1):
        scalars, extras = split_metrics(step_fn(step))
        check_finite(scalars, step, lr, finite_keys)
        if step % report_every and step != n_steps:
            continue
        record = {"step": float(step), **scalars}
        result.history.append(record)
        if on_step is not None and on_step(step, {**record, "total_steps": float(n_steps), **extras}):
            result.stopped = True
            break
    return result


def batch_indices(n: int, batch_size: int | None, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """Index tensors for one epoch: shuffled mini-batches, or everything at once if batch_size is None."""
    if batch_size is None or batch_size >= n:
        yield torch.arange(n)
        return
    order = torch.randperm(n, generator=generator)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


def fit(
    model: nn.Module,
    loss_fn: Callable[[nn.Module, tuple[torch.Tensor, ...]], torch.Tensor],
    train_tensors: tuple[torch.Tensor, ...],
    optimizer: torch.optim.Optimizer,
    *,
    epochs: int,
    generator: torch.Generator,
    batch_size: int | None = None,
    on_step: OnStep | None = None,
    evaluate: Callable[[nn.Module], Mapping[str, object]] | None = None,
    report_every: int = 1,
    clip_grad_norm: float | None = None,
) -> TrainResult:
    """Supervised training for ``epochs`` passes over ``train_tensors`` (already on the device).

    A step is one epoch: with ``batch_size=None`` that is one full-batch gradient step, as in the
    tutorial's regression loops; otherwise one pass of shuffled mini-batches. The loss is checked
    for NaN after every optimizer step. ``evaluate(model)`` adds metrics (test loss, accuracy...)
    on reported steps, under ``torch.no_grad`` with the model in eval mode.
    """
    lr = optimizer.param_groups[0]["lr"]
    n = train_tensors[0].shape[0]

    def one_epoch(step: int) -> dict[str, object]:
        model.train()
        total, count = torch.zeros((), device=train_tensors[0].device), 0
        for idx in batch_indices(n, batch_size, generator):
            if len(idx) == n and batch_size is None:
                batch = train_tensors  # full batch: no gather/copy
            else:
                idx = idx.to(train_tensors[0].device)
                batch = tuple(t[idx] for t in train_tensors)
            loss = loss_fn(model, batch)
            if not torch.isfinite(loss):
                raise DivergenceError(step, lr, "loss", float(loss.detach()))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if clip_grad_norm is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
            optimizer.step()
            total = total + loss.detach() * len(idx)
            count += len(idx)
        metrics: dict[str, object] = {"loss": total / count}
        if evaluate is not None and (step % report_every == 0 or step == epochs):
            model.eval()
            with torch.no_grad():
                metrics.update(evaluate(model))
        return metrics

    result = run_steps(one_epoch, epochs, on_step=on_step, lr=lr, report_every=report_every)
    model.eval()
    return result


@contextmanager
def one_cpu_thread(device: torch.device):
    """Train a tiny model on one CPU thread, restoring the old setting afterwards.

    Ops on (16, 20) @ (20, 128)-sized tensors are far too small to split, and with 2 OpenMP
    threads on a busy 2-core machine every op waits for a thread that is not scheduled: measured
    here under load, 100 LSTM epochs took 1.1 s on 1 thread and 52-83 s on 2; 100 N-gram epochs
    1.6 s vs 108 s. torch's thread count is process-wide, so a conv net training at the same time
    runs on one thread for that second or so. GPUs are unaffected.
    """
    if device.type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def history_frame(history: Sequence[Mapping[str, float]]) -> pd.DataFrame:
    """History records -> a DataFrame indexed by step, ready for ``st.line_chart``."""
    frame = pd.DataFrame(list(history))
    return frame.set_index("step") if "step" in frame else frame


def freeze(model: nn.Module) -> nn.Module:
    """eval() + no grads: how cached models are handed to pages, shared by every session."""
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model
