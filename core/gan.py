"""Generative adversarial networks on MNIST digits (tutorial 6.2; Goodfellow et al. 2014).

A generator G turns noise z ~ U(-1, 1)^96 into a 28x28 digit; a discriminator D scores digits as
real or fake. They take turns: D learns to tell real from fake, then G learns to fool the new D.
Three variants from the tutorial, picked by ``Config.kind``:

- ``"gan"``:   MLP G (96-1024-1024-784, tanh) and MLP D (784-256-256-1), binary cross-entropy.
- ``"lsgan"``: the same networks with the least-squares losses of Mao et al. 2016.
- ``"dcgan"``: a transposed-conv G and a conv D (Radford et al. 2015), binary cross-entropy.

All use Adam (lr 3e-4, betas (0.5, 0.999)) and batches of 128, the tutorial's values. One training
step is one generator update, preceded by ``d_steps`` discriminator updates.

The trained model keeps the generator only (the discriminator is thrown away after training: it is
not needed to sample, and it would double the checkpoint), plus a ``film`` buffer: the fixed-noise
sample tiles taken every ``preview_every`` steps, so the page can scrub through training afterwards,
also after a reload from a checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from core.device import get_device, model_device
from core.digits import N_JUDGED, judge
from core.images import mosaic
from core.mnist import load_digits, to_uint8
from core.training import OnStep, batch_indices, history_frame, make_optimizer, run_steps, seed_everything

KINDS: tuple[str, ...] = ("gan", "lsgan", "dcgan")
KIND_LABELS = {"gan": "MLP GAN (BCE loss)", "lsgan": "Least-squares GAN (MLP)", "dcgan": "DCGAN (convolutional)"}
# Default generator updates per kind: what trains in about a minute on 2 CPU cores (the MLP GANs run
# ~50 it/s there, DCGAN ~3 it/s) and already gives recognisable digits.
DEFAULT_ITERATIONS = {"gan": 2500, "lsgan": 2500, "dcgan": 250}
PREVIEW_COUNT = 64  # fixed-noise samples in each preview (an 8x8 grid)


class GANConfigError(ValueError):
    """A setting that cannot work, explained for the student."""


# --- configuration --------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    kind: str = "dcgan"  # "gan" (MLP, BCE), "lsgan" (MLP, least squares) or "dcgan" (conv, BCE)
    iterations: int = DEFAULT_ITERATIONS["dcgan"]  # generator updates
    batch_size: int = 128  # tutorial value
    d_steps: int = 1  # discriminator updates per generator update (tutorial: 1)
    noise_dim: int = 96  # tutorial value
    lr: float = 3e-4  # tutorial value, both networks
    beta1: float = 0.5  # tutorial value (Adam's default 0.9 makes GANs oscillate)
    preview_every: int = 10  # iterations between fixed-noise snapshots (the film strip)
    data_seed: int = 0  # which train/held-out split of the bundled digits
    seed: int = 0
    version: int = 1  # bump when training code changes, so caches retrain

    @classmethod
    def tiny(cls, kind: str = "gan") -> Config:
        return cls(kind=kind, iterations=6, batch_size=32, preview_every=2)

    @classmethod
    def default(cls, kind: str) -> Config:
        """The page's default for each kind: 25 film frames (plus the untrained one) over its iterations."""
        check_kind(kind)
        its = DEFAULT_ITERATIONS[kind]
        return cls(kind=kind, iterations=its, preview_every=max(1, its // 25))


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise GANConfigError(f"Unknown GAN kind {kind!r}; choose one of {', '.join(KINDS)}.")


def validate(cfg: Config) -> None:
    check_kind(cfg.kind)
    for name in ("iterations", "batch_size", "d_steps", "noise_dim", "preview_every"):
        if getattr(cfg, name) < 1:
            raise GANConfigError(f"{name} must be at least 1 (got {getattr(cfg, name)}).")
    if not 0 < cfg.lr < 1:
        raise GANConfigError(f"The learning rate must be between 0 and 1 (got {cfg.lr:g}).")


# Shipped in assets/checkpoints (fp16), regenerated with `python -m core.make_checkpoints gan`. Only
# the page's default (DCGAN) is: its generator alone is 6.5 M weights (13 MB in fp16); the MLP GANs
# train in about a minute.
BUNDLE_CONFIGS = (Config.default("dcgan"),)


# --- networks -------------------------------------------------------------------------------


def mlp_generator(noise_dim: int) -> nn.Module:
    """(B, noise_dim) -> (B, 1, 28, 28) in [-1, 1]."""
    return nn.Sequential(
        nn.Linear(noise_dim, 1024), nn.ReLU(),
        nn.Linear(1024, 1024), nn.ReLU(),
        nn.Linear(1024, 784), nn.Tanh(),
        nn.Unflatten(1, (1, 28, 28)),
    )


def mlp_discriminator() -> nn.Module:
    """(B, 1, 28, 28) -> (B, 1) raw scores (logits for BCE, plain scores for least squares)."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 256), nn.LeakyReLU(0.2),
        nn.Linear(256, 256), nn.LeakyReLU(0.2),
        nn.Linear(256, 1),
    )


class DCGenerator(nn.Module):
    """(B, noise_dim) -> (B, 1, 28, 28): fc to a 128x7x7 block, then two stride-2 transposed convs."""

    def __init__(self, noise_dim: int):
        super().__init__()
        # the tutorial puts BatchNorm after each ReLU; kept as is
        self.fc = nn.Sequential(
            nn.Linear(noise_dim, 1024), nn.ReLU(), nn.BatchNorm1d(1024),
            nn.Linear(1024, 7 * 7 * 128), nn.ReLU(), nn.BatchNorm1d(7 * 7 * 128),
        )
        self.conv = nn.Sequential(
            nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1), nn.ReLU(), nn.BatchNorm2d(64),  # (B,64,14,14)
            nn.ConvTranspose2d(64, 1, 4, stride=2, padding=1), nn.Tanh(),  # (B,1,28,28)
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.conv(self.fc(z).view(-1, 128, 7, 7))


def dc_discriminator() -> nn.Module:
    """(B, 1, 28, 28) -> (B, 1): two 5x5 conv + max-pool blocks, then 1024-1024-1."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 5), nn.LeakyReLU(0.01), nn.MaxPool2d(2),  # (B,32,12,12)
        nn.Conv2d(32, 64, 5), nn.LeakyReLU(0.01), nn.MaxPool2d(2),  # (B,64,4,4)
        nn.Flatten(),
        nn.Linear(64 * 4 * 4, 1024), nn.LeakyReLU(0.01),
        nn.Linear(1024, 1),
    )


def build_discriminator(cfg: Config) -> nn.Module:
    return dc_discriminator() if cfg.kind == "dcgan" else mlp_discriminator()


class Generator(nn.Module):
    """The trained result: the generator network plus the film of fixed-noise snapshots.

    Buffers (saved with the weights, so a checkpoint carries the film):
    - ``film``: (frames, 64, 28, 28) uint8 sample tiles; frame 0 is before training
    - ``film_steps``: (frames,) int64 iteration of each frame, -1 where not (yet) filled
    - ``fixed_noise``: (64, noise_dim) the noise behind every preview
    """

    def __init__(self, cfg: Config):
        super().__init__()
        self.kind, self.noise_dim = cfg.kind, cfg.noise_dim
        self.net = DCGenerator(cfg.noise_dim) if cfg.kind == "dcgan" else mlp_generator(cfg.noise_dim)
        frames = cfg.iterations // cfg.preview_every + 1
        self.register_buffer("film", torch.zeros(frames, PREVIEW_COUNT, 28, 28, dtype=torch.uint8))
        self.register_buffer("film_steps", torch.full((frames,), -1, dtype=torch.int64))
        self.register_buffer("fixed_noise", sample_noise(PREVIEW_COUNT, cfg.noise_dim, seed=cfg.seed + 1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


def build_model(cfg: Config) -> Generator:
    validate(cfg)
    torch.manual_seed(cfg.seed)
    return Generator(cfg)


def sample_noise(n: int, noise_dim: int, seed: int | None = None, generator: torch.Generator | None = None,
                 device: torch.device | str = "cpu") -> torch.Tensor:
    """(n, noise_dim) uniform in [-1, 1], as the tutorial samples it; reproducible from ``seed``."""
    if generator is None:
        generator = torch.Generator().manual_seed(int(seed or 0))
    return (torch.rand(n, noise_dim, generator=generator) * 2 - 1).to(device)


# --- losses -------------------------------------------------------------------------------------


def discriminator_loss(kind: str, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """BCE: real -> 1, fake -> 0. Least squares: 1/2 E[(D(x)-1)^2] + 1/2 E[D(G(z))^2]."""
    if kind == "lsgan":
        return 0.5 * ((real_scores - 1) ** 2).mean() + 0.5 * (fake_scores ** 2).mean()
    return (F.binary_cross_entropy_with_logits(real_scores, torch.ones_like(real_scores))
            + F.binary_cross_entropy_with_logits(fake_scores, torch.zeros_like(fake_scores)))


def generator_loss(kind: str, fake_scores: torch.Tensor) -> torch.Tensor:
    """G wants its fakes called real: BCE against 1 (the non-saturating loss), or 1/2 E[(D(G(z))-1)^2]."""
    if kind == "lsgan":
        return 0.5 * ((fake_scores - 1) ** 2).mean()
    return F.binary_cross_entropy_with_logits(fake_scores, torch.ones_like(fake_scores))


# --- training -----------------------------------------------------------------------------------


@torch.no_grad()
def _snapshot(model: Generator) -> np.ndarray:
    """The fixed-noise samples as uint8 tiles (64, 28, 28), drawn in eval mode (BatchNorm's running
    statistics, as sampling later will be)."""
    was_training = model.training
    model.eval()
    tiles = to_uint8(model(model.fixed_noise))
    model.train(was_training)
    return tiles


def train(cfg: Config, *, on_step: OnStep | None = None) -> tuple[Generator, list[dict[str, float]]]:
    """Alternate D and G updates for ``cfg.iterations`` generator steps.

    Metrics every step: d_loss, g_loss (floats, in the history), plus ``samples``: a uint8 8x8 grid
    of the fixed-noise samples, refreshed every ``preview_every`` steps, for the live preview (kept
    out of the history; the same tiles are stored in ``model.film``).
    """
    validate(cfg)
    device = get_device()
    order_gen = seed_everything(cfg.seed)
    noise_gen = torch.Generator().manual_seed(cfg.seed + 2)
    real = load_digits(cfg.data_seed).train_x.to(device)  # (N, 1, 28, 28) in [-1, 1]
    if cfg.batch_size > len(real):
        raise GANConfigError(f"Batch size {cfg.batch_size} is larger than the {len(real)} training digits.")
    model = build_model(cfg).to(device)
    gen = model.net
    disc = build_discriminator(cfg).to(device)
    opt_g = make_optimizer("Adam", gen.parameters(), cfg.lr, betas=(cfg.beta1, 0.999))
    opt_d = make_optimizer("Adam", disc.parameters(), cfg.lr, betas=(cfg.beta1, 0.999))
    model.train()
    disc.train()

    def real_batches():  # endless shuffled passes over the training digits
        while True:
            for idx in batch_indices(len(real), cfg.batch_size, order_gen):
                yield real[idx.to(device)]

    batches = real_batches()
    frame = 0
    tiles = _snapshot(model)
    model.film[0] = torch.from_numpy(tiles).to(device)
    model.film_steps[0] = 0
    preview = mosaic(tiles)  # (H, W) uint8

    def step(it: int) -> dict[str, object]:
        nonlocal frame, preview
        for _ in range(cfg.d_steps):
            x = next(batches)
            z = sample_noise(len(x), cfg.noise_dim, generator=noise_gen, device=device)
            fake = gen(z)
            # real and fake through D in one batch (D has no BatchNorm, so this equals two passes)
            scores = disc(torch.cat([x, fake.detach()]))
            d_loss = discriminator_loss(cfg.kind, scores[: len(x)], scores[len(x):])
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
        # G step on the last fakes: reuses their forward pass (the tutorial recomputes it)
        g_loss = generator_loss(cfg.kind, disc(fake))
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        if it % cfg.preview_every == 0 and frame + 1 < len(model.film):
            frame += 1
            tiles = _snapshot(model)
            model.film[frame] = torch.from_numpy(tiles).to(device)
            model.film_steps[frame] = it
            preview = mosaic(tiles)
        return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach(), "samples": preview}

    result = run_steps(step, cfg.iterations, on_step=on_step, lr=cfg.lr, finite_keys=("d_loss", "g_loss"))
    model.eval()
    return model, result.history


# --- sampling helpers (numpy out, for the page) ----------------------------------------------


def film_frames(model: Generator) -> tuple[np.ndarray, np.ndarray]:
    """The snapshots taken during training: (steps (F,), tiles (F, 64, 28, 28) uint8).

    A stopped training has fewer frames than planned; unfilled ones are left out."""
    steps = model.film_steps.detach().cpu().numpy()
    keep = steps >= 0
    return steps[keep], model.film.detach().cpu().numpy()[keep]


@torch.no_grad()
def generate(model: Generator, n: int, seed: int) -> torch.Tensor:
    """(n, 1, 28, 28) samples in [-1, 1] from the noise of ``seed`` (same seed, same digits)."""
    if n < 1:
        raise GANConfigError("Ask for at least one sample.")
    device = model_device(model)
    model.eval()
    z = sample_noise(n, model.noise_dim, seed=seed, device=device)
    return model(z).cpu()


def sample_grid(model: Generator, seed: int, n: int = 64, ncols: int = 8) -> np.ndarray:
    """uint8 mosaic of ``n`` samples for ``seed``."""
    return mosaic(to_uint8(generate(model, n, seed)), ncols=ncols)


@torch.no_grad()
def interpolate(model: Generator, seed_a: int, seed_b: int, steps: int = 10, rows: int = 4) -> np.ndarray:
    """uint8 mosaic: each row walks in a straight line from noise of ``seed_a`` to noise of
    ``seed_b`` (``rows`` pairs of noise vectors per seed pair). Smooth morphs mean G learnt a
    continuous map from noise to digits rather than memorising a few images."""
    if steps < 2:
        raise GANConfigError("An interpolation needs at least 2 steps.")
    device = model_device(model)
    model.eval()
    za = sample_noise(rows, model.noise_dim, seed=seed_a, device=device)  # (rows, D)
    zb = sample_noise(rows, model.noise_dim, seed=seed_b, device=device)
    t = torch.linspace(0, 1, steps, device=device).view(1, steps, 1)
    z = (za.unsqueeze(1) * (1 - t) + zb.unsqueeze(1) * t).reshape(rows * steps, -1)  # (rows*steps, D)
    return mosaic(to_uint8(model(z)), ncols=steps)


def real_grid(n: int = 64, seed: int = 0, data_seed: int = 0, ncols: int = 8) -> np.ndarray:
    """uint8 mosaic of ``n`` held-out real digits, for the side-by-side comparison."""
    test_x = load_digits(data_seed).test_x
    idx = torch.randperm(len(test_x), generator=torch.Generator().manual_seed(seed))[:n]
    return mosaic(to_uint8(test_x[idx]), ncols=ncols)


def judge_generator(model: Generator, classifier: nn.Module, n: int = N_JUDGED, seed: int = 12345):
    """core.digits.judge on ``n`` fresh samples of ``model`` (the page's quality meter)."""
    return judge(classifier, generate(model, n, seed))


def loss_frame(history: list[dict[str, float]], window: int = 25) -> pd.DataFrame:
    """History -> DataFrame of d_loss, g_loss by step, smoothed by a rolling mean (single
    iterations are very noisy: each sees one random batch of real digits and of noise)."""
    frame = history_frame(history)
    if frame.empty or frame.index.name != "step":
        return pd.DataFrame(columns=["d_loss", "g_loss"])
    return frame[["d_loss", "g_loss"]].rolling(max(1, window), min_periods=1).mean()


def chance_losses(kind: str) -> dict[str, float]:
    """The losses when D can only guess (D(x) = 1/2 as a probability, or score 1/2 for least
    squares): where the curves hover if neither network is winning."""
    check_kind(kind)
    if kind == "lsgan":
        return {"d_loss": 0.25, "g_loss": 0.125}
    return {"d_loss": float(2 * np.log(2)), "g_loss": float(np.log(2))}


def film_strip(model: Generator, samples: int = 8, frames: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """uint8 mosaic: row i = fixed-noise sample i, columns = ``frames`` snapshots evenly spread over
    training (left: before training, right: the end). Returns (steps of the columns, mosaic)."""
    steps, tiles = film_frames(model)  # (F,), (F, 64, 28, 28)
    pick = np.unique(np.linspace(0, len(steps) - 1, min(frames, len(steps))).round().astype(int))
    chosen = tiles[pick][:, :samples]  # (C, S, 28, 28)
    ordered = chosen.transpose(1, 0, 2, 3).reshape(-1, 28, 28)  # row-major: sample by sample
    return steps[pick], mosaic(ordered, ncols=len(pick))
