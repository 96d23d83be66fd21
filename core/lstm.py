"""Forecasting a monthly series with a recurrent network (tutorial 5.1-5.3).

The tutorial predicts this month's airline passengers from the previous two months with a 2-layer
LSTM (hidden size 4, Adam lr 1e-2, 1000 full-batch epochs, 70 % of the windows for training). Here
the same idea, with the fixes a forecaster needs (all optional, all on by default):

- the scaler is fitted on the training part only (the tutorial scales with the whole series, so the
  test part leaks into training);
- log scale: the airline season grows with the level (multiplicative); in logs it is a constant shape;
- the network may predict the *change* from the last value instead of the level, reading the window
  relative to its last value: min-max scaling fitted on 1949-1957 cannot represent the 1960 peaks,
  and a tanh network cannot output a level it never saw, but it can add a learnt change;
- look-back 12 instead of 2: the window holds a whole season, so the network can learn the yearly
  shape (with 2, it does no better than persistence: test RMSE ~48 vs 50; with 12, ~25);
- results are judged against the naive forecasts any model must beat (persistence, seasonal naive),
  and the forecast is run recursively past the end with its error measured by backtesting
  (both in core.forecasting; CSV uploads are read by core.tables).

Shapes: a window batch is (B, look_back, 1) (batch_first), a target batch (B, 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from core.device import get_device, model_device
from core.training import fit, make_optimizer, one_cpu_thread, seed_everything

AIRLINE_CSV = Path(__file__).resolve().parent.parent / "assets" / "airline_passengers.csv"
CELLS = ("RNN", "GRU", "LSTM")
SOURCES = ("airline", "synthetic", "custom")
TARGETS = ("change", "level")
MIN_POINTS = 24  # below this, there is no meaningful train/test split of a seasonal series


class SeriesError(ValueError):
    """The series cannot be used (too short, not finite, bad settings); the message says why."""


# --- data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    # data
    source: str = "airline"          # "airline" (tutorial), "synthetic" or "custom" (values below)
    values: tuple[float, ...] = ()   # the series itself when source == "custom" (an uploaded CSV)
    length: int = 144                # synthetic: number of points
    trend: float = 2.0               # synthetic: rise per step
    season: float = 40.0             # synthetic: amplitude of the seasonal sine
    noise: float = 8.0               # synthetic: standard deviation of the Gaussian noise
    period: int = 12                 # season length: the synthetic period and the seasonal-naive lag (0: none)
    # preprocessing
    look_back: int = 12              # past values in each input window (tutorial: 2)
    train_frac: float = 0.7          # first part of the series used for training (tutorial: 70 %)
    target: str = "change"           # "change": predict y_t - y_(t-1); "level": y_t (tutorial)
    log: bool = True                 # scale log(y): a season that grows with the level becomes constant
    # model and training
    cell: str = "LSTM"               # "RNN", "GRU" or "LSTM" (tutorial 5.3.1)
    hidden: int = 16                 # hidden size (tutorial: 4)
    layers: int = 2                  # stacked recurrent layers (tutorial: 2)
    lr: float = 1e-2                 # Adam learning rate (tutorial: 1e-2)
    epochs: int = 300                # full-batch epochs (tutorial: 1000)
    clip: float = 1.0                # max gradient norm, 0 = no clipping (tutorial 5.2.3)
    seed: int = 0
    version: int = 1

    @classmethod
    def tiny(cls) -> Config:
        return cls(hidden=8, layers=1, epochs=60)


def read_airline() -> pd.DataFrame:
    """The 144 monthly totals of international airline passengers, 1949-01..1960-12 (thousands)."""
    frame = pd.read_csv(AIRLINE_CSV)
    frame["Month"] = pd.to_datetime(frame["Month"], format="%Y-%m")
    return frame


def synthetic_series(length: int, trend: float, season: float, noise: float, period: int,
                     seed: int) -> np.ndarray:
    """level + trend * t + season * sin(2 pi t / period) + N(0, noise^2): a clean teaching series."""
    t = np.arange(length, dtype=np.float64)
    rng = np.random.default_rng(seed)
    return 100.0 + trend * t + season * np.sin(2 * np.pi * t / period) + rng.normal(0.0, noise, length)


def load_series(cfg: Config) -> np.ndarray:
    """The series a Config describes, as float64 of shape (N,)."""
    if cfg.source == "airline":
        series = read_airline()["Passengers"].to_numpy(np.float64)
    elif cfg.source == "synthetic":
        if cfg.period < 2:
            raise SeriesError("A synthetic season needs a length of at least 2 steps.")
        series = synthetic_series(cfg.length, cfg.trend, cfg.season, cfg.noise, cfg.period, cfg.seed)
    elif cfg.source == "custom":
        series = np.asarray(cfg.values, dtype=np.float64)
    else:
        raise SeriesError(f"Unknown data source {cfg.source!r}; choose one of {', '.join(SOURCES)}.")
    if len(series) < MIN_POINTS:
        raise SeriesError(f"The series has {len(series)} points; at least {MIN_POINTS} are needed "
                          "to train on one part and test on another.")
    if not np.isfinite(series).all():
        raise SeriesError("The series contains missing or infinite values.")
    return series


# --- preprocessing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Scaler:
    """Min-max scaling to [0, 1] of the *training* values (optionally of their logs): lo -> 0, hi -> 1."""

    lo: float
    hi: float
    log: bool = False

    @classmethod
    def fit(cls, train_values: np.ndarray, log: bool = False) -> Scaler:
        if log and np.min(train_values) <= 0:
            raise SeriesError("Logs need positive values, and this series has zeros or negatives. "
                              "Turn the log transform off.")
        v = np.log(train_values) if log else np.asarray(train_values)
        lo, hi = float(np.min(v)), float(np.max(v))
        return cls(lo, hi if hi > lo else lo + 1.0, log)

    def transform(self, x):
        x = np.asarray(x, dtype=np.float64)
        if self.log:
            with np.errstate(divide="ignore", invalid="ignore"):  # test values <= 0 -> nan, not a crash
                x = np.log(x)
        return (x - self.lo) / (self.hi - self.lo)

    def inverse(self, x):
        x = np.asarray(x, dtype=np.float64) * (self.hi - self.lo) + self.lo
        return np.exp(np.clip(x, -50, 50)) if self.log else x


@dataclass
class Prepared:
    """What ``prepare(cfg)`` makes, once per Config: the page holds it, and state_heatmap and
    core.forecasting's helpers take it rather than preparing the series again."""

    series: np.ndarray   # (N,) original units
    n_train: int         # points 0..n_train-1 form the training part
    scaler: Scaler       # fitted on series[:n_train] only
    windows: np.ndarray  # (W, look_back) scaled inputs, W = N - look_back
    targets: np.ndarray  # (W,) scaled next values
    target_idx: np.ndarray  # (W,) position of each target in the series
    period: int          # season length: the seasonal-naive baseline's lag (core.forecasting)

    @property
    def train(self) -> np.ndarray:
        return self.target_idx < self.n_train  # (W,) bool: windows whose target is in the train part

    @property
    def look_back(self) -> int:
        return self.windows.shape[1]


