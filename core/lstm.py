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
  and the forecast is run recursively past the end with its error measured by backtesting.

Shapes: a window batch is (B, look_back, 1) (batch_first), a target batch (B, 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from core.device import get_device
from core.tables import CsvInputError, read_csv_upload
from core.training import fit, make_optimizer, one_cpu_thread, seed_everything

AIRLINE_CSV = Path(__file__).resolve().parent.parent / "assets" / "airline_passengers.csv"
CELLS = ("RNN", "GRU", "LSTM")
SOURCES = ("airline", "synthetic", "custom")
TARGETS = ("change", "level")
MIN_POINTS = 24  # below this, there is no meaningful train/test split of a seasonal series


class SeriesError(ValueError):
    """The series cannot be used (too short, not numeric, bad settings); the message says why."""


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
    period: int = 12                 # season length: the synthetic period and the seasonal-naive lag
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


@dataclass
class ParsedCSV:
    values: np.ndarray             # (N,) float64, gaps filled
    dates: pd.DatetimeIndex | None  # the dates of the values (sorted, gaps added), or None
    freq: str | None = None        # the dates' regular step ("MS", "D"...), if there is one
    notes: list[str] = field(default_factory=list)  # what was done to the data (shown to the user)


MAX_ROWS = 20_000


def read_csv_bytes(data: bytes) -> pd.DataFrame:
    """An uploaded CSV as a DataFrame, via the app's one safe reader (core.tables: pandas only,
    size cap, encoding and binary checks), plus this page's row limit."""
    try:
        frame = read_csv_upload(data)
    except CsvInputError as exc:
        raise SeriesError(str(exc)) from None
    if len(frame) > MAX_ROWS:
        raise SeriesError(f"The CSV has {len(frame)} rows; this page handles at most {MAX_ROWS}.")
    return frame


def _regular_dates(series: pd.Series) -> tuple[pd.Series, str | None]:
    """Put a date-indexed series on a regular calendar (daily, weekly, monthly, quarterly, yearly),
    adding the dates that are missing as NaN. Irregular dates are returned unchanged."""
    index = series.index
    if len(index) < 3:
        return series, None
    days = pd.Series(index).diff().median() / pd.Timedelta(days=1)
    candidates = {1 / 24: ["h"], 1: ["D"], 7: ["W-" + index[0].day_name()[:3].upper()], 30.4: ["MS", "ME"],
                  91.3: ["QS", "QE"], 365.25: ["YS", "YE"]}
    if not days > 0:
        return series, None
    nearest = min(candidates, key=lambda d: abs(math.log(days / d)))
    for freq in candidates[nearest]:
        full = pd.date_range(index[0], index[-1], freq=freq)
        if index.isin(full).all() and len(full) <= 3 * len(index):
            return series.reindex(full), freq
    return series, None


def parse_series(frame: pd.DataFrame, value_col: str, date_col: str | None = None) -> ParsedCSV:
    """One numeric column (optionally ordered by a date column) as a gap-free series.

    Gaps (empty cells, or dates missing from a regular calendar) are filled by linear interpolation
    and reported in ``notes``; a column that is mostly text raises SeriesError.
    """
    if value_col not in frame:
        raise SeriesError(f"There is no column {value_col!r}.")
    if date_col == value_col:
        raise SeriesError("The value column and the date column must be different columns.")
    raw = frame[value_col]
    values = pd.to_numeric(raw, errors="coerce")
    text = values.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
    if values.notna().sum() == 0 or text.sum() > 0.1 * len(raw):
        example = raw[text].astype(str).head(1).tolist()
        raise SeriesError(f"Column {value_col!r} is not numeric: {int(text.sum())} of {len(raw)} cells are "
                          f"text{', e.g. ' + repr(example[0]) if example else ''}. Pick a column of numbers.")
    notes: list[str] = []
    dates, freq, added = None, None, 0
    if date_col:
        # as text, so that a column of years (1949, 1950...) reads as years, not as nanoseconds
        text_dates = frame[date_col].astype(str).str.strip()
        parsed = pd.to_datetime(text_dates, errors="coerce", format="mixed")
        if parsed.isna().mean() > 0.1:
            raise SeriesError(f"Column {date_col!r} does not look like dates. Choose another, or none.")
        if parsed.isna().any():
            notes.append(f"{int(parsed.isna().sum())} row(s) without a readable date were left out.")
        series = pd.Series(values.to_numpy(), index=pd.DatetimeIndex(parsed))
        series = series[series.index.notna()].sort_index()
        if series.index.has_duplicates:
            notes.append("Rows sharing a date were averaged.")
            series = series.groupby(level=0).mean()
        before = len(series)
        series, freq = _regular_dates(series)
        if len(series) > before:
            added = len(series) - before
            notes.append(f"{added} missing date{'s were' if added > 1 else ' was'} added and filled by "
                         "linear interpolation.")
        dates, values = pd.DatetimeIndex(series.index), pd.Series(series.to_numpy())
    gaps = int(values.isna().sum()) - added
    if gaps:
        notes.append(f"{gaps} value{'s were' if gaps > 1 else ' was'} empty or not a number; "
                     f"{'they were' if gaps > 1 else 'it was'} filled by linear interpolation.")
    values = values.interpolate(limit_direction="both")
    if len(values) < MIN_POINTS:
        raise SeriesError(f"Only {len(values)} usable rows; at least {MIN_POINTS} are needed "
                          "to train on one part and test on another.")
    return ParsedCSV(values.to_numpy(np.float64), dates, freq, notes)


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
    series: np.ndarray   # (N,) original units
    n_train: int         # points 0..n_train-1 form the training part
    scaler: Scaler       # fitted on series[:n_train] only
    windows: np.ndarray  # (W, look_back) scaled inputs, W = N - look_back
    targets: np.ndarray  # (W,) scaled next values
    target_idx: np.ndarray  # (W,) position of each target in the series

    @property
    def train(self) -> np.ndarray:
        return self.target_idx < self.n_train  # (W,) bool: windows whose target is in the train part


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
    return Prepared(series, n_train, scaler, windows, scaled[idx], idx)


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


def _device(model: nn.Module) -> torch.device:
    # inputs go where the model is: a cached model is shared and must not be moved
    return next(model.parameters()).device


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


# --- predictions, baselines and metrics (numpy, original units) ------------------------------


@torch.no_grad()
def one_step(model: Forecaster, cfg: Config) -> pd.DataFrame:
    """One-step-ahead predictions from the true past: position, actual, prediction, part."""
    data = prepare(cfg)
    pred = model(_tensor(data.windows[..., None], _device(model)))[:, 0].cpu().numpy().astype(np.float64)
    return pd.DataFrame({"t": data.target_idx, "actual": data.series[data.target_idx],
                         "prediction": data.scaler.inverse(pred),
                         "part": np.where(data.train, "train", "test")})


@torch.no_grad()
def recursive(model: Forecaster, scaled_windows: np.ndarray, horizon: int) -> np.ndarray:
    """Feed each prediction back as the newest input: (B, L) scaled windows -> (B, horizon) scaled."""
    x = _tensor(scaled_windows[..., None], _device(model))  # (B, L, 1)
    out = []
    for _ in range(horizon):
        nxt = model(x)                                     # (B, 1)
        out.append(nxt[:, 0])
        x = torch.cat([x[:, 1:], nxt[:, None]], dim=1)     # drop the oldest, append the prediction
    return torch.stack(out, dim=1).cpu().numpy().astype(np.float64)


def backtest_errors(model: Forecaster, cfg: Config, horizon: int) -> np.ndarray:
    """RMSE of the recursive forecast h = 1..horizon steps ahead, from every origin in the test
    part (original units, shape (horizon,)); NaN where no origin has h future values."""
    data = prepare(cfg)
    scaled = data.scaler.transform(data.series)
    n, lb = len(data.series), cfg.look_back
    origins = np.arange(data.n_train, n)                   # first forecast position
    windows = np.stack([scaled[o - lb : o] for o in origins])
    preds = data.scaler.inverse(recursive(model, windows, horizon))  # (O, horizon)
    errors = np.full(horizon, np.nan)
    for h in range(horizon):
        ok = origins + h < n
        if ok.any():
            errors[h] = math.sqrt(np.mean((preds[ok, h] - data.series[origins[ok] + h]) ** 2))
    return errors


def horizon_errors(model: Forecaster, cfg: Config, horizon: int) -> pd.DataFrame:
    """Backtest RMSE by horizon h for the model and the two naive forecasts, from the same origins
    in the test part: persistence repeats the last known value, seasonal naive the last known season."""
    data = prepare(cfg)
    y, n, m = data.series, len(data.series), max(1, cfg.period)
    origins = np.arange(data.n_train, n)
    rows = {"model": backtest_errors(model, cfg, horizon), "persistence": [], "seasonal naive": []}
    for k in range(horizon):  # forecast k+1 steps ahead: position o + k, known data ends at o - 1
        ok = origins + k < n
        o = origins[ok]
        lag = m * ((k // m) + 1)  # the same point of the season in the last known season
        rows["persistence"].append(rmse(y[o + k], y[o - 1]) if ok.any() else math.nan)
        good = ok & (origins + k - lag >= 0)
        rows["seasonal naive"].append(rmse(y[origins[good] + k], y[origins[good] + k - lag])
                                      if good.any() else math.nan)
    return pd.DataFrame(rows, index=pd.RangeIndex(1, horizon + 1, name="h"))


def forecast(model: Forecaster, cfg: Config, horizon: int) -> pd.DataFrame:
    """Recursive forecast past the end of the series with a +-1.96 RMSE band per horizon."""
    data = prepare(cfg)
    scaled = data.scaler.transform(data.series)
    pred = data.scaler.inverse(recursive(model, scaled[None, -cfg.look_back :], horizon)[0])
    err = pd.Series(backtest_errors(model, cfg, horizon)).ffill().to_numpy()  # long h: last known
    n = len(data.series)
    return pd.DataFrame({"t": np.arange(n, n + horizon), "h": np.arange(1, horizon + 1),
                         "forecast": pred, "rmse": err, "lower": pred - 1.96 * err,
                         "upper": pred + 1.96 * err})


def rmse(actual: np.ndarray, pred: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(actual) - np.asarray(pred)) ** 2)))


