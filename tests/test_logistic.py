"""core.logistic: logistic regression separates the exam set; only an MLP can do circles."""

from __future__ import annotations

import numpy as np
import pytest

from core import logistic


def test_logistic_regression_on_exam_scores_reaches_95_percent():
    cfg = logistic.Config(dataset="exam", model="logistic", noise=0.05, lr=0.05, epochs=400)
    model, history = logistic.train(cfg)
    data = logistic.make_data(cfg)
    assert logistic.accuracy(model, data, "test") >= 0.95
    assert history[-1]["loss"] < history[0]["loss"]
    # the boundary is the line the tutorial draws: points on it have P = 0.5
    w1, w2, b = logistic.boundary_equation(model, data)
    x1 = np.array([40.0, 90.0])
    on_line = np.stack([x1, -(w1 * x1 + b) / w2], axis=1)
    np.testing.assert_allclose(logistic.predict_proba(model, data, on_line), 0.5, atol=1e-3)


def test_circles_need_a_hidden_layer():
    base = dict(dataset="circles", n_samples=300, noise=0.2, epochs=300, lr=0.05)
    linear, _ = logistic.train(logistic.Config(model="logistic", **base))
    mlp_cfg = logistic.Config(model="mlp", hidden_layers=1, hidden_units=8, activation="tanh", **base)
    mlp, _ = logistic.train(mlp_cfg)
    assert logistic.accuracy(linear, logistic.make_data(logistic.Config(model="logistic", **base)), "test") <= 0.70
    assert logistic.accuracy(mlp, logistic.make_data(mlp_cfg), "test") >= 0.95


def test_threshold_moves_the_confusion_matrix():
    cfg = logistic.Config(dataset="moons", noise=0.4, epochs=100)
    model, _ = logistic.train(cfg)
    data = logistic.make_data(cfg)
    low = logistic.confusion(model, data, 0.1).to_numpy()
    high = logistic.confusion(model, data, 0.9).to_numpy()
    assert low.sum() == high.sum()
    assert low[:, 1].sum() > high[:, 1].sum(), "a lower threshold must predict class 1 more often"


@pytest.mark.parametrize("dataset", logistic.DATASETS)
def test_every_dataset_is_balanced_and_split(dataset):
    data = logistic.make_data(logistic.Config(dataset=dataset))
    assert data.x_train.shape[1] == 2 and len(data.x_test) > 0
    assert 0.2 < data.y_train.mean() < 0.8
    assert np.allclose(((data.x_train - data.mean) / data.std).mean(axis=0), 0, atol=1e-9)


def test_weight_decay_shrinks_weights():
    plain, _ = logistic.train(logistic.Config(dataset="blobs", model="logistic", epochs=200))
    decayed, _ = logistic.train(logistic.Config(dataset="blobs", model="logistic", epochs=200, weight_decay=0.1))
    assert decayed[-1].weight.norm() < plain[-1].weight.norm()
