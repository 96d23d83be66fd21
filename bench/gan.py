"""GAN speed against the tutorial's own loops (6.2), on the same 4,000 bundled MNIST digits.

Baseline: a straightforward port of the tutorial's ``train_a_gan`` / ``train_dc_gan`` (``.cuda()``
dropped): a DataLoader with the tutorial's per-image transform (ToTensor, then (x - 0.5) / 0.5),
real and fake through D in two passes, the generator run twice per iteration, no ``detach``.
Ours: ``core.gan.train`` with the same networks, losses, Adam settings and batch size 128 (tensors
preloaded, one G forward per iteration reused for the G step, real+fake in one D pass, snapshots
for the film strip included).

Measures (ratio = how many times faster or better ours is, > 1 = ours faster; see
bench.common.speedup):
- iterations per second;
- time to the tutorial's final loss: the baseline's D loss (rolling mean over a twentieth of the
  run) at its last iteration is the target; for each run, the wall time at which its rolling mean
  first reaches that level (GAN losses are a tug of war, not a descent: the level may be passed
  early, on the way to the balance the two networks settle into);
- the digits-CNN classifier score of both generators after the same number of iterations (equal
  quality check, not a speed).

    .venv/bin/python -m bench.gan            # full (a few minutes on 2 CPU cores)
    .venv/bin/python -m bench.gan --quick    # a smoke run
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch
from torch import nn

from bench.common import row, verdict
from bench.tutorial_data import TutorialDigits
from core import digits, gan
from core.checkpoints import load_or_train
from core.mnist import load_digits

BATCH = 128
NOISE = 96


# --- the tutorial's loop, ported ---------------------------------------------------------------


def tutorial_nets(kind: str) -> tuple[nn.Module, nn.Module]:
    if kind == "dcgan":  # the tutorial's conv nets are exactly core.gan's
        return gan.dc_discriminator(), gan.DCGenerator(NOISE)
    d = nn.Sequential(nn.Linear(784, 256), nn.LeakyReLU(0.2), nn.Linear(256, 256), nn.LeakyReLU(0.2),
                      nn.Linear(256, 1))
    g = nn.Sequential(nn.Linear(NOISE, 1024), nn.ReLU(True), nn.Linear(1024, 1024), nn.ReLU(True),
                      nn.Linear(1024, 784), nn.Tanh())
    return d, g


def tutorial_loop(kind: str, iterations: int, seed: int = 0):
    """Returns (generator, d_losses, wall time after each iteration)."""
    torch.manual_seed(seed)
    d_net, g_net = tutorial_nets(kind)
    bce = nn.BCEWithLogitsLoss()
    d_opt = torch.optim.Adam(d_net.parameters(), lr=3e-4, betas=(0.5, 0.999))
    g_opt = torch.optim.Adam(g_net.parameters(), lr=3e-4, betas=(0.5, 0.999))
    loader = torch.utils.data.DataLoader(TutorialDigits(load_digits(0).train_x), batch_size=BATCH)
    losses, times, it = [], [], 0
    start = time.perf_counter()
    while it < iterations:
        for x, _ in loader:
            bs = x.shape[0]
            real = x if kind == "dcgan" else x.view(bs, -1)
            logits_real = d_net(real)
            noise = (torch.rand(bs, NOISE) - 0.5) / 0.5
            logits_fake = d_net(g_net(noise))
            d_err = bce(logits_real, torch.ones(bs, 1)) + bce(logits_fake, torch.zeros(bs, 1))
            d_opt.zero_grad()
            d_err.backward()
            d_opt.step()
            g_err = bce(d_net(g_net(noise)), torch.ones(bs, 1))
            g_opt.zero_grad()
            g_err.backward()
            g_opt.step()
            losses.append(d_err.item())
            times.append(time.perf_counter() - start)
            it += 1
            if it >= iterations:
                break
    if kind != "dcgan":  # give it our sampling interface: (B, 784) -> (B, 1, 28, 28)
        g_net = nn.Sequential(g_net, nn.Unflatten(1, (1, 28, 28)))
    return g_net, np.array(losses), np.array(times)


def ours(kind: str, iterations: int, seed: int = 0):
    cfg = gan.Config(kind=kind, iterations=iterations, batch_size=BATCH, preview_every=max(1, iterations // 25),
                     seed=seed)
    losses, times = [], []
    start = time.perf_counter()

    def on_step(step, metrics):
        losses.append(metrics["d_loss"])
        times.append(time.perf_counter() - start)

    model, _ = gan.train(cfg, on_step=on_step)
    return model, np.array(losses), np.array(times)


# --- measures ----------------------------------------------------------------------------------


def rolling(values: np.ndarray, window: int) -> np.ndarray:
    kernel = np.ones(window) / window
    return np.convolve(values, kernel, mode="valid")  # element i = mean of values[i : i + window]


def time_to(values: np.ndarray, times: np.ndarray, target: float, window: int) -> float:
    """Wall time at which the rolling mean of ``values`` first reaches ``target`` from the side it
    started on (GAN losses wander, so "reaching the final loss" means first crossing that level)."""
    smooth = rolling(values, window)
    side = np.sign(smooth[0] - target)
    hits = np.nonzero(np.sign(smooth - target) != side)[0]
    return float(times[hits[0] + window - 1]) if len(hits) else float("nan")


def score(generator: nn.Module, judge: nn.Module) -> float:
    generator.eval()
    with torch.no_grad():
        z = gan.sample_noise(500, NOISE, seed=12345)
        return digits.judge(judge, generator(z))["score"]


def run(quick: bool = False) -> list[dict]:
    judge, _, _ = load_or_train(digits.Config(), digits.build_model, digits.train)
    rows = []
    for kind, iterations in (("gan", 100 if quick else 1000), ("dcgan", 12 if quick else 100)):
        label = gan.KIND_LABELS[kind]
        g_base, loss_base, t_base = tutorial_loop(kind, iterations)
        g_ours, loss_ours, t_ours = ours(kind, iterations)
        window = max(2, iterations // 20)
        target = float(rolling(loss_base, window)[-1])
        ips_base, ips_ours = iterations / t_base[-1], iterations / t_ours[-1]
        tt_base = time_to(loss_base, t_base, target, window)
        tt_ours = time_to(loss_ours, t_ours, target, window)
        note = f"{kind}, batch {BATCH}, {iterations} iterations, {torch.get_num_threads()} threads"
        rows.append(row("GAN", f"{label}: iterations/s", ips_ours, ips_base, unit="it/s", note=note))
        rows.append(row("GAN", f"{label}: time to the tutorial's final D loss ({target:.3f})", tt_ours, tt_base,
                        note=note + "; first crossing of the rolling mean"))
        s_base, s_ours = score(g_base, judge), score(g_ours, judge)
        rows.append(row("GAN", f"{label}: classifier score after {iterations} iterations", s_ours, s_base,
                        unit="score", note="same work, same quality expected: a check, not a speed"))
    return rows


if __name__ == "__main__":
    for r in run(quick="--quick" in sys.argv):
        base = f"{r['baseline']:.3g}" if r["baseline"] is not None else "-"
        print(f"{r['measure']}: ours {r['ours']:.3g} vs tutorial {base} {r['unit']} -> {verdict(r)}  ({r['note']})")