def split_point(n: int, train_frac: float) -> int:
    return int(round(n * train_frac))


def prepare(cfg: Config, series: np.ndarray | None = None) -> Prepared:
    """Scale with the training part only, then cut the series into (window, next value) pairs."""
    series = load_series(cfg) if series is None else np.asarray(series, dtype=np.float64)
    n = len(series)
    n_train = split_point(n, cfg.train_frac)
    if not 1 <= cfg.look_back <= 48:
        raise SeriesError("The look-back must be between 1 and 48 steps.")
    if n_train - cfg.look_back < 8 or n - n_train < 4:
        raise SeriesError(f"With {n} points, a train fraction of {cfg.train_frac:.0%} and a look-back of "
                          f"{cfg.look_back}, too few windows are left to train or test on. "
                          "Use a shorter look-back or another train fraction.")
    if cfg.log and np.min(series) <= 0:
        raise SeriesError("Logs need positive values, and this series has zeros or negatives. "
                          "Turn the log transform off.")
    scaler = Scaler.fit(series[:n_train], cfg.log)
    scaled = scaler.transform(series)
    idx = np.arange(cfg.look_back, n)
    windows = np.stack([scaled[i - cfg.look_back : i] for i in idx])
    return Prepared(series, n_train, scaler, windows, scaled[idx], idx, cfg.period)


# --- model -----------------------------------------------------------------------------------


