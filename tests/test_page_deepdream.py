"""The Deep Dream page through AppTest (a 128 px, 2-octave dream: conftest.SMALL_SETTINGS), plus its
background job's Stop, which AppTest cannot click mid-run."""

from __future__ import annotations

import io
import urllib.error

import numpy as np
import pytest
from PIL import Image

from core.images import sample_image, to_png_bytes
from tests.conftest import open_page, page_errors
from tests.test_images import BAD_FILES

PAGE = "pages/8_Deep_Dream.py"


@pytest.fixture
def page(clear_streamlit_caches):
    at = open_page(PAGE)
    assert not page_errors(at), page_errors(at)
    return at


def image_urls(at) -> list[str]:
    return [i.proto.imgs[0].url for i in at.get("image")]


def dream(at):
    at.button(key="dd_run").click().run()
    assert not page_errors(at), page_errors(at)
    return at


def test_dream_shows_before_after_octave_previews_chart_and_a_named_png(page):
    assert len(page.get("image")) == 1, "before dreaming: just the photo"
    dream(page)
    assert len(page.get("image")) == 1 + 2, "the wipe view and one preview per octave (2 here)"
    assert page.get("plotly_chart"), "the objective chart"
    rms = page.metric[0]
    assert rms.label.startswith("Activation RMS of blocks.11") and rms.delta.startswith("+")
    button = page.get("download_button")[0]
    assert button.proto.label.endswith("Download PNG")
    status = page.get("expandable")
    assert not status or all("failed" not in str(s.proto) for s in status)


def test_wipe_slider_and_a_setting_change_what_is_shown(page):
    dream(page)
    wiped = image_urls(page)[0]
    page.slider(key="dd_wipe").set_value(90).run()
    assert image_urls(page)[0] != wiped, "moving the wipe shows more of the dream"
    rms_small = page.metric[0].value
    page.slider(key="dd_step").set_value(4.0).run()
    assert any("settings or the image changed" in i.value for i in page.info)
    dream(page)
    assert not page.info and page.metric[0].value != rms_small, "a larger step dreams harder"


def test_bad_upload_shows_an_error_and_a_valid_one_is_dreamed(page):
    data, word = BAD_FILES["truncated.png"]
    page.file_uploader(key="dd_upload").set_value(("broken.png", data, "image/png")).run()
    assert not page.exception and any(word in e.value for e in page.error)
    page.file_uploader(key="dd_upload").set_value(("coffee.png", to_png_bytes(sample_image("coffee")), "image/png"))
    page.run()
    assert not page_errors(page)
    dream(page)
    assert "coffee.png" in page.get("image")[0].proto.imgs[0].caption


def test_vgg16_offline_shows_the_message_and_dreams_with_lite0(clear_streamlit_caches, monkeypatch, tmp_path):
    from core import pretrained

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def offline(url, timeout=20.0):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(pretrained, "_urlopen", offline)
    at = open_page(PAGE)
    at.selectbox(key="dd_model").set_value("vgg16").run()
    at.button(key="dd_vgg_download").click().run()
    assert not at.exception and any("offline" in e.value for e in at.error)
    assert at.selectbox(key="dd_layer_lite0").value == "blocks.11", "still on EfficientNet-Lite0"


def test_stop_keeps_the_dream_so_far():
    """The page's Stop button sets the job's event; the dream stops within one step and is kept."""
    from core import deepdream, pretrained
    from ui import dream as dream_ui, jobs

    cat = sample_image("chelsea")
    cfg = deepdream.Config(longest_side=96, octaves=3, iterations=5)
    job = jobs.Job("deepdream", cfg, input="digest")
    job.stop_event.set()  # pressed before the first step finished
    jobs._run(job, dream_ui.dream_work(pretrained.load_lite0(), cat, cfg, "cat"))  # the thread's body
    assert job.done.is_set() and job.error is None and job.stopped
    dream = job.result
    assert dream.image.stopped and len(dream.image.history) == 1 and len(job.history) == 1
    assert dream.image.pixels.shape == cat.shape and dream.norms is not None


def test_png_download_records_the_parameters(page):
    dream(page)
    button = page.get("download_button")[0]
    from core import deepdream

    cfg = deepdream.Config(longest_side=128, octaves=2, iterations=3)
    assert button.proto.label.endswith("Download PNG")
    assert any(f"deepdream_{cfg.describe()}.png" in c.value for c in page.caption), "the file name carries them"
    png = to_png_bytes(np.zeros((4, 4, 3), np.uint8), deepdream.png_metadata(cfg, 1.0))
    assert "iterations=3" in Image.open(io.BytesIO(png)).text["Parameters"]