def mape(actual: np.ndarray, pred: np.ndarray) -> float:
    """Mean absolute percentage error in %, over points whose actual value is not 0."""
    actual, pred = np.asarray(actual), np.asarray(pred)
    ok = actual != 0
    return float(np.mean(np.abs((actual[ok] - pred[ok]) / actual[ok])) * 100) if ok.any() else math.nan


def scores(model: Forecaster, cfg: Config) -> pd.DataFrame:
    """Test RMSE and MAPE of the model next to the naive forecasts it has to beat.

    Persistence: next = last value. Seasonal naive: next = the value one period earlier.
    All three are scored on exactly the same test positions.
    """
    data = prepare(cfg)
    steps = one_step(model, cfg)
    test = steps[steps.part == "test"]
    t = test.t.to_numpy()
    y = data.series
    rows = [("Model (" + cfg.cell + ")", test.prediction.to_numpy()), ("Persistence", y[t - 1])]
    if cfg.period >= 1 and (t - cfg.period >= 0).all():
        rows.append((f"Seasonal naive (lag {cfg.period})", y[t - cfg.period]))
    return pd.DataFrame([{"forecast": name, "RMSE": rmse(y[t], p), "MAPE %": mape(y[t], p)}
                         for name, p in rows]).set_index("forecast")


@torch.no_grad()
def state_heatmap(model: Forecaster, cfg: Config, which: str = "hidden") -> np.ndarray:
    """The top layer's hidden or cell state after each window: (hidden units, W) for a heatmap."""
    data = prepare(cfg)
    states = model.final_states(_tensor(data.windows[..., None], _device(model)))
    if which not in states:
        raise SeriesError(f"A {cfg.cell} has no {which} state; choose one of {', '.join(states)}.")
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
