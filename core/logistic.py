"""Logistic regression and small MLPs on 2-D points: the decision boundary, drawn.

Tutorial 3.3: P(y=1|x) = σ(w·x + b), trained with binary cross-entropy; the boundary is the line
w1·x1 + w2·x2 + b = 0. Tutorial 3.4: stacking hidden layers with a non-linear activation lets the
boundary bend, which a single linear layer can never do (circles, XOR, spirals).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from sklearn import datasets as skdatasets
from torch import nn
from torch.nn import functional as F

from core import points
from core.device import get_device, model_device
from core.training import OnStep, fit, make_optimizer, one_cpu_thread, seed_everything

DATASETS = ("exam", "moons", "circles", "xor", "spiral", "blobs")
ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU}


@dataclass(frozen=True)
class Config:
    dataset: str = "moons"
    n_samples: int = 200  # the exam set always has the tutorial's 100 students
    noise: float = 0.2  # meaning depends on the set: label noise for exam, jitter for the rest
    test_fraction: float = 0.3
    model: str = "mlp"  # "logistic" (one linear layer + sigmoid) or "mlp"
    hidden_layers: int = 1  # 1-4
    hidden_units: int = 8  # 1-32 per hidden layer
    activation: str = "tanh"
    weight_decay: float = 0.0  # L2 penalty, as the optimiser's weight_decay
    optimizer: str = "Adam"
    lr: float = 0.05
    epochs: int = 300
    batch_size: int | None = None  # None: full batch
    points: tuple[tuple[float, float, float, float], ...] = ()  # hand-placed (x1, x2, class, is_test) rows
    data_seed: int = 0
    seed: int = 0
    version: int = 1

    @classmethod
    def tiny(cls) -> Config:
        return cls(n_samples=60, epochs=20)


@dataclass(frozen=True)
class Data:
    x_train: np.ndarray  # (n, 2) float64, raw units (exam scores 30-100, or the toy sets' units)
    y_train: np.ndarray  # (n,) 0/1
    x_test: np.ndarray
    y_test: np.ndarray
    mean: np.ndarray  # standardisation fitted on the training points only
    std: np.ndarray


# --------------------------------------------------------------------------- data

def _exam_scores(rng: np.random.Generator, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """100 students, two exam scores in 30-100; admitted when the (noisy) sum clears 130.

    In the spirit of the tutorial's data set: mostly separable by a straight line, with a few
    borderline students. ``noise`` is the std of the admission score's noise, in tens of points.
    """
    x = rng.uniform(30, 100, size=(100, 2))
    score = x.sum(axis=1) + 10.0 * noise * rng.standard_normal(100)
    return x, (score > 130).astype(np.int64)


def _spiral(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spirals (TensorFlow Playground's hardest set)."""
    half = n // 2
    t = np.sqrt(rng.uniform(0, 1, size=half)) * 3 * np.pi  # denser towards the centre
    arms = []
    for label, phase in ((0, 0.0), (1, np.pi)):
        r = t / (3 * np.pi) * 5
        xy = np.stack([r * np.sin(t + phase), r * np.cos(t + phase)], axis=1)
        arms.append((xy + noise * rng.standard_normal(xy.shape), np.full(half, label)))
    return np.concatenate([a[0] for a in arms]), np.concatenate([a[1] for a in arms])


