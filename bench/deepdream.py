"""Deep Dream speed: our gradient-ascent step against a straightforward port of the tutorial's
``dd_helper`` loop (7.2), same model (EfficientNet-Lite0), same layer (blocks.11), same image size.

The tutorial's loop, ported as written: the network is used as loaded (weights still require
grad, so every backward also computes all weight gradients), the input is run through the modules
one by one up to the layer, ``loss = out.norm()``, ``loss.backward()``, ``x += lr * grad`` (and, as
in the tutorial, the input's gradient is never zeroed, so it accumulates).

Ours (core.deepdream.ascent_step): frozen weights (``torch.autograd.grad`` w.r.t. the image only),
the forward stops at the layer (hooks), plus a random roll (jitter), a normalised step and a clamp.

    python -m bench.deepdream [--quick]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import row, verdict  # noqa: E402

PAGE = "Deep Dream"
LAYER_BLOCK = 11


def _tutorial_modules(backbone) -> list[torch.nn.Module]:
    """The tutorial's ``modulelist``: the network's top-level stages in forward order, up to the layer."""
    from core import pretrained

    unfrozen = pretrained.load_lite0().model  # a second copy: the tutorial never freezes its VGG
    for p in unfrozen.parameters():
        p.requires_grad_(True)
    return [unfrozen.stem, *list(unfrozen.blocks)[: LAYER_BLOCK + 1]]


def tutorial_dd_helper(modules, image: torch.Tensor, iterations: int, lr: float) -> torch.Tensor:
    """The tutorial's dd_helper, in today's PyTorch (Variable -> requires_grad)."""
    x = image.clone().requires_grad_(True)
    for module in modules:
        module.zero_grad()
    for _ in range(iterations):
        out = x
        for module in modules:
            out = module(out)
        loss = out.norm()
        loss.backward()
        x.data = x.data + lr * x.grad.data
    return x.detach()


def _split_ours(backbone, x, cfg, n: int) -> tuple[float, float]:
    """Seconds per iteration spent in the forward and in the backward of our step."""
    fwd = bwd = 0.0
    for _ in range(n):
        xi = x.clone().requires_grad_(True)
        t0 = time.perf_counter()
        act = backbone.activations(xi, [cfg.layer])[cfg.layer]
        loss = act.pow(2).mean()
        t1 = time.perf_counter()
        torch.autograd.grad(loss, xi)
        t2 = time.perf_counter()
        fwd, bwd = fwd + t1 - t0, bwd + t2 - t1
    return fwd / n, bwd / n


def _split_tutorial(modules, x, n: int) -> tuple[float, float]:
    fwd = bwd = 0.0
    xi = x.clone().requires_grad_(True)
    for _ in range(n):
        t0 = time.perf_counter()
        out = xi
        for module in modules:
            out = module(out)
        loss = out.norm()
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        fwd, bwd = fwd + t1 - t0, bwd + t2 - t1
    return fwd / n, bwd / n


def run(quick: bool = False) -> list[dict]:
    from core import deepdream, pretrained
    from core.images import sample_image

    backbone = pretrained.load_lite0()
    cfg = deepdream.Config()
    cat = sample_image("chelsea")
    size = deepdream.octave_sizes(*cat.shape[:2], cfg)[-1]  # the default's largest octave, 512x341
    if quick:
        size = (size[0] // 2, size[1] // 2)
    x = backbone.preprocess(cat, size)
    modules = _tutorial_modules(backbone)
    low, high = backbone.input_range()
    generator = torch.Generator().manual_seed(0)
    iters, rounds = (3, 2) if quick else (5, 3)

    # warm up both (first calls allocate)
    deepdream.ascent_step(backbone, x.clone(), cfg, generator, low, high)
    tutorial_dd_helper(modules, x, 1, 0.2)
    ours, base = [], []
    for _ in range(rounds):  # interleaved, so a busy neighbour on a shared machine hits both alike
        img = x.clone()
        start = time.perf_counter()
        for _ in range(iters):
            deepdream.ascent_step(backbone, img, cfg, generator, low, high)
        ours.append((time.perf_counter() - start) / iters)
        start = time.perf_counter()
        tutorial_dd_helper(modules, x, iters, 0.2)
        base.append((time.perf_counter() - start) / iters)
    ours_ms, base_ms = statistics.median(ours) * 1e3, statistics.median(base) * 1e3
    of, ob = _split_ours(backbone, x, cfg, iters)
    tf, tb = _split_tutorial(modules, x, iters)
    label = f"{size[1]}×{size[0]} px, Lite0 {cfg.layer}"
    rows = [
        row(PAGE, f"time per gradient step ({label})", ours_ms, base_ms, unit="ms",
            note=f"threads={torch.get_num_threads()}; median of {rounds} rounds × {iters} steps, interleaved"),
        row(PAGE, "  forward to the layer", of * 1e3, tf * 1e3, unit="ms",
            note="same work in both: the forward stops at blocks.11 (hooks vs the tutorial's module loop)"),
        row(PAGE, "  backward", ob * 1e3, tb * 1e3, unit="ms",
            note="ours: image gradient only (frozen weights); tutorial: also every weight gradient"),
    ]
    if not quick:  # the page's default, end to end (4 octaves x 10 steps, then back to full size)
        seen = []
        start = time.perf_counter()
        result = deepdream.dream(backbone, cat, cfg, on_step=lambda s, m: seen.append(time.perf_counter()))
        total = time.perf_counter() - start
        rows.append(row(PAGE, f"default dream end to end ({cfg.octaves} octaves × {cfg.iterations} steps, "
                              f"{cfg.longest_side} px)", total, None, unit="s",
                        note=f"{len(result.history)} steps, first progress after {seen[0] - start:.2f} s; "
                             "the target is < 20 s on 2 CPU cores"))
    return rows


if __name__ == "__main__":
    for r in run(quick="--quick" in sys.argv):
        base = f"{r['baseline']:.1f}" if r["baseline"] is not None else "–"
        print(f"{r['measure']:<60} ours {r['ours']:8.1f} {r['unit']:<3} baseline {base:>8} {verdict(r):>14}  {r['note']}")
