"""core.lstm with core.forecasting and core.tables: the data, the leak-free scaling, the forecasts and
the baselines, with real outcomes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from core import forecasting, lstm, tables

SINE_AMPLITUDE = 10.0


def sine_values(n: int = 240, period: int = 20) -> tuple[float, ...]:
    t = np.arange(n)
    return tuple(float(v) for v in SINE_AMPLITUDE * np.sin(2 * np.pi * t / period))


# --- data ------------------------------------------------------------------------------------


def test_airline_csv_is_the_box_jenkins_series():
    frame = lstm.read_airline()
    assert list(frame.columns) == ["Month", "Passengers"]
    assert len(frame) == 144
    assert frame["Month"].iloc[0] == pd.Timestamp("1949-01-01")
    assert frame["Month"].iloc[-1] == pd.Timestamp("1960-12-01")
    assert (frame["Month"].diff().dropna().dt.days.between(28, 31)).all(), "one row per month"
    values = frame["Passengers"].tolist()
    assert values[:12] == [112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118]
    assert values[-5:] == [606, 508, 461, 390, 432]
    totals = frame.groupby(frame["Month"].dt.year)["Passengers"].sum()
    assert totals[1949] == 1520 and totals[1960] == 5714
    assert sum(values) == 40363  # mean 280.30, as in R's AirPassengers


def test_synthetic_sliders_change_the_series():
    base = lstm.load_series(lstm.Config(source="synthetic"))
    for field, value in [("trend", 5.0), ("season", 80.0), ("noise", 20.0), ("period", 6)]:
        other = lstm.load_series(lstm.Config(source="synthetic", **{field: value}))
        assert not np.allclose(base, other), field
    flat = lstm.load_series(lstm.Config(source="synthetic", trend=0.0, season=0.0, noise=0.0))
    assert np.allclose(flat, 100.0)


def test_csv_text_column_is_refused_with_a_message():
    frame = tables.read_csv_upload(b"month,city,value\n" + b"".join(
        f"2020-{m:02d},Paris,{m}\n".encode() for m in range(1, 13)) * 3)
    with pytest.raises(tables.CsvInputError, match="not numeric"):
        tables.parse_series(frame, "city")
    with pytest.raises(tables.CsvInputError, match="does not look like dates"):
        tables.parse_series(frame, "value", "city")


def test_csv_gaps_are_interpolated_and_reported():
    dates = pd.date_range("2000-01-01", periods=40, freq="MS")
    values = np.arange(40, dtype=float) * 2
    keep = np.ones(40, bool)
    keep[[10, 11, 25]] = False  # three months missing entirely
    rows = [f"{d:%Y-%m},{v:g}" for d, v, k in zip(dates, values, keep) if k]
    rows[5] = rows[5].split(",")[0] + ","  # one empty cell
    rows.append("not a date,999")           # one unreadable date
    frame = tables.read_csv_upload(("date,sales\n" + "\n".join(rows)).encode())
    parsed = tables.parse_series(frame, "sales", "date")
    assert len(parsed.values) == 40 and parsed.freq == "MS"
    np.testing.assert_allclose(parsed.values, values)  # a straight line interpolates exactly
    assert any("3 missing dates" in n for n in parsed.notes)
    assert any("1 value was empty" in n for n in parsed.notes), parsed.notes
    assert any("1 row(s) without a readable date" in n for n in parsed.notes), parsed.notes


def test_csv_years_as_numbers_are_read_as_dates():
    frame = pd.DataFrame({"year": range(1950, 1990), "value": np.arange(40.0)})
    parsed = tables.parse_series(frame, "value", "year")
    assert parsed.dates[0] == pd.Timestamp("1950-01-01") and parsed.freq == "YS"


def test_too_short_or_empty_input_gives_a_message():
    with pytest.raises(tables.CsvInputError, match="at least"):
        tables.parse_series(pd.DataFrame({"x": range(10)}), "x", min_points=lstm.MIN_POINTS)
    with pytest.raises(tables.CsvInputError, match="empty"):
        tables.read_csv_upload(b"")
    with pytest.raises(lstm.SeriesError, match="at least"):
        lstm.prepare(lstm.Config(source="custom", values=(1.0,) * 10, log=False))
    with pytest.raises(lstm.SeriesError, match="positive"):
        lstm.prepare(lstm.Config(source="custom", values=sine_values(), log=True))


# --- preprocessing ---------------------------------------------------------------------------


def test_scaler_is_fitted_on_the_training_part_only():
    series = np.asarray(lstm.load_series(lstm.Config()))
    cfg = lstm.Config(source="custom", values=tuple(series), log=False)
    data = lstm.prepare(cfg)
    assert data.n_train == round(144 * 0.7)
    assert (data.scaler.lo, data.scaler.hi) == (series[: data.n_train].min(), series[: data.n_train].max())
    changed = series.copy()
    changed[data.n_train :] = changed[data.n_train :] * 10 + 1000  # wild test values
    other = lstm.prepare(dataclasses.replace(cfg, values=tuple(changed)))
    assert other.scaler == data.scaler
    np.testing.assert_array_equal(other.windows[other.train], data.windows[data.train])
    np.testing.assert_array_equal(other.targets[other.train], data.targets[data.train])
    assert not np.allclose(other.targets[~other.train], data.targets[~data.train])
    # the same holds with the log transform (the default)
    log_cfg = dataclasses.replace(cfg, log=True)
    assert lstm.prepare(log_cfg).scaler == lstm.prepare(dataclasses.replace(log_cfg, values=tuple(changed))).scaler


def test_windows_hold_the_look_back_past_values():
    cfg = lstm.Config(source="custom", values=tuple(float(v) for v in range(1, 61)), log=False, look_back=5)
    data = lstm.prepare(cfg)
    assert data.windows.shape == (55, 5)
    back = data.scaler.inverse(data.windows[0])
    np.testing.assert_allclose(back, [1, 2, 3, 4, 5])
    assert data.scaler.inverse(data.targets[0]) == pytest.approx(6)
    assert data.target_idx[0] == 5


# --- model, forecasts and baselines ----------------------------------------------------------


def test_lstm_learns_a_clean_sine_wave():
    cfg = lstm.Config(source="custom", values=sine_values(), log=False, period=20,
                      hidden=8, layers=1, epochs=150)
    model, history = lstm.train(cfg)
    assert history[-1]["loss"] < history[0]["loss"] / 10
    data = lstm.prepare(cfg)
    table = forecasting.scores(model, data)
    model_rmse = table["RMSE"].iloc[0]
    assert model_rmse < 0.1 * SINE_AMPLITUDE, table
    assert model_rmse < table.loc["Persistence", "RMSE"] / 5
    # the recursive forecast's 1-step error is the one-step test error (same origins, same model)
    errors = forecasting.backtest_errors(model, data, 6)
    assert errors[0] == pytest.approx(model_rmse, rel=1e-5)
    fc = forecasting.forecast(model, data, 10)
    truth = SINE_AMPLITUDE * np.sin(2 * np.pi * np.arange(240, 250) / 20)
    # fed its own predictions, it keeps the wave's phase (it damps a little): far better than
    # repeating the last value, which is off by ~0.8 amplitude here
    assert np.corrcoef(fc["forecast"], truth)[0, 1] > 0.9
    assert np.sqrt(np.mean((fc["forecast"].to_numpy() - truth) ** 2)) < 0.35 * SINE_AMPLITUDE
    assert np.sqrt(np.mean((truth[0] - truth) ** 2)) > 0.6 * SINE_AMPLITUDE
    assert (fc["upper"] >= fc["forecast"]).all() and (fc["lower"] <= fc["forecast"]).all()


def test_default_model_beats_both_baselines_on_airline_passengers():
    cfg = lstm.Config()
    model, _ = lstm.train(cfg)
    data = lstm.prepare(cfg)
    table = forecasting.scores(model, data)
    assert list(table.index) == ["Model (LSTM)", "Persistence", "Seasonal naive (lag 12)"]
    assert table["RMSE"].iloc[0] < table["RMSE"].iloc[1:].min(), table
    errors = forecasting.backtest_errors(model, data, 12)
    assert errors[-1] > errors[0], "the recursive forecast's error grows with the horizon"


def test_baselines_are_the_naive_forecasts():
    values = tuple(float(v) for v in np.arange(48) % 12 + np.arange(48))  # repeating ramp + trend
    cfg = lstm.Config(source="custom", values=values, log=False, epochs=1, train_frac=0.75)
    model, _ = lstm.train(cfg)
    table = forecasting.scores(model, lstm.prepare(cfg))
    y = np.asarray(values)
    t = np.arange(36, 48)
    assert table.loc["Persistence", "RMSE"] == pytest.approx(np.sqrt(np.mean((y[t] - y[t - 1]) ** 2)))
    assert table.loc["Seasonal naive (lag 12)", "RMSE"] == pytest.approx(12.0)  # exactly one year of trend
    assert table.loc["Seasonal naive (lag 12)", "MAPE %"] == pytest.approx(
        np.mean(12 / y[t]) * 100)


def test_hidden_and_cell_state_heatmaps():
    cfg = lstm.Config.tiny()
    model, _ = lstm.train(cfg)
    data = lstm.prepare(cfg)
    for which in ("hidden", "cell"):
        heat = lstm.state_heatmap(model, data, which)
        assert heat.shape == (cfg.hidden, len(data.target_idx))
        assert np.isfinite(heat).all() and heat.std() > 0
    gru_cfg = dataclasses.replace(cfg, cell="GRU")
    gru, _ = lstm.train(gru_cfg)
    with pytest.raises(lstm.SeriesError, match="no cell state"):
        lstm.state_heatmap(gru, lstm.prepare(gru_cfg), "cell")


@pytest.mark.parametrize("change", [
    {"look_back": 6}, {"train_frac": 0.8}, {"target": "level"}, {"log": False}, {"cell": "GRU"},
    {"cell": "RNN"}, {"hidden": 4}, {"layers": 2}, {"lr": 3e-3}, {"epochs": 30}, {"clip": 0.05},
    {"seed": 1},
])
def test_every_setting_changes_the_predictions(change):
    base_cfg = lstm.Config.tiny()
    base = forecasting.one_step(lstm.train(base_cfg)[0], lstm.prepare(base_cfg))
    cfg = dataclasses.replace(base_cfg, **change)
    other = forecasting.one_step(lstm.train(cfg)[0], lstm.prepare(cfg))
    common = base.merge(other, on="t", suffixes=("_a", "_b"))
    assert len(common) > 50
    assert not np.allclose(common["prediction_a"], common["prediction_b"], rtol=1e-4), change


def test_training_reports_a_live_prediction_preview():
    cfg = lstm.Config.tiny()
    previews = []
    lstm.train(cfg, on_step=lambda step, metrics: previews.append(metrics.get("pred")))
    data = lstm.prepare(cfg)
    assert previews and all(p is not None and p.shape == data.target_idx.shape for p in previews)
    assert not np.allclose(previews[0], previews[-1])


def test_training_is_reproducible_and_runs_on_the_app_device():
    cfg = lstm.Config.tiny()
    a, _ = lstm.train(cfg)
    b, _ = lstm.train(cfg)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa.cpu(), pb.cpu())
