"""core.regression: the closed form is right, gradient descent gets there, divergence is caught."""

from __future__ import annotations

import numpy as np
import pytest

from core import regression
from core.tables import parse_xy
from core.training import OPTIMIZERS, DivergenceError


def test_closed_form_matches_numpy_lstsq():
    cfg = regression.Config(degree=4, noise=0.7, n_samples=80, data_seed=3)
    data = regression.make_data(cfg)
    features = regression.poly_features(data.x_train, cfg.degree)
    design = np.hstack([np.ones((len(features), 1)), features])
    expected, *_ = np.linalg.lstsq(design, data.y_train, rcond=None)
    np.testing.assert_allclose(regression.closed_form(features, data.y_train), expected, rtol=1e-6, atol=1e-8)


def test_adam_recovers_cubic_coefficients_within_5_percent():
    cfg = regression.Config(dataset="cubic", noise=0.0, degree=3, optimizer="Adam", lr=0.1, epochs=600)
    model, history = regression.train(cfg)
    learned = regression.learned_coefficients(model, regression.make_data(cfg))
    truth = np.array(regression.CUBIC_COEFFS)
    assert np.all(np.abs(learned - truth) <= 0.05 * np.abs(truth)), (learned, truth)
    # the replayable history ends on the same coefficients as the model
    np.testing.assert_allclose(regression.coefficients_at(history[-1], regression.make_data(cfg)), learned, rtol=1e-5)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_each_optimizer_lowers_the_loss(optimizer):
    lr = {"SGD": 0.05, "SGD+momentum": 0.02, "Adagrad": 0.3, "RMSprop": 0.01, "Adam": 0.05}[optimizer]
    model, history = regression.train(regression.Config(optimizer=optimizer, lr=lr, epochs=100))
    assert history[-1]["loss"] < 0.5 * history[0]["loss"], (optimizer, history[0]["loss"], history[-1]["loss"])


def test_distance_to_optimum_falls_on_the_tutorial_line():
    cfg = regression.Config(dataset="tutorial", degree=1, optimizer="SGD", lr=0.1, epochs=200)
    _, history = regression.train(cfg)
    assert history[-1]["dist_to_optimum"] < 0.01 * history[0]["dist_to_optimum"] + 1e-3
    surface = regression.loss_surface(regression.make_data(cfg))
    assert surface["loss"].shape == (60, 60)
    # the optimum lies at the surface's minimum
    i, j = np.unravel_index(surface["loss"].argmin(), surface["loss"].shape)
    assert abs(surface["w"][j] - surface["optimum"][0]) < 2 * np.diff(surface["w"][:2])[0]


def test_absurd_learning_rate_raises_divergence_naming_step_and_lr():
    cfg = regression.Config(optimizer="SGD", lr=10.0, standardize=False, epochs=200)
    with pytest.raises(DivergenceError) as info:
        regression.train(cfg)
    assert info.value.lr == 10.0 and info.value.step >= 1
    assert "learning rate 10" in str(info.value) and f"step {info.value.step}" in str(info.value)


def test_same_config_same_model():
    cfg = regression.Config.tiny()
    a, _ = regression.train(cfg)
    b, _ = regression.train(cfg)
    data = regression.make_data(cfg)
    assert np.array_equal(regression.learned_coefficients(a, data), regression.learned_coefficients(b, data))
    c, _ = regression.train(regression.Config(n_samples=30, epochs=40, seed=1))
    assert not np.array_equal(regression.learned_coefficients(a, data), regression.learned_coefficients(c, data))


def test_parse_xy_rejects_text_and_drops_gaps():
    import pandas as pd

    frame = pd.DataFrame({"a": [1, 2, None, 4, 5], "b": [2.0, 4.1, 6.0, None, 9.9], "c": ["x", "y", "z", "w", "v"]})
    x, y, dropped = parse_xy(frame, "a", "b")
    assert x == (1.0, 2.0, 5.0) and dropped == 2
    with pytest.raises(ValueError, match="not numeric"):
        parse_xy(frame, "a", "c")
