"""Linear and polynomial regression by gradient descent, next to the closed-form answer.

Tutorial 3.2: a straight line through 15 points (3.2.4) and the cubic
y = 0.9 + 0.5x + 3x² + 2.4x³ (3.2.5), fitted by ``nn.Linear`` on the features [x, x², ..., x^d].
The closed form is the normal equation θ* = (XᵀX)⁻¹Xᵀy (3.2.3), so the page can show how far
gradient descent still is from the optimum, step by step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from core.device import get_device
from core.training import OnStep, fit, make_optimizer, one_cpu_thread, seed_everything

DATASETS = ("tutorial", "cubic", "custom")
# The tutorial's 15 (x, y) points for the straight-line fit (3.2.4).
TUTORIAL_X = (3.3, 4.4, 5.5, 6.71, 6.93, 4.168, 9.779, 6.182, 7.59, 2.167, 7.042, 10.791, 5.313, 7.997, 3.1)
TUTORIAL_Y = (1.7, 2.76, 2.09, 3.19, 1.694, 1.573, 3.366, 2.596, 2.53, 1.221, 2.827, 3.465, 1.65, 2.904, 1.3)
# y = 0.9 + 0.5x + 3x² + 2.4x³, coefficients from the constant term up (3.2.5).
CUBIC_COEFFS = (0.9, 0.5, 3.0, 2.4)


@dataclass(frozen=True)
class Config:
    dataset: str = "cubic"  # "tutorial" (15 points), "cubic" (synthetic), "custom" (x_data/y_data)
    n_samples: int = 60  # cubic only
    noise: float = 1.0  # std of Gaussian noise added to the cubic's y
    x_data: tuple[float, ...] = ()  # custom data (e.g. from a CSV), as tuples so the Config hashes
    y_data: tuple[float, ...] = ()
    points: tuple[tuple[float, float, float], ...] = ()  # hand-placed (x, y, is_test) rows (core.points)
    degree: int = 3  # polynomial degree d: features [x, x², ..., x^d]
    optimizer: str = "Adam"
    lr: float = 0.1
    epochs: int = 600
    batch_size: int | None = None  # None: full batch, as in the tutorial
    standardize: bool = True  # z-score each feature with train statistics before descent
    test_fraction: float = 0.25
    data_seed: int = 0
    seed: int = 0
    version: int = 1

    @classmethod
    def tiny(cls) -> Config:
        return cls(n_samples=30, epochs=40)


# --------------------------------------------------------------------------- data

def make_data(cfg: Config) -> Data:
    """The points for ``cfg``, split into train and test with ``data_seed``; the feature scaler is
    fitted on the training part."""
    rng = np.random.default_rng(cfg.data_seed)
    truth = None
    if cfg.points:  # the learner's own points replace the data set's, with their own test marks
        rows = np.asarray(cfg.points, dtype=np.float64)
        x, y, truth = rows[:, 0], rows[:, 1], CUBIC_COEFFS if cfg.dataset == "cubic" else None
    elif cfg.dataset == "tutorial":
        x, y = np.array(TUTORIAL_X), np.array(TUTORIAL_Y)
    elif cfg.dataset == "cubic":
        if cfg.n_samples < 4:
            raise ValueError("Use at least 4 samples.")
        x = rng.standard_normal(cfg.n_samples)  # the tutorial draws x from N(0, 1)
        y = np.polynomial.polynomial.polyval(x, CUBIC_COEFFS) + cfg.noise * rng.standard_normal(cfg.n_samples)
        truth = CUBIC_COEFFS
    elif cfg.dataset == "custom":
        x, y = np.asarray(cfg.x_data, dtype=np.float64), np.asarray(cfg.y_data, dtype=np.float64)
        if len(x) != len(y) or len(x) < 3:
            raise ValueError("Custom data needs at least 3 (x, y) pairs of equal length.")
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            raise ValueError("Custom data contains missing or infinite values.")
    else:
        raise ValueError(f"Unknown dataset {cfg.dataset!r}; choose one of {DATASETS}")
    order = rng.permutation(len(x))
    n_test = int(round(len(x) * cfg.test_fraction)) if cfg.test_fraction > 0 else 0
    n_test = min(n_test, len(x) - 2)  # always keep at least 2 training points
    test, train = order[:n_test], order[n_test:]
    if cfg.points:
        test, train = np.flatnonzero(rows[:, 2] > 0), np.flatnonzero(rows[:, 2] == 0)
    scaler = Scaler.fit(poly_features(x[train], cfg.degree), cfg.standardize)
    return Data(x[train], y[train], x[test], y[test], truth, cfg.degree, scaler)


def poly_features(x: np.ndarray, degree: int) -> np.ndarray:
    """x (n,) -> [x, x², ..., x^d] (n, d), the tutorial's make_features."""
    return np.stack([x**k for k in range(1, degree + 1)], axis=1)


