"""LSTM forecasting against the tutorial's own loop (5.3.2), on the same airline passengers.

Baseline: a straightforward port of the tutorial's code: the series divided by (max - min) of the
*whole* series, look-back 2, the first 70 % of the windows for training, fed as ONE sequence of
shape (seq=99, batch=1, feature=2) to a 2-layer LSTM with hidden size 4 and a linear head, Adam
lr 1e-2, MSE, 1000 full-batch epochs.
Ours: ``core.lstm.train`` with the page's default Config (look-back 12, change target on the log
scale, hidden 16, 2 layers, Adam 1e-2, clipping 1.0, 300 epochs), scaler fitted on the train part.
Both run on one torch thread (as core.lstm.train does) and are timed in CPU seconds of the thread.

The two losses live in different units (different scalings), so both are measured in passengers
(thousands) on the same months: train RMSE over 1950-01..1957-05 (positions 12..100, the training
targets both runs share) and test RMSE over 1957-06..1960-12 (positions 101..143).

Measures (ratio = how many times faster or better ours is: > 1 = ours faster / lower error):
- time to the tutorial's final train RMSE: the baseline's wall time for its 1000 epochs, and ours
  until our one-step train RMSE (checked at every report, i.e. every 1 % of the run) is as low;
- time of the default training (ours) against the tutorial's 1000 epochs, and per epoch;
- test RMSE of both final models, next to the naive baselines (in the note).

    .venv/bin/python -m bench.lstm            # full (~10 s on 2 CPU cores)
    .venv/bin/python -m bench.lstm --quick    # a smoke run
"""

from __future__ import annotations

import dataclasses
import sys
import time

import numpy as np
import torch
from torch import nn

from bench.common import row, verdict
from core import forecasting, lstm
from core.training import one_cpu_thread


def clock() -> float:
    """CPU seconds of this thread: both loops run here on one torch thread, so this is their
    compute time whatever else loads the shared machine (wall time on an idle machine ~ equal)."""
    return time.thread_time()


TRAIN_POS = np.arange(12, 101)   # 1950-01 .. 1957-05: training targets of both runs
TEST_POS = np.arange(101, 144)   # 1957-06 .. 1960-12


# --- the tutorial's loop, ported ---------------------------------------------------------------


class TutorialNet(nn.Module):
    def __init__(self, input_size: int, hidden_size: int, output_size: int = 1, num_layers: int = 2):
        super().__init__()
        self.rnn = nn.LSTM(input_size, hidden_size, num_layers)
        self.reg = nn.Linear(hidden_size, output_size)

    def forward(self, x):                  # x (seq, batch, feature)
        x, _ = self.rnn(x)
        s, b, h = x.shape
        return self.reg(x.view(s * b, h)).view(s, b, -1)


def tutorial_loop(series: np.ndarray, epochs: int, seed: int = 0):
    """Returns (predictions in passengers for positions 2..N-1, final loss, wall time)."""
    torch.manual_seed(seed)
    start = clock()
    dataset = series.astype("float32")
    scalar = dataset.max() - dataset.min()
    dataset = dataset / scalar
    look_back = 2
    data_x = np.array([dataset[i : i + look_back] for i in range(len(dataset) - look_back)])
    data_y = np.array([dataset[i + look_back] for i in range(len(dataset) - look_back)])
    train_size = int(len(data_x) * 0.7)
    train_x = torch.from_numpy(data_x[:train_size].reshape(-1, 1, 2))
    train_y = torch.from_numpy(data_y[:train_size].reshape(-1, 1, 1))
    net = TutorialNet(2, 4)
    criterion = nn.MSELoss()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(epochs):
        out = net(train_x)
        loss = criterion(out, train_y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    elapsed = clock() - start
    net.eval()
    with torch.no_grad():
        pred = net(torch.from_numpy(data_x.reshape(-1, 1, 2))).view(-1).numpy() * scalar
    return pred.astype(np.float64), loss.item(), elapsed


# --- ours --------------------------------------------------------------------------------------


def ours_until(cfg: lstm.Config, target_rmse: float | None, y: np.ndarray):
    """Train ``cfg``; stop once the one-step train RMSE (passengers) <= target_rmse (if given).

    Returns (model, seconds to reach the target or NaN, total seconds)."""
    reached = [float("nan")]
    first_target = int(lstm.prepare(cfg).target_idx[0])
    start = clock()

    def on_step(step, metrics):
        pred = metrics.get("pred")
        if target_rmse is None or pred is None:
            return None
        rmse = forecasting.rmse(y[TRAIN_POS], pred[TRAIN_POS - first_target])
        if rmse <= target_rmse:
            reached[0] = clock() - start
            return True
        return None

    model, _ = lstm.train(cfg, on_step=on_step)
    return model, reached[0], clock() - start


def run(quick: bool = False) -> list[dict]:
    y = lstm.read_airline()["Passengers"].to_numpy(np.float64)
    epochs = 200 if quick else 1000
    threads = f"1 torch thread each (machine: {torch.get_num_threads()} cores)"
    lstm.train(lstm.Config.tiny())  # warm-up (first-call overheads), not timed

    # core.lstm.train runs on one CPU thread (see core.training.one_cpu_thread); the port gets the same,
    # so the ratio compares the training loops, not OpenMP's behaviour on a busy machine
    with one_cpu_thread(torch.device("cpu")):
        base_pred, base_loss, base_time = tutorial_loop(y, epochs)
    base_train = forecasting.rmse(y[TRAIN_POS], base_pred[TRAIN_POS - 2])
    base_test = forecasting.rmse(y[TEST_POS], base_pred[TEST_POS - 2])

    cfg = lstm.Config()
    model, _, default_time = ours_until(cfg, None, y)
    table = forecasting.scores(model, lstm.prepare(cfg))
    our_test, naive = table["RMSE"].iloc[0], table["RMSE"].iloc[1:]
    # the same run continued (no schedule: the first 300 epochs are the default's) until it fits
    # the training months as closely as the tutorial's final model
    long_cfg = dataclasses.replace(cfg, epochs=3000)  # reports every 30 epochs
    _, reach_time, _ = ours_until(long_cfg, base_train, y)

    note = (f"airline passengers; tutorial: {epochs} epochs, final loss {base_loss:.5f} (its own scaling) = "
            f"train RMSE {base_train:.1f}; {threads}")
    return [
        row("LSTM Forecasting", "time to the tutorial's final train RMSE", reach_time, base_time, unit="CPU s",
            note=note + "; ours checked every 30 epochs"),
        row("LSTM Forecasting", "default training (ours 300 epochs vs tutorial 1000)", default_time, base_time,
            unit="CPU s",
            note=f"{threads}; ours includes data preparation and the per-1 % evaluation for the live preview"),
        row("LSTM Forecasting", "time per full-batch epoch", default_time / cfg.epochs * 1e3, base_time / epochs * 1e3,
            unit="CPU ms", note="ours: 89 windows of 12 steps in one batch; tutorial: one 99-step sequence"),
        row("LSTM Forecasting", "test RMSE 1957-06..1960-12 (passengers, thousands)", our_test, base_test,
            unit="passengers (k)",
            note=f"naive baselines: persistence {naive.iloc[0]:.1f}, seasonal naive {naive.iloc[1]:.1f}"),
    ]


if __name__ == "__main__":
    for r in run(quick="--quick" in sys.argv):
        base = f"{r['baseline']:.3g}" if r["baseline"] is not None else "-"
        print(f"{r['measure']}: ours {r['ours']:.3g} vs tutorial {base} {r['unit']} -> {verdict(r)}  ({r['note']})")
