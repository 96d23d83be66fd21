"""Judging a one-step forecaster: its predictions, its recursive forecast, and the naive forecasts
it has to beat (persistence: next = last value; seasonal naive: next = the value one season ago).

The model is any ``nn.Module`` that maps scaled windows (B, look_back, 1) to the next scaled value
(B, 1), such as core.lstm's Forecaster. Every helper takes the prepared data the page already holds
(``data = core.lstm.prepare(cfg)``: series, split, scaler, windows) instead of preparing it again.
All results are in the series' original units; backtests start from every origin in the test part.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch
from torch import nn

from core.device import model_device

if TYPE_CHECKING:  # annotations only: core.lstm does not depend on this module, nor this on it
    from core.lstm import Prepared


def _windows(model: nn.Module, scaled_windows: np.ndarray) -> torch.Tensor:
    """(B, L) scaled windows -> (B, L, 1) float32 on the model's device."""
    return torch.as_tensor(np.asarray(scaled_windows)[..., None], dtype=torch.float32, device=model_device(model))


# --- the model's forecasts -------------------------------------------------------------------


@torch.no_grad()
def one_step(model: nn.Module, data: Prepared) -> pd.DataFrame:
    """One-step-ahead predictions from the true past: position, actual, prediction, part."""
    pred = model(_windows(model, data.windows))[:, 0].cpu().numpy().astype(np.float64)
    return pd.DataFrame({"t": data.target_idx, "actual": data.series[data.target_idx],
                         "prediction": data.scaler.inverse(pred),
                         "part": np.where(data.train, "train", "test")})


@torch.no_grad()
def recursive(model: nn.Module, scaled_windows: np.ndarray, horizon: int) -> np.ndarray:
    """Feed each prediction back as the newest input: (B, L) scaled windows -> (B, horizon) scaled."""
    x = _windows(model, scaled_windows)                    # (B, L, 1)
    out = []
    for _ in range(horizon):
        nxt = model(x)                                     # (B, 1)
        out.append(nxt[:, 0])
        x = torch.cat([x[:, 1:], nxt[:, None]], dim=1)     # drop the oldest, append the prediction
    return torch.stack(out, dim=1).cpu().numpy().astype(np.float64)


def backtest_errors(model: nn.Module, data: Prepared, horizon: int) -> np.ndarray:
    """RMSE of the recursive forecast h = 1..horizon steps ahead, from every origin in the test
    part (original units, shape (horizon,)); NaN where no origin has h future values."""
    scaled = data.scaler.transform(data.series)
    n, lb = len(data.series), data.look_back
    origins = np.arange(data.n_train, n)                   # first forecast position
    windows = np.stack([scaled[o - lb : o] for o in origins])
    preds = data.scaler.inverse(recursive(model, windows, horizon))  # (O, horizon)
    errors = np.full(horizon, np.nan)
    for h in range(horizon):
        ok = origins + h < n
        if ok.any():
            errors[h] = math.sqrt(np.mean((preds[ok, h] - data.series[origins[ok] + h]) ** 2))
    return errors


def forecast(model: nn.Module, data: Prepared, horizon: int) -> pd.DataFrame:
    """Recursive forecast past the end of the series with a +-1.96 RMSE band per horizon."""
    scaled = data.scaler.transform(data.series)
    pred = data.scaler.inverse(recursive(model, scaled[None, -data.look_back :], horizon)[0])
    err = pd.Series(backtest_errors(model, data, horizon)).ffill().to_numpy()  # long h: last known
    n = len(data.series)
    lower = pred - 1.96 * err
    if (data.series >= 0).all():
        # A count or a concentration is never negative: a symmetric band would promise values the
        # series cannot take, so it stops at zero (the upper side stays as the backtest says).
        lower = np.maximum(lower, 0.0)
    return pd.DataFrame({"t": np.arange(n, n + horizon), "h": np.arange(1, horizon + 1),
                         "forecast": pred, "rmse": err, "lower": lower, "upper": pred + 1.96 * err})


# --- metrics and the naive baselines ---------------------------------------------------------


def rmse(actual: np.ndarray, pred: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(actual) - np.asarray(pred)) ** 2)))


def mape(actual: np.ndarray, pred: np.ndarray) -> float:
    """Mean absolute percentage error in %, over points whose actual value is not 0."""
    actual, pred = np.asarray(actual), np.asarray(pred)
    ok = actual != 0
    return float(np.mean(np.abs((actual[ok] - pred[ok]) / actual[ok])) * 100) if ok.any() else math.nan


def horizon_errors(model: nn.Module, data: Prepared, horizon: int) -> pd.DataFrame:
    """Backtest RMSE by horizon h for the model and the two naive forecasts, from the same origins
    in the test part: persistence repeats the last known value, seasonal naive the last known season
    (left out when the series has no season, ``data.period`` 0)."""
    y, n, m = data.series, len(data.series), max(1, data.period)
    origins = np.arange(data.n_train, n)
    rows = {"model": backtest_errors(model, data, horizon), "persistence": [], "seasonal naive": []}
    for k in range(horizon):  # forecast k+1 steps ahead: position o + k, known data ends at o - 1
        ok = origins + k < n
        o = origins[ok]
        lag = m * ((k // m) + 1)  # the same point of the season in the last known season
        rows["persistence"].append(rmse(y[o + k], y[o - 1]) if ok.any() else math.nan)
        good = ok & (origins + k - lag >= 0)
        rows["seasonal naive"].append(rmse(y[origins[good] + k], y[origins[good] + k - lag])
                                      if good.any() else math.nan)
    if data.period < 1:
        del rows["seasonal naive"]
    return pd.DataFrame(rows, index=pd.RangeIndex(1, horizon + 1, name="h"))


def scores(model: nn.Module, data: Prepared) -> pd.DataFrame:
    """Test RMSE and MAPE of the model next to the naive forecasts it has to beat.

    Persistence: next = last value. Seasonal naive: next = the value one period earlier.
    All three are scored on exactly the same test positions. The model's row is named after its
    recurrent cell (``model.cell``: "Model (LSTM)").
    """
    steps = one_step(model, data)
    test = steps[steps.part == "test"]
    t = test.t.to_numpy()
    y = data.series
    rows = [(f"Model ({model.cell})", test.prediction.to_numpy()), ("Persistence", y[t - 1])]
    if data.period >= 1 and (t - data.period >= 0).all():
        rows.append((f"Seasonal naive (lag {data.period})", y[t - data.period]))
    return pd.DataFrame([{"forecast": name, "RMSE": rmse(y[t], p), "MAPE %": mape(y[t], p)}
                         for name, p in rows]).set_index("forecast")
