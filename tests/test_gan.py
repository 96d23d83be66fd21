"""core.gan: the three GANs train, their losses are the tutorial's, sampling is reproducible, the film
survives a checkpoint, and a trained generator convinces the digits CNN more than an untrained one."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from core import digits, gan
from core.checkpoints import BUNDLED_DIR, config_key, load_checkpoint, load_or_train, save_checkpoint
from core.mnist import load_digits, to_uint8


@pytest.mark.parametrize("kind", gan.KINDS)
def test_tiny_run_gives_finite_losses_and_images_in_range(kind):
    cfg = gan.Config.tiny(kind)
    seen = []
    model, history = gan.train(cfg, on_step=lambda step, m: seen.append(m))
    assert len(history) == cfg.iterations
    for record in history:
        assert set(record) == {"step", "d_loss", "g_loss"}  # previews stay out of the history
        assert all(isinstance(v, float) and math.isfinite(v) for v in record.values())
    grid = seen[-1]["samples"]
    assert isinstance(grid, np.ndarray) and grid.dtype == np.uint8 and grid.shape == (242, 242)
    images = gan.generate(model, 16, seed=3)
    assert images.shape == (16, 1, 28, 28)
    assert images.min() >= -1 and images.max() <= 1 and images.std() > 0
    steps, tiles = gan.film_frames(model)
    assert steps.tolist() == [0, 2, 4, 6]
    assert tiles.shape == (4, gan.PREVIEW_COUNT, 28, 28) and tiles.dtype == np.uint8
    assert not np.array_equal(tiles[0], tiles[-1]), "the film should show the samples changing"


def test_losses_are_the_tutorials():
    real, fake = torch.tensor([[2.0], [-1.0]]), torch.tensor([[0.5], [-3.0]])
    sig = torch.sigmoid
    bce_d = -(torch.log(sig(real)).mean() + torch.log(1 - sig(fake)).mean())
    assert torch.allclose(gan.discriminator_loss("gan", real, fake), bce_d)
    assert torch.allclose(gan.generator_loss("dcgan", fake), -torch.log(sig(fake)).mean())
    # least squares: 1/2 E[(D(x)-1)^2] + 1/2 E[D(G(z))^2] = 1/2*(1+4)/2 + 1/2*(0.25+9)/2
    assert gan.discriminator_loss("lsgan", real, fake).item() == pytest.approx(1.25 + 2.3125)
    assert gan.generator_loss("lsgan", fake).item() == pytest.approx(0.5 * (0.25 + 16) / 2)
    # a discriminator that can only guess sits exactly on the page's dashed lines
    zero = torch.zeros(4, 1)
    for kind in gan.KINDS:
        guess = zero + (0.5 if kind == "lsgan" else 0.0)
        chance = gan.chance_losses(kind)
        assert gan.discriminator_loss(kind, guess, guess).item() == pytest.approx(chance["d_loss"])
        assert gan.generator_loss(kind, guess).item() == pytest.approx(chance["g_loss"])


def test_tutorial_architectures_and_values():
    cfg = gan.Config()
    assert (cfg.noise_dim, cfg.lr, cfg.beta1, cfg.batch_size) == (96, 3e-4, 0.5, 128)
    assert cfg.kind == "dcgan" and gan.BUNDLE_CONFIGS[0] == gan.Config.default("dcgan")
    mlp = gan.build_model(gan.Config(kind="gan")).net
    assert [m.out_features for m in mlp if isinstance(m, torch.nn.Linear)] == [1024, 1024, 784]
    d = gan.build_discriminator(gan.Config(kind="dcgan"))
    assert d(torch.zeros(2, 1, 28, 28)).shape == (2, 1)
    assert gan.build_model(gan.Config()).net(torch.zeros(2, 96)).shape == (2, 1, 28, 28)


def test_seed_reproducible_and_interpolation_ends_on_the_seeds():
    model, _ = gan.train(gan.Config.tiny("gan"))
    assert np.array_equal(gan.sample_grid(model, 5), gan.sample_grid(model, 5))
    assert not np.array_equal(gan.sample_grid(model, 5), gan.sample_grid(model, 6))
    strip = gan.interpolate(model, 1, 2, steps=5, rows=4)
    first_a, first_b = to_uint8(gan.generate(model, 4, 1))[0], to_uint8(gan.generate(model, 4, 2))[0]
    assert np.array_equal(strip[2:30, 2:30], first_a)  # row 0 starts at seed 1's first sample ...
    assert np.array_equal(strip[2:30, 4 * 30 + 2: 4 * 30 + 30], first_b)  # ... and ends at seed 2's
    with pytest.raises(gan.GANConfigError):
        gan.interpolate(model, 1, 2, steps=1)


def test_settings_change_the_training():
    base = gan.train(gan.Config.tiny("gan"))[1]
    for change in ({"d_steps": 3}, {"batch_size": 16}, {"seed": 1}, {"lr": 1e-3}, {"beta1": 0.9}):
        other = gan.train(dataclasses.replace(gan.Config.tiny("gan"), **change))[1]
        assert [r["d_loss"] for r in other] != [r["d_loss"] for r in base], change


def test_film_survives_an_fp16_checkpoint(tmp_path):
    cfg = gan.Config.tiny("dcgan")
    model, history = gan.train(cfg)
    path = tmp_path / "x.pt"
    save_checkpoint(path, {"state_dict": model.state_dict(), "history": history}, half=True)
    again = gan.build_model(cfg)
    again.load_state_dict(load_checkpoint(path)["state_dict"])
    for a, b in zip(gan.film_frames(model), gan.film_frames(again)):
        assert np.array_equal(a, b)
    again.eval()
    assert (gan.generate(again, 8, 0) - gan.generate(model, 8, 0)).abs().max() < 0.05  # fp16 weights


def test_bad_settings_raise_clear_errors():
    with pytest.raises(gan.GANConfigError, match="Unknown GAN kind"):
        gan.build_model(gan.Config(kind="wgan"))
    with pytest.raises(gan.GANConfigError, match="iterations"):
        gan.train(gan.Config(kind="gan", iterations=0))
    with pytest.raises(gan.GANConfigError, match="larger than"):
        gan.train(gan.Config(kind="gan", iterations=2, batch_size=100_000))


@pytest.fixture(scope="module")
def judge():
    model, _, _ = load_or_train(digits.Config.tiny(), digits.build_model, digits.train)
    return model


def test_mode_collapse_meter_sees_a_collapsed_set(judge):
    data = load_digits(0)
    threes = data.test_x[data.test_y == 3][:60]
    collapsed = digits.judge(judge, threes)
    varied = digits.judge_real(judge, n=300)
    assert collapsed["hist"].argmax() == 3 and collapsed["hist"][3] > 0.8
    assert collapsed["label_entropy"] < 0.8 < 2.0 < varied["label_entropy"]


def test_trained_generator_beats_an_untrained_one(judge):
    # The trained generator is the shipped default DCGAN (250 iterations of core.gan.train, made by
    # `python -m core.make_checkpoints gan`): training it here would take ~90 s on 2 cores, and the
    # MLP GANs need ~1,500 iterations before the CNN sees more than one digit in their samples.
    cfg = gan.Config.default("dcgan")
    assert (BUNDLED_DIR / f"{config_key(cfg)}.pt").is_file(), "run: python -m core.make_checkpoints gan"
    trained, history, source = load_or_train(cfg, gan.build_model, gan.train)
    assert source == "bundled" and len(history) == cfg.iterations
    before = gan.judge_generator(gan.build_model(cfg), judge)
    after = gan.judge_generator(trained, judge)
    print("untrained", {k: round(before[k], 3) for k in ("confidence", "label_entropy", "score")},
          "trained", {k: round(after[k], 3) for k in ("confidence", "label_entropy", "score")})
    # untrained: every sample is the same grey smudge, one label, score ~1
    assert before["score"] < 1.3 and before["label_entropy"] < 0.5
    # trained: most of the ten digits show up, and the score (1..10) is clearly above 1
    assert after["score"] > before["score"] + 1.0
    assert after["label_entropy"] > 1.5 and (after["hist"] > 0.02).sum() >= 7
