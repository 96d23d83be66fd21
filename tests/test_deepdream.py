"""core.deepdream on EfficientNet-Lite0: the dream climbs the objective, changes the image, keeps
its size, takes any image mode, stops on request and is reproducible."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from core import deepdream, pretrained
from core.images import as_rgb_uint8, load_image, sample_image, to_png_bytes

SMALL = deepdream.Config(longest_side=112, octaves=2, iterations=4, jitter=8)


@pytest.fixture(scope="module")
def lite0():
    return pretrained.load_lite0()


@pytest.fixture(scope="module")
def cat():
    return sample_image("chelsea")


@pytest.fixture(scope="module")
def cat_dream(lite0, cat):
    return deepdream.dream(lite0, cat, SMALL)


def test_dream_raises_the_layer_activation_and_changes_the_image(lite0, cat, cat_dream):
    before = deepdream.activation_norm(lite0, cat, SMALL)
    after = deepdream.activation_norm(lite0, cat_dream.pixels, SMALL)
    assert after > 1.2 * before, (before, after)
    assert np.abs(cat_dream.pixels.astype(int) - cat).mean() > 2.0, "the image must visibly change"
    objective = [r["objective"] for r in cat_dream.history if r["octave"] == 2]
    assert objective[-1] > objective[0], "gradient ascent: the objective climbs within an octave"


def test_dream_returns_the_input_size(cat, cat_dream):
    assert cat_dream.pixels.shape == cat.shape and cat_dream.pixels.dtype == np.uint8
    assert not cat_dream.stopped and len(cat_dream.history) == SMALL.octaves * SMALL.iterations


def test_each_octave_is_larger_and_reports_a_preview(lite0, cat):
    sizes = deepdream.octave_sizes(*cat.shape[:2], deepdream.Config())
    assert len(sizes) == 4 and max(sizes[-1]) == 512
    assert all(a[1] < b[1] for a, b in zip(sizes, sizes[1:]))
    assert sizes[-1][1] / sizes[-2][1] == pytest.approx(1.4, rel=0.02)
    previews = []
    deepdream.dream(lite0, cat, SMALL, on_step=lambda s, m: previews.append(m["preview"]) if "preview" in m else None)
    assert len(previews) == SMALL.octaves
    assert previews[-1].shape[1] == SMALL.longest_side and previews[0].shape[1] < previews[-1].shape[1]


@pytest.mark.parametrize("mode", ["gray", "rgba", "16-bit"])
def test_dream_works_on_grayscale_rgba_and_16bit_files(lite0, cat, mode):
    gray = cat[..., 0]
    if mode == "gray":
        img = Image.fromarray(gray, "L")
    elif mode == "rgba":
        img = Image.fromarray(np.dstack([cat, np.full(gray.shape, 200, np.uint8)]), "RGBA")
    else:
        img = Image.fromarray(gray.astype(np.uint16) * 257)  # I;16
    buffer = io.BytesIO()
    img.save(buffer, format="PNG")
    loaded = load_image(buffer.getvalue()).pixels
    cfg = deepdream.Config(longest_side=64, octaves=1, iterations=2, jitter=4)
    for source in (loaded, np.asarray(img)):  # decoded file, and the raw array itself
        result = deepdream.dream(lite0, source, cfg)
        assert result.pixels.shape == (*gray.shape, 3)
        assert np.abs(result.pixels.astype(int) - as_rgb_uint8(source)).mean() > 0.5


def test_stop_request_is_honoured_within_one_step(lite0, cat):
    calls = []

    def stop_at_two(step, metrics):
        calls.append(step)
        return step >= 2

    result = deepdream.dream(lite0, cat, SMALL, on_step=stop_at_two)
    assert calls == [1, 2] and result.stopped and len(result.history) == 2
    assert result.pixels.shape == cat.shape, "a stopped dream still comes back at the input's size"


def test_same_seed_same_dream_and_channel_objective(lite0, cat):
    cfg = deepdream.Config(longest_side=64, octaves=1, iterations=2, jitter=8, seed=3)
    first = deepdream.dream(lite0, cat, cfg).pixels
    assert np.array_equal(first, deepdream.dream(lite0, cat, cfg).pixels)
    other_seed = deepdream.dream(lite0, cat, deepdream.Config(**{**cfg.__dict__, "seed": 4})).pixels
    assert not np.array_equal(first, other_seed)
    one = deepdream.Config(longest_side=64, octaves=1, iterations=3, channel=7)
    before = deepdream.activation_norm(lite0, cat, one)
    assert deepdream.activation_norm(lite0, deepdream.dream(lite0, cat, one).pixels, one) > before


@pytest.mark.parametrize("change, message", [
    ({"layer": "blocks.99"}, "no layer"),
    ({"channel": 5000}, "channels"),
    ({"iterations": 0}, "at least 1"),
    ({"step_size": 0.0}, "positive"),
    ({"octave_scale": 0.5}, "at least 1"),
])
def test_bad_settings_raise_readable_errors(lite0, cat, change, message):
    cfg = deepdream.Config(**{"longest_side": 32, "octaves": 1, "iterations": 1, **change})
    with pytest.raises(ValueError, match=message):
        deepdream.dream(lite0, cat, cfg)


def test_png_metadata_records_the_parameters(cat_dream):
    data = to_png_bytes(cat_dream.pixels, deepdream.png_metadata(SMALL, cat_dream.seconds))
    text = Image.open(io.BytesIO(data)).text
    assert "layer=blocks.11" in text["Parameters"] and "octave_scale=1.4" in text["Parameters"]
    assert "blocks.11" in SMALL.describe() and "/" not in SMALL.describe()


def test_default_layer_is_offered_and_dreams_are_not_trained(lite0):
    assert deepdream.TRAINABLE is False
    assert deepdream.Config().layer in deepdream.dream_layers(lite0)