@dataclass(frozen=True)
class Scaler:
    """Per-feature z-scoring fitted on the training features (identity when standardize is off)."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, features: np.ndarray, enabled: bool) -> Scaler:
        if not enabled:
            return cls(np.zeros(features.shape[1]), np.ones(features.shape[1]))
        std = features.std(axis=0)
        return cls(features.mean(axis=0), np.where(std > 0, std, 1.0))

    def transform(self, features: np.ndarray) -> np.ndarray:
        return (features - self.mean) / self.std

    def to_raw(self, weights: np.ndarray, bias: float) -> np.ndarray:
        """Coefficients learnt on scaled features -> polynomial coefficients [b, w1, ..., wd] on raw x."""
        raw_w = weights / self.std
        return np.concatenate([[bias - float((weights * self.mean / self.std).sum())], raw_w])


@dataclass(frozen=True)
class Data:
    """The points split into train and test, plus the scaling of their features: prepared once per
    Config by ``make_data``; the page holds it and every helper below takes it."""

    x_train: np.ndarray  # (n,) float64
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    true_coeffs: tuple[float, ...] | None  # constant term first, when the truth is known
    degree: int  # the features are [x, x², ..., x^degree]
    scaler: Scaler  # fitted on the training features only

    def features(self, x: np.ndarray) -> np.ndarray:
        """x (n,) -> the scaled features the model reads, (n, degree)."""
        return self.scaler.transform(poly_features(x, self.degree))


# --------------------------------------------------------------------------- closed form

def closed_form(features: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Normal equation θ* = (XᵀX)⁻¹Xᵀy with a bias column; returns [b, w1, ..., wd] (float64)."""
    design = np.hstack([np.ones((len(features), 1)), features])
    gram = design.T @ design
    try:
        return np.linalg.solve(gram, design.T @ y)
    except np.linalg.LinAlgError:  # singular (e.g. fewer points than coefficients): least-norm answer
        return np.linalg.pinv(design) @ y


def condition_number(features: np.ndarray) -> float:
    """cond(XᵀX) of the design with bias column: large values mean slow, fragile gradient descent."""
    design = np.hstack([np.ones((len(features), 1)), features])
    return float(np.linalg.cond(design.T @ design))


# --------------------------------------------------------------------------- model and training

def build_model(cfg: Config) -> nn.Linear:
    torch.manual_seed(cfg.seed)
    return nn.Linear(cfg.degree, 1)  # y = b + Σ w_k f_k, one weight per feature