def make_data(cfg: Config) -> Data:
    """The points for ``cfg`` split into train/test; standardisation fitted on train only."""
    rng = np.random.default_rng(cfg.data_seed)
    n = cfg.n_samples
    if cfg.points:  # the learner's own points replace the data set's, with their own test marks
        train, test = points.split(cfg.points)
        std = train[:, :2].std(axis=0)
        return Data(train[:, :2], train[:, 2].astype(np.int64), test[:, :2], test[:, 2].astype(np.int64),
                    train[:, :2].mean(axis=0), np.where(std > 0, std, 1.0))
    if n < 10 and cfg.dataset != "exam":
        raise ValueError("Use at least 10 points.")
    if cfg.dataset == "exam":
        x, y = _exam_scores(rng, cfg.noise)
    elif cfg.dataset == "moons":
        x, y = skdatasets.make_moons(n, noise=cfg.noise, random_state=cfg.data_seed)
    elif cfg.dataset == "circles":
        x, y = skdatasets.make_circles(n, noise=cfg.noise * 0.5, factor=0.5, random_state=cfg.data_seed)
    elif cfg.dataset == "xor":
        x = rng.uniform(-1, 1, size=(n, 2))
        y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(np.int64)
        x = x + cfg.noise * 0.5 * rng.standard_normal(x.shape)
    elif cfg.dataset == "spiral":
        x, y = _spiral(n, cfg.noise * 0.5, rng)
    elif cfg.dataset == "blobs":
        x, y = skdatasets.make_blobs(n, centers=[(-1.5, -1.0), (1.5, 1.0)], cluster_std=0.5 + 2 * cfg.noise,
                                     random_state=cfg.data_seed)
    else:
        raise ValueError(f"Unknown dataset {cfg.dataset!r}; choose one of {DATASETS}")
    order = rng.permutation(len(y))
    n_test = int(round(len(y) * cfg.test_fraction))
    test, train = order[:n_test], order[n_test:]
    x_train = x[train].astype(np.float64)
    std = x_train.std(axis=0)
    return Data(x_train, y[train].astype(np.int64), x[test].astype(np.float64), y[test].astype(np.int64),
                x_train.mean(axis=0), np.where(std > 0, std, 1.0))


# --------------------------------------------------------------------------- model

def build_model(cfg: Config) -> nn.Sequential:
    """2 -> [hidden_units x hidden_layers with activation] -> 1 logit. Logistic = no hidden layer."""
    torch.manual_seed(cfg.seed)
    if cfg.activation not in ACTIVATIONS:
        raise ValueError(f"Unknown activation {cfg.activation!r}; choose one of {tuple(ACTIVATIONS)}")
    layers: list[nn.Module] = []
    width = 2
    if cfg.model == "mlp":
        for _ in range(cfg.hidden_layers):
            layers += [nn.Linear(width, cfg.hidden_units), ACTIVATIONS[cfg.activation]()]
            width = cfg.hidden_units
    elif cfg.model != "logistic":
        raise ValueError(f"Unknown model {cfg.model!r}; choose 'logistic' or 'mlp'")
    layers.append(nn.Linear(width, 1))  # the logit w·h + b; σ is applied in the loss (stabler)
    return nn.Sequential(*layers)


