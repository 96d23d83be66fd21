"""Autoencoders on MNIST digits (tutorial 6.1): squeeze a digit into a few numbers and back.

Three models, one face (``encode(x) -> code``, ``decode(code) -> image``):

- ``mlp``: the tutorial's MLP autoencoder, 784-128-64-12-3 with a mirrored decoder and a tanh
  output (the digits are scaled to [-1, 1]); its 3-D code is plotted as is.
- ``conv``: the tutorial's convolutional autoencoder; its code is 8x2x2 = 32 numbers, shown in 3-D
  through PCA (the 3 directions along which the held-out codes vary most).
- ``vae``: the tutorial's variational autoencoder (784-400-latent, Kingma & Welling 2014; Doersch,
  arXiv:1606.05908) with a 3-D latent and the reparameterisation trick z = mu + sigma * eps.

Losses follow the tutorial: summed squared error per image (``MSELoss(size_average=False)`` divided
by the batch size), plus for the VAE the KL divergence to a standard normal,
KL = -1/2 * sum(1 + log sigma^2 - mu^2 - sigma^2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from core.device import get_device, model_device
from core.images import mosaic
from core.mnist import SOURCES, load_digits, to_uint8
from core.projection import pca
from core.training import OnStep, fit, make_optimizer, seed_everything

MODELS: tuple[str, ...] = ("mlp", "conv", "vae")
MODEL_LABELS = {"mlp": "MLP autoencoder", "conv": "Convolutional autoencoder", "vae": "Variational autoencoder"}
# The tutorial trains the conv autoencoder with a little weight decay, the other two without.
WEIGHT_DECAY = {"mlp": 0.0, "conv": 1e-5, "vae": 0.0}
PREVIEW_COUNT = 8  # held-out digits shown (input row + reconstruction row) while training


# --- configuration ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Config:
    model: str = "mlp"  # one of MODELS
    epochs: int = 100  # tutorial: 100 (MLP, VAE) or 40 (conv) epochs, over 60k digits rather than 4k
    lr: float = 1e-3  # tutorial: Adam 1e-3
    batch_size: int = 128  # tutorial value
    source: str = "bundled"  # "bundled": 5,000 digits in assets/mnist_5k.npz; "full": 70k (download)
    test_fraction: float = 0.2  # held-out digits: the 3-D view, k-NN score and test loss use them
    data_seed: int = 0
    seed: int = 0
    version: int = 1  # bump when training code changes, so caches retrain

    def __post_init__(self):
        if self.model not in MODELS:
            raise ValueError(f"Unknown autoencoder {self.model!r}; choose one of {', '.join(MODELS)}")
        if self.source not in SOURCES:
            raise ValueError(f"Unknown MNIST source {self.source!r}; choose one of {', '.join(SOURCES)}")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("Epochs and batch size must be at least 1.")
        if not self.lr > 0:
            raise ValueError(f"The learning rate must be positive (got {self.lr}).")

    @classmethod
    def tiny(cls) -> Config:
        return cls(epochs=2)


# The default of each model ships as a checkpoint (python -m core.make_checkpoints autoencoder), so the
# page opens with a trained model in under a second; training them here takes ~10-40 s each.
BUNDLE_CONFIGS = tuple(Config(model=name) for name in MODELS)


# --- models ----------------------------------------------------------------------------------

class MLPAutoencoder(nn.Module):
    """(B, 1, 28, 28) -> code (B, 3) -> (B, 1, 28, 28) in [-1, 1]."""

    code_dim = 3

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(28 * 28, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                                     nn.Linear(64, 12), nn.ReLU(), nn.Linear(12, 3))
        self.decoder = nn.Sequential(nn.Linear(3, 12), nn.ReLU(), nn.Linear(12, 64), nn.ReLU(),
                                     nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 28 * 28), nn.Tanh())

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x.flatten(1))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z).view(-1, 1, 28, 28)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


class ConvAutoencoder(nn.Module):
    """The tutorial's conv autoencoder; the code is the (B, 8, 2, 2) bottleneck, flattened to (B, 32)."""

    code_dim = 32

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, 3, stride=3, padding=1), nn.ReLU(),  # (B, 16, 10, 10)
            nn.MaxPool2d(2, stride=2),  # (B, 16, 5, 5)
            nn.Conv2d(16, 8, 3, stride=2, padding=1), nn.ReLU(),  # (B, 8, 3, 3)
            nn.MaxPool2d(2, stride=1),  # (B, 8, 2, 2)
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(8, 16, 3, stride=2), nn.ReLU(),  # (B, 16, 5, 5)
            nn.ConvTranspose2d(16, 8, 5, stride=3, padding=1), nn.ReLU(),  # (B, 8, 15, 15)
            nn.ConvTranspose2d(8, 1, 2, stride=2, padding=1), nn.Tanh(),  # (B, 1, 28, 28)
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x).flatten(1)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z.view(-1, 8, 2, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


class VAE(nn.Module):
    """784-400-(mu, log sigma^2) in 3-D; decoder 3-400-784 with tanh. ``encode`` gives mu."""

    code_dim = 3

    def __init__(self, latent: int = 3, hidden: int = 400):
        super().__init__()
        self.fc1 = nn.Linear(28 * 28, hidden)
        self.fc_mu = nn.Linear(hidden, latent)
        self.fc_logvar = nn.Linear(hidden, latent)
        self.fc3 = nn.Linear(latent, hidden)
        self.fc4 = nn.Linear(hidden, 28 * 28)

    def encode_dist(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = F.relu(self.fc1(x.flatten(1)))
        return self.fc_mu(h), self.fc_logvar(h)  # (B, 3) each

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode_dist(x)[0]  # the mean: where the digit sits in the latent space

    def reparameterize(self, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        # z = mu + sigma * eps with eps ~ N(0, I): the randomness is an input, so gradients reach
        # mu and sigma. In eval mode the mean is used, so views and reconstructions are repeatable.
        if not self.training:
            return mu
        return mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.fc4(F.relu(self.fc3(z)))).view(-1, 1, 28, 28)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode_dist(x)
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar


def build_model(cfg: Config) -> nn.Module:
    torch.manual_seed(cfg.seed)
    return {"mlp": MLPAutoencoder, "conv": ConvAutoencoder, "vae": VAE}[cfg.model]()


# --- losses ----------------------------------------------------------------------------------

def reconstruction_loss(recon: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Summed squared error per image, averaged over the batch (the tutorial's loss / batch size)."""
    return F.mse_loss(recon, x, reduction="sum") / x.shape[0]


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, I)) = -1/2 sum(1 + log sigma^2 - mu^2 - sigma^2), per image."""
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / mu.shape[0]


def loss_terms(model: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """{"loss", "recon", "kl"} for a batch x (B, 1, 28, 28); kl is 0 for plain autoencoders."""
    if isinstance(model, VAE):
        recon, mu, logvar = model(x)
        rec, kl = reconstruction_loss(recon, x), kl_divergence(mu, logvar)
        return {"loss": rec + kl, "recon": rec, "kl": kl}
    rec = reconstruction_loss(model(x), x)
    return {"loss": rec, "recon": rec, "kl": torch.zeros((), device=x.device)}


# --- training --------------------------------------------------------------------------------

def train(cfg: Config, *, on_step: OnStep | None = None) -> tuple[nn.Module, list[dict[str, float]]]:
    """Adam on the digits; per epoch: loss (train), test_loss, test_recon, test_kl, and a preview
    (uint8 grid: held-out inputs on top, their reconstructions below) passed to on_step only."""
    device = get_device()
    generator = seed_everything(cfg.seed)
    data = load_digits(cfg.data_seed, cfg.test_fraction, cfg.source)
    model = build_model(cfg).to(device)
    train_x, test_x = data.train_x.to(device), data.test_x.to(device)  # (N, 1, 28, 28), preloaded
    preview_x = test_x[:PREVIEW_COUNT]

    def evaluate(m):
        terms = loss_terms(m, test_x)
        return {"test_loss": terms["loss"], "test_recon": terms["recon"], "test_kl": terms["kl"],
                "preview": comparison_grid(m, preview_x)}

    optimizer = make_optimizer("Adam", model.parameters(), cfg.lr, weight_decay=WEIGHT_DECAY[cfg.model])
    result = fit(model, lambda m, batch: loss_terms(m, batch[0])["loss"], (train_x,), optimizer,
                 epochs=cfg.epochs, generator=generator, batch_size=cfg.batch_size, on_step=on_step,
                 evaluate=evaluate)
    return model, result.history


# --- helpers for the page (numpy in, numpy out) ----------------------------------------------

@torch.no_grad()
def encode(model: nn.Module, images: torch.Tensor, batch_size: int = 1000) -> np.ndarray:
    """Images (N, 1, 28, 28) in [-1, 1] -> codes (N, code_dim) float32 (the VAE's mean)."""
    device = model_device(model)
    chunks = [model.encode(images[i : i + batch_size].to(device)).float().cpu()
              for i in range(0, len(images), batch_size)]
    return torch.cat(chunks).numpy()


@torch.no_grad()
def decode(model: nn.Module, codes: np.ndarray) -> np.ndarray:
    """Codes (K, code_dim) -> uint8 digits (K, 28, 28)."""
    z = torch.as_tensor(np.asarray(codes, dtype=np.float32)).reshape(-1, model.code_dim)
    dtype = next(model.parameters()).dtype
    return to_uint8(model.decode(z.to(model_device(model), dtype)))


def reconstruct(model: nn.Module, images: torch.Tensor) -> np.ndarray:
    """Images (N, 1, 28, 28) -> their reconstructions as uint8 (N, 28, 28)."""
    return decode(model, encode(model, images))


@torch.no_grad()
def comparison_grid(model: nn.Module, images: torch.Tensor) -> np.ndarray:
    """One uint8 mosaic: the N images (N, 1, 28, 28) in the top row, their reconstructions below."""
    recon = model.decode(model.encode(images.to(model_device(model))))  # the VAE decodes its mean
    return mosaic(to_uint8(torch.cat([images.cpu(), recon.float().cpu()])), ncols=len(images))


@dataclass(frozen=True)
class LatentView:
    """Held-out codes seen in 3-D: ``points = (codes - mean) @ axes.T``; ``codes = points @ axes + mean``.

    For 3-D codes the axes are the identity (what you see is the code itself); for the conv
    autoencoder's 32-D codes they are the top 3 principal directions (PCA).
    """

    points: np.ndarray  # (N, 3) held-out digits in the view
    labels: np.ndarray  # (N,) their digit classes
    mean: np.ndarray  # (D,)
    axes: np.ndarray  # (3, D), orthonormal rows
    explained: float  # share of the codes' variance the 3 axes keep (1.0 for 3-D codes)

    def to_codes(self, points: np.ndarray) -> np.ndarray:
        return np.asarray(points, dtype=np.float32).reshape(-1, 3) @ self.axes + self.mean

    def project(self, codes: np.ndarray) -> np.ndarray:
        return (np.asarray(codes, dtype=np.float32).reshape(-1, self.axes.shape[1]) - self.mean) @ self.axes.T

    def ranges(self) -> list[tuple[float, float]]:
        """(min, max) of each view axis over the held-out digits: the latent sliders' ranges."""
        return [(float(lo), float(hi)) for lo, hi in zip(self.points.min(0), self.points.max(0))]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"x": self.points[:, 0], "y": self.points[:, 1], "z": self.points[:, 2],
                             "digit": self.labels.astype(int)})


def latent_view(model: nn.Module, images: torch.Tensor, labels: torch.Tensor | np.ndarray) -> LatentView:
    codes = encode(model, images)  # (N, D)
    view = pca(codes, 3)  # 3-D codes: the identity, the view is the code itself
    return LatentView(view.points.astype(np.float32), np.asarray(labels), view.mean.astype(np.float32),
                      view.axes.astype(np.float32), view.explained)


def decode_points(model: nn.Module, view: LatentView, points: np.ndarray) -> np.ndarray:
    """Points in the 3-D view (K, 3) -> decoded digits uint8 (K, 28, 28)."""
    return decode(model, view.to_codes(points))


def random_digits(model: nn.Module, view: LatentView, n: int = 8, seed: int = 0) -> np.ndarray:
    """Decode n random codes, uint8 (n, 28, 28). The VAE draws z ~ N(0, I), the prior its KL term
    trained the codes towards; a plain autoencoder has no prior, so its codes are drawn uniformly from
    the box its held-out codes span (in the 3-D view)."""
    rng = np.random.default_rng(seed)
    if isinstance(model, VAE):
        return decode(model, rng.standard_normal((n, model.code_dim)).astype(np.float32))
    lows, highs = np.array(view.ranges()).T
    return decode_points(model, view, rng.uniform(lows, highs, (n, 3)).astype(np.float32))


def neighbour_digits(view: LatentView, point: np.ndarray, k: int = 15) -> dict[int, float]:
    """Which digits live around ``point`` in the view: {digit: share of its k nearest held-out codes}."""
    dist = np.linalg.norm(view.points - np.asarray(point, dtype=np.float32).reshape(1, 3), axis=1)
    near = view.labels[np.argsort(dist)[:k]]
    digits, counts = np.unique(near, return_counts=True)
    order = np.argsort(-counts)
    return {int(digits[i]): float(counts[i] / len(near)) for i in order}


def interpolate(model: nn.Module, a: torch.Tensor, b: torch.Tensor, steps: int = 9) -> np.ndarray:
    """Decode evenly spaced codes on the straight line from code(a) to code(b): uint8 (steps, 28, 28)."""
    if steps < 2:
        raise ValueError("An interpolation needs at least 2 steps.")
    ca, cb = encode(model, torch.cat([a.reshape(1, 1, 28, 28), b.reshape(1, 1, 28, 28)]))
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    return decode(model, (1 - t) * ca + t * cb)


def knn_accuracy(train_codes: np.ndarray, train_labels, test_codes: np.ndarray, test_labels, k: int = 5) -> float:
    """Share of held-out digits whose k nearest training codes mostly carry the same label (chance: 0.1)."""
    train_labels, test_labels = np.asarray(train_labels), np.asarray(test_labels)
    train_t, test_t = torch.as_tensor(train_codes, dtype=torch.float32), torch.as_tensor(test_codes, dtype=torch.float32)
    # in chunks of held-out rows: full MNIST would need a 14,000 x 56,000 distance matrix (3 GB) at once
    nearest = torch.cat([torch.cdist(test_t[i : i + 1000], train_t).topk(k, largest=False).indices
                         for i in range(0, len(test_t), 1000)]).numpy()  # (N_test, k)
    votes = np.zeros((len(test_codes), 10))
    np.add.at(votes, (np.arange(len(test_codes))[:, None], train_labels[nearest]), 1.0)
    return float((votes.argmax(1) == test_labels).mean())


def code_separation(model: nn.Module, cfg: Config, k: int = 5) -> float:
    """k-NN accuracy of the held-out digits' codes (in the model's full code space)."""
    data = load_digits(cfg.data_seed, cfg.test_fraction, cfg.source)
    return knn_accuracy(encode(model, data.train_x), data.train_y, encode(model, data.test_x), data.test_y, k)