def train(cfg: Config, *, on_step: OnStep | None = None) -> tuple[nn.Linear, list[dict[str, float]]]:
    """Gradient descent on MSE. Each step (epoch) reports train/test loss, the distance to the
    closed-form optimum in the optimiser's own (scaled) coordinates, (w1, b) for the descent path,
    and a preview of the current curve on a grid of x."""
    device = get_device()
    generator = seed_everything(cfg.seed)
    data = make_data(cfg)
    f_train, f_test = data.features(data.x_train), data.features(data.x_test)
    optimum = torch.tensor(closed_form(f_train, data.y_train), dtype=torch.float32, device=device)

    def tensor(a):
        return torch.as_tensor(a, dtype=torch.float32, device=device)

    x_tr, y_tr = tensor(f_train), tensor(data.y_train).unsqueeze(1)  # (n, d), (n, 1)
    x_te, y_te = tensor(f_test), tensor(data.y_test).unsqueeze(1)
    grid_x = plot_grid(data)
    grid_f = tensor(data.features(grid_x))

    model = build_model(cfg).to(device)
    mse = nn.MSELoss()

    def loss_fn(m, batch):
        x, y = batch
        return mse(m(x), y)

    def evaluate(m):
        theta = torch.cat([m.bias, m.weight[0]])  # [b, w1..wd] in scaled coordinates
        metrics = {
            "test_loss": mse(m(x_te), y_te) if len(x_te) else torch.tensor(float("nan")),
            "dist_to_optimum": torch.linalg.vector_norm(theta - optimum),
            "w1": m.weight[0, 0],
            "b": m.bias[0],
            "curve": m(grid_f).squeeze(1).cpu().numpy(),  # preview: the fit as it moves
        }
        # every parameter, so the page can replay the fit at any epoch from the history alone
        metrics.update({f"theta_{k}": v for k, v in enumerate(theta)})
        if not len(x_te):
            metrics.pop("test_loss")
        return metrics

    optimizer = make_optimizer(cfg.optimizer, model.parameters(), cfg.lr)
    report_every = max(1, cfg.epochs // 200)  # ≤ ~200 records: smooth replay, little overhead
    with one_cpu_thread(device):  # tiny tensors: one thread is faster, and immune to a busy CPU
        result = fit(model, loss_fn, (x_tr, y_tr), optimizer, epochs=cfg.epochs, generator=generator,
                     batch_size=cfg.batch_size, on_step=on_step, evaluate=evaluate, report_every=report_every)
    return model, result.history


# --------------------------------------------------------------------------- helpers for plots

def plot_grid(data: Data, n: int = 200) -> np.ndarray:
    """x values spanning all the data with a 5 % margin (the curve's preview grid)."""
    x_all = np.concatenate([data.x_train, data.x_test])
    lo, hi = float(x_all.min()), float(x_all.max())
    pad = 0.05 * (hi - lo or 1.0)
    return np.linspace(lo - pad, hi + pad, n)


def learned_coefficients(model: nn.Linear, data: Data) -> np.ndarray:
    """The model's weights as raw polynomial coefficients [b, w1, ..., wd]."""
    return data.scaler.to_raw(model.weight.detach().cpu().double().numpy()[0], float(model.bias.detach().cpu()[0]))


def coefficient_table(model: nn.Linear, data: Data) -> pd.DataFrame:
    """Learned vs closed-form vs true coefficients, one row per term (1, x, x², ...)."""
    gd = learned_coefficients(model, data)
    exact = closed_form(poly_features(data.x_train, data.degree), data.y_train)
    terms = ["1"] + ["x" if k == 1 else f"x^{k}" for k in range(1, data.degree + 1)]
    table = pd.DataFrame({"term": terms, "gradient descent": gd, "closed form": exact})
    if data.true_coeffs is not None:
        truth = np.zeros(data.degree + 1)
        n = min(len(truth), len(data.true_coeffs))
        truth[:n] = data.true_coeffs[:n]
        table["true"] = truth
    return table.set_index("term")


def coefficients_at(record: dict[str, float], data: Data) -> np.ndarray:
    """Raw polynomial coefficients [b, w1..wd] from one history record (replaying training)."""
    theta = np.array([record[f"theta_{k}"] for k in range(data.degree + 1)])
    return data.scaler.to_raw(theta[1:], float(theta[0]))


def predict(coeffs: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Evaluate a polynomial given [b, w1, ..., wd] at x."""
    return np.polynomial.polynomial.polyval(x, coeffs)


def loss_surface(data: Data, n: int = 60, span: float = 1.5) -> dict[str, np.ndarray]:
    """For degree 1: the MSE over a (w, b) grid around the optimum, in the optimiser's coordinates.

    Returns ``w`` (n,), ``b`` (n,), ``loss`` (n, n) indexed [b, w], and the optimum (w*, b*).
    """
    if data.degree != 1:
        raise ValueError("The loss surface is drawn for degree 1 (two parameters: w and b).")
    f = data.features(data.x_train)[:, 0]  # (n,) the one scaled feature
    b_opt, w_opt = closed_form(f[:, None], data.y_train)
    w_half = span * max(abs(w_opt), 1.0)
    b_half = span * max(abs(b_opt), 1.0)
    w = np.linspace(w_opt - w_half, w_opt + w_half, n)
    b = np.linspace(b_opt - b_half, b_opt + b_half, n)
    # residual for every (b, w) pair at once: (n_b, n_w, n_points)
    resid = b[:, None, None] + w[None, :, None] * f[None, None, :] - data.y_train[None, None, :]
    return {"w": w, "b": b, "loss": (resid**2).mean(axis=2), "optimum": np.array([w_opt, b_opt])}


def pytorch_code(cfg: Config) -> str:
    """The plain PyTorch loop these settings amount to (the page's "show the code")."""
    torch_name = {"SGD": "SGD", "SGD+momentum": "SGD", "Adagrad": "Adagrad", "RMSprop": "RMSprop", "Adam": "Adam"}
    momentum = ", momentum=0.9" if cfg.optimizer == "SGD+momentum" else ""
    scale = ("features = (features - features.mean(0)) / features.std(0)  # standardise"
             if cfg.standardize else "# features left unscaled")
    return f"""import torch
from torch import nn

x = ...  # (n,) tensor of inputs; y = ... (n, 1) targets
features = torch.stack([x ** k for k in range(1, {cfg.degree + 1})], dim=1)  # (n, {cfg.degree})
{scale}
model = nn.Linear({cfg.degree}, 1)
optimizer = torch.optim.{torch_name[cfg.optimizer]}(model.parameters(), lr={cfg.lr:g}{momentum})
for epoch in range({cfg.epochs}):
    loss = nn.functional.mse_loss(model(features), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
"""

