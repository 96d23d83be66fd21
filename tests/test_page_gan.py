"""The GAN page through AppTest: the shipped DCGAN opens instantly with samples, charts and the
quality meter; the sample seed, the film scrubber and the model choice change what is shown."""

from __future__ import annotations

import pytest

from core import gan
from core.checkpoints import BUNDLED_DIR, config_key
from tests.conftest import open_page, page_errors

PAGE = "pages/7_GAN.py"


def image_urls(at) -> list[str]:
    """Media URLs of the page's images; Streamlit names media by a hash of the image bytes."""
    return [img.url for element in at.get("image") for img in element.proto.imgs]


pytestmark = pytest.mark.usefixtures("clear_streamlit_caches")


def test_default_page_opens_on_the_shipped_dcgan_and_seed_changes_samples():
    assert (BUNDLED_DIR / f"{config_key(gan.Config.default('dcgan'))}.pt").is_file(), \
        "run: python -m core.make_checkpoints gan"
    at = open_page(PAGE)
    assert not page_errors(at), page_errors(at)
    assert any("shipped" in c.value for c in at.caption), "the default should come from the bundled checkpoint"
    assert len(at.get("plotly_chart")) == 2  # losses + mode-collapse meter
    assert len(at.metric) == 3
    before = image_urls(at)
    assert len(before) >= 5  # samples, real digits, film frame, film strip, interpolation

    at.number_input(key="gan_sample_seed").set_value(7).run()
    after = image_urls(at)
    assert not page_errors(at)
    assert after[0] != before[0], "a new sample seed must draw new samples"
    assert after[1] != before[1], "the real digits shown beside them change with the seed too"

    at.select_slider(key="gan_film_step").set_value(0).run()
    assert image_urls(at)[2] != after[2], "scrubbing the film to iteration 0 shows the untrained samples"

    at.slider(key="gan_interp_steps").set_value(4).run()
    assert image_urls(at)[4] != after[4]


def test_switching_to_the_mlp_gan_trains_it_live():
    at = open_page(PAGE)
    # a short training, set as a user would: 50 iterations (the slider's minimum), a snapshot each
    at.session_state["gan_iterations_lsgan"] = 50
    at.session_state["gan_preview_every_lsgan"] = 1
    at.selectbox(key="gan_kind").set_value("lsgan").run()
    assert not page_errors(at), page_errors(at)
    assert any("training just now" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) == 2
    # and the training's snapshots are there to scrub: 50 iterations, one every iteration
    assert at.select_slider(key="gan_film_step").value == 50