def train(cfg: Config, *, on_step: OnStep | None = None) -> tuple[nn.Sequential, list[dict[str, float]]]:
    """BCE training; per step: loss, test_loss, train_acc, test_acc and a coarse probability grid."""
    device = get_device()
    generator = seed_everything(cfg.seed)
    data = make_data(cfg)

    def tensor(a, dtype=torch.float32):
        return torch.as_tensor(a, dtype=dtype, device=device)

    x_tr = tensor((data.x_train - data.mean) / data.std)  # (n, 2)
    y_tr = tensor(data.y_train).unsqueeze(1)  # (n, 1) float targets for BCE
    x_te = tensor((data.x_test - data.mean) / data.std)
    y_te = tensor(data.y_test).unsqueeze(1)
    bounds = plot_bounds(data)
    preview_grid = tensor((grid_points(bounds, 40) - data.mean) / data.std)  # (1600, 2)

    model = build_model(cfg).to(device)

    def loss_fn(m, batch):
        x, y = batch
        return F.binary_cross_entropy_with_logits(m(x), y)

    def evaluate(m):
        logits_tr, logits_te = m(x_tr), m(x_te)
        return {
            "test_loss": F.binary_cross_entropy_with_logits(logits_te, y_te),
            "train_acc": ((logits_tr > 0).float() == y_tr).float().mean(),
            "test_acc": ((logits_te > 0).float() == y_te).float().mean(),
            "probability_grid": torch.sigmoid(m(preview_grid)).reshape(40, 40).cpu().numpy(),
        }

    optimizer = make_optimizer(cfg.optimizer, model.parameters(), cfg.lr, weight_decay=cfg.weight_decay)
    report_every = max(1, cfg.epochs // 100)  # ~100 records: enough for curves, cheap previews
    with one_cpu_thread(device):  # tiny tensors: one thread is faster, and immune to a busy CPU
        result = fit(model, loss_fn, (x_tr, y_tr), optimizer, epochs=cfg.epochs, generator=generator,
                     batch_size=cfg.batch_size, on_step=on_step, evaluate=evaluate, report_every=report_every)
    return model, result.history


# --------------------------------------------------------------------------- helpers for plots

def plot_bounds(data: Data, margin: float = 0.1) -> tuple[float, float, float, float]:
    """(x1_min, x1_max, x2_min, x2_max) covering every point with a margin."""
    x = np.concatenate([data.x_train, data.x_test])
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = margin * (hi - lo)
    return float(lo[0] - pad[0]), float(hi[0] + pad[0]), float(lo[1] - pad[1]), float(hi[1] + pad[1])


def grid_points(bounds: tuple[float, float, float, float], n: int) -> np.ndarray:
    """An n x n grid over bounds as (n*n, 2) points, row-major with x2 varying slowest."""
    x1 = np.linspace(bounds[0], bounds[1], n)
    x2 = np.linspace(bounds[2], bounds[3], n)
    g1, g2 = np.meshgrid(x1, x2)
    return np.stack([g1.ravel(), g2.ravel()], axis=1)


@torch.no_grad()
def predict_proba(model: nn.Module, data: Data, points: np.ndarray) -> np.ndarray:
    """P(y=1) for raw points (n, 2)."""
    x = torch.as_tensor((points - data.mean) / data.std, dtype=torch.float32, device=model_device(model))
    return torch.sigmoid(model(x)).squeeze(1).cpu().numpy()


def probability_grid(model: nn.Module, data: Data, n: int = 100) -> dict[str, np.ndarray]:
    """P(y=1) over an n x n grid: ``x1`` (n,), ``x2`` (n,), ``p`` (n, n) indexed [x2, x1]."""
    bounds = plot_bounds(data)
    p = predict_proba(model, data, grid_points(bounds, n)).reshape(n, n)
    return {"x1": np.linspace(bounds[0], bounds[1], n), "x2": np.linspace(bounds[2], bounds[3], n), "p": p}


def confusion(model: nn.Module, data: Data, threshold: float = 0.5, split: str = "test") -> pd.DataFrame:
    """2x2 confusion matrix at ``threshold`` (rows: actual, columns: predicted)."""
    x, y = (data.x_test, data.y_test) if split == "test" else (data.x_train, data.y_train)
    pred = (predict_proba(model, data, x) >= threshold).astype(int)
    matrix = np.zeros((2, 2), dtype=int)
    np.add.at(matrix, (y, pred), 1)
    return pd.DataFrame(matrix, index=["actual 0", "actual 1"], columns=["predicted 0", "predicted 1"])


def accuracy(model: nn.Module, data: Data, split: str = "test", threshold: float = 0.5) -> float:
    matrix = confusion(model, data, threshold, split).to_numpy()
    return float(np.trace(matrix) / max(matrix.sum(), 1))


def boundary_equation(model: nn.Sequential, data: Data, threshold: float = 0.5) -> tuple[float, float, float]:
    """For logistic regression: (w1, w2, b) of the boundary w1·x1 + w2·x2 + b = 0 in raw units.

    The model works on standardised inputs z = (x - μ)/σ, so w_raw = w/σ, b_raw = b - Σ wμ/σ;
    a threshold t ≠ 0.5 moves the line to w·x + b = logit(t).
    """
    if len(model) != 1:  # build_model's logistic regression is one Linear layer; an MLP has more
        raise ValueError("Only logistic regression has a single straight boundary.")
    layer = model[-1]
    w = layer.weight.detach().cpu().double().numpy()[0]
    b = float(layer.bias.detach().cpu()[0])
    w_raw = w / data.std
    b_raw = b - float((w * data.mean / data.std).sum()) - float(np.log(threshold / (1 - threshold)))
    return float(w_raw[0]), float(w_raw[1]), b_raw


@torch.no_grad()
def hidden_activations(model: nn.Sequential, data: Data, n: int = 40) -> np.ndarray:
    """Each first-layer hidden unit's activation over the grid: (units, n, n), for small tiles."""
    if len(model) == 1:  # logistic regression: the one Linear layer is the output
        raise ValueError("Logistic regression has no hidden units.")
    points = torch.as_tensor((grid_points(plot_bounds(data), n) - data.mean) / data.std,
                             dtype=torch.float32, device=model_device(model))
    hidden = model[1](model[0](points))  # (n*n, units) after the first activation
    return hidden.T.reshape(-1, n, n).cpu().numpy()
