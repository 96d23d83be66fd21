"""The CNN feature-map page through AppTest: predictions, the layer picker, the k slider, the colour
scale, hostile uploads, a valid upload, and VGG16 when the download fails."""

from __future__ import annotations

import json
import time
import urllib.error

import pytest

from core.images import sample_image, to_png_bytes
from tests.conftest import open_page, page_errors
from tests.test_images import BAD_FILES

PAGE = "pages/3_CNN_Feature_Maps.py"


@pytest.fixture
def page(clear_streamlit_caches):
    at = open_page(PAGE)
    assert not page_errors(at), page_errors(at)
    return at


def spec_of_type(at, kind: str) -> dict:
    specs = [json.loads(e.proto.spec) for e in at.get("plotly_chart")]
    return next(s for s in specs if s["data"] and s["data"][0]["type"] == kind)


def top5(at) -> list[str]:
    return list(spec_of_type(at, "bar")["data"][0]["y"])


def grid(at) -> dict:
    return spec_of_type(at, "heatmap")


def z_shape(trace: dict) -> tuple[int, ...]:
    z = trace["z"]  # plotly 6+ sends arrays as {"dtype", "bdata", "shape"}
    if isinstance(z, dict):
        return tuple(int(v) for v in str(z["shape"]).split(","))
    return (len(z), len(z[0]))


def metrics(at) -> list[str]:
    return [m.value for m in at.metric]


def test_default_view_predicts_the_cat_and_shows_maps_and_arithmetic(page):
    assert "Egyptian cat" in top5(page)[-1], "the bars list the top class last (top of the chart)"
    assert len(grid(page)["data"]) == 8, "top-8 channels by default"
    assert metrics(page) == ["144×56×56", "144×56×56", "yes"]
    assert any("⌊" in m.value or "size unchanged" in m.value for m in page.markdown)
    assert len(page.get("image")) >= 3, "photo, overlay, first-layer filters"


def test_layer_picker_k_slider_and_colour_scale_change_what_is_shown(page):
    page.slider(key="cnn_k").set_value(3).run()
    assert len(grid(page)["data"]) == 3 and not page_errors(page)
    before = grid(page)["data"][0]["z"]
    start = time.perf_counter()
    page.selectbox(key="cnn_layer_lite0").set_value("blocks.11").run()
    first_switch = time.perf_counter() - start
    assert metrics(page)[0] == "192×7×7" and z_shape(grid(page)["data"][0]) == (7, 7)
    assert grid(page)["data"][0]["z"] != before
    start = time.perf_counter()
    page.selectbox(key="cnn_layer_lite0").set_value("blocks.2.expand.act").run()
    cached_switch = time.perf_counter() - start
    assert metrics(page)[0] == "144×56×56"
    assert first_switch < 5 and cached_switch < 3, (first_switch, cached_switch)  # loose: CI cores are shared
    assert grid(page)["layout"]["coloraxis"]["cmax"] == 1.0  # per map: every map stretched to 0..1
    page.radio(key="cnn_scale").set_value("shared").run()
    assert grid(page)["layout"]["coloraxis"]["cmax"] > 1.0  # shared: the raw activation range
    images_before = [i.proto.imgs[0].url for i in page.get("image")]
    last = int(page.selectbox(key="cnn_channel").options[-1].split()[-1])  # options read "channel 91"
    page.selectbox(key="cnn_channel").set_value(last).run()
    assert [i.proto.imgs[0].url for i in page.get("image")] != images_before, "overlay follows the channel"


def test_bad_uploads_show_an_error_and_a_valid_upload_replaces_the_sample(page):
    uploader = page.file_uploader(key="cnn_upload")
    for name, (data, word) in BAD_FILES.items():
        uploader.set_value((name, data, "image/png"))
        page.run()
        assert not page.exception, (name, page.exception)
        errors = [e.value for e in page.error]
        assert any(name in e and word in e for e in errors), (name, errors)
        assert "Egyptian cat" in top5(page)[-1], "the page keeps working on the sample"
        uploader = page.file_uploader(key="cnn_upload")
    uploader.set_value(("my_coffee.png", to_png_bytes(sample_image("coffee")), "image/png"))
    page.run()
    assert not page_errors(page), page_errors(page)
    assert top5(page)[-1] in {"espresso", "cup", "coffee mug"}
    assert any("my_coffee.png" in (i.proto.imgs[0].caption or "") for i in page.get("image"))


def test_vgg16_offline_shows_the_message_and_stays_on_lite0(clear_streamlit_caches, monkeypatch, tmp_path):
    from core import pretrained

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def offline(url, timeout=20.0):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(pretrained, "_urlopen", offline)
    at = open_page(PAGE)
    at.selectbox(key="cnn_model").set_value("vgg16").run()
    assert not page_errors(at) and any("528 MB" in i.value for i in at.info)
    at.button(key="cnn_vgg_download").click().run()
    assert not at.exception, at.exception
    assert any("offline" in e.value for e in at.error), [e.value for e in at.error]
    assert "Egyptian cat" in top5(at)[-1], "still showing EfficientNet-Lite0"


def test_digits_cnn_shows_digit_predictions_and_its_layers(page):
    page.selectbox(key="cnn_model").set_value("digits").run()
    assert not page_errors(page), page_errors(page)
    assert set(top5(page)) <= {str(d) for d in range(10)}
    assert metrics(page)[0] == "32×24×24"  # layer2.2: the ReLU before the second pooling
    assert page.selectbox(key="cnn_layer_digits").value == "layer2.2"