class Forecaster(nn.Module):
    """A recurrent layer stack reads the window; a linear head maps its last hidden state to a value.

    With target "change" the head predicts y_t - y_(t-1) (in scaled units), added to the window's
    last value: the network starts as the persistence forecast and learns the corrections.
    """

    def __init__(self, cell: str, hidden: int, layers: int, target: str):
        super().__init__()
        if cell not in CELLS:
            raise SeriesError(f"Unknown cell {cell!r}; choose one of {', '.join(CELLS)}.")
        if target not in TARGETS:
            raise SeriesError(f"Unknown target {target!r}; choose one of {', '.join(TARGETS)}.")
        self.cell, self.target = cell, target
        self.rnn = getattr(nn, cell)(input_size=1, hidden_size=hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def inputs(self, x: torch.Tensor) -> torch.Tensor:
        # "change": the window relative to its last value, so the net sees the shape, not the level
        return x - x[:, -1:] if self.target == "change" else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x (B, L, 1) -> (B, 1)
        out, _ = self.rnn(self.inputs(x))         # (B, L, hidden): top layer at every step
        y = self.head(out[:, -1])                 # (B, 1)
        return y + x[:, -1] if self.target == "change" else y

    def final_states(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Top layer's hidden (and for LSTM, cell) state after reading each window: (B, hidden)."""
        _, state = self.rnn(self.inputs(x))
        if self.cell == "LSTM":
            h, c = state                          # each (layers, B, hidden)
            return {"hidden": h[-1], "cell": c[-1]}
        return {"hidden": state[-1]}


def build_model(cfg: Config) -> Forecaster:
    return Forecaster(cfg.cell, cfg.hidden, cfg.layers, cfg.target)


def _tensor(a: np.ndarray, device) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a), dtype=torch.float32, device=device)


# --- training --------------------------------------------------------------------------------


def train(cfg: Config, *, on_step=None) -> tuple[Forecaster, list[dict[str, float]]]:
    """Full-batch training on every training window, as in the tutorial, on the app's device.

    Reports "loss" (train MSE, scaled units), "test_loss" and, for the live preview, "pred": the
    one-step prediction for every target position (numpy (W,), original units).
    """
    data = prepare(cfg)
    gen = seed_everything(cfg.seed)
    device = get_device()
    model = build_model(cfg).to(device)
    x_all = _tensor(data.windows[..., None], device)  # (W, L, 1)
    y_all = _tensor(data.targets[:, None], device)     # (W, 1)
    train_mask = torch.as_tensor(data.train, device=device)
    x_tr, y_tr = x_all[train_mask], y_all[train_mask]
    y_te = y_all[~train_mask]
    optimizer = make_optimizer("Adam", model.parameters(), cfg.lr)

    def loss_fn(net, batch):
        x, y = batch
        return nn.functional.mse_loss(net(x), y)

    def evaluate(net):
        pred = net(x_all)
        return {"test_loss": nn.functional.mse_loss(pred[~train_mask], y_te),
                "pred": data.scaler.inverse(pred[:, 0].cpu().numpy().astype(np.float64))}

    with one_cpu_thread(device):
        result = fit(model, loss_fn, (x_tr, y_tr), optimizer, epochs=cfg.epochs, generator=gen,
                     batch_size=None, on_step=on_step, evaluate=evaluate,
                     report_every=max(1, cfg.epochs // 100), clip_grad_norm=cfg.clip or None)
    return model.eval(), result.history


# --- plot helpers ----------------------------------------------------------------------------


@torch.no_grad()
def state_heatmap(model: Forecaster, data: Prepared, which: str = "hidden") -> np.ndarray:
    """The top layer's hidden or cell state after each window: (hidden units, W) for a heatmap."""
    states = model.final_states(_tensor(data.windows[..., None], model_device(model)))
    if which not in states:
        raise SeriesError(f"A {model.cell} has no {which} state; choose one of {', '.join(states)}.")
    return states[which].cpu().numpy().T.astype(np.float64)


def pytorch_code(cfg: Config) -> str:
    """The plain PyTorch model and loop these settings amount to (the page's "show the code")."""
    return f"""import torch
from torch import nn
# windows: (B, {cfg.look_back}, 1) past values scaled with the TRAINING part's min/max{" of log(y)" if cfg.log else ""}
# targets: (B, 1) the next value
class Forecaster(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.{cfg.cell}(1, {cfg.hidden}, num_layers={cfg.layers}, batch_first=True)
        self.head = nn.Linear({cfg.hidden}, 1)
    def forward(self, x):
        {"last = x[:, -1]; x = x - x[:, -1:]  # the shape of the window, not its level" if cfg.target == "change" else "# the level itself, as in the tutorial"}
        out, _ = self.rnn(x)                  # (B, {cfg.look_back}, {cfg.hidden})
        return self.head(out[:, -1]){" + last" if cfg.target == "change" else ""}
model = Forecaster()
optimizer = torch.optim.Adam(model.parameters(), lr={cfg.lr})
for epoch in range({cfg.epochs}):
    loss = nn.functional.mse_loss(model(windows), targets)
    optimizer.zero_grad()
    loss.backward(){f'''
    nn.utils.clip_grad_norm_(model.parameters(), {cfg.clip})''' if cfg.clip else ""}
    optimizer.step()"""
