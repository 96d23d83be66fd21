"""core.latent (GANSpace directions in the GAN's noise) and the GAN page's latent sliders: the
directions are unit vectors found from the first layer, sliding changes the digits, and on the page
moving a slider changes the picture."""

from __future__ import annotations

import numpy as np
import pytest

from core import gan, latent
from tests.conftest import open_page, page_errors


@pytest.fixture(scope="module", params=["gan", "dcgan"])
def generator(request):
    model = gan.build_model(gan.Config.tiny(request.param)).eval()
    return model.requires_grad_(False)


def test_directions_are_unit_vectors_ordered_by_variance(generator):
    found = latent.gan_space(generator, k=3, n=400)
    assert found.vectors.shape == (3, generator.noise_dim)
    np.testing.assert_allclose(np.linalg.norm(found.vectors, axis=1), 1.0, atol=1e-5)
    assert (np.diff(found.explained) <= 1e-6).all() and found.explained.sum() <= 1.0
    assert (found.scale > 0).all()
    assert "." in found.layer or found.layer.isdigit(), found.layer  # a layer inside model.net


def test_sliding_changes_the_samples_and_zero_does_not(generator):
    found = latent.gan_space(generator, k=3, n=400)
    start = latent.shifted(generator, found, [0, 0, 0], seed=1)
    np.testing.assert_array_equal(start, gan.sample_grid(generator, 1, n=8, ncols=8))
    assert (latent.shifted(generator, found, [3, 0, 0], seed=1) != start).any()
    assert latent.atlas(generator, found, seed=1, steps=5).shape[1] == 5 * 30 + 2


def test_bad_slider_values_are_refused(generator):
    found = latent.gan_space(generator, k=2, n=300)
    with pytest.raises(ValueError, match="finite"):
        latent.shifted(generator, found, [np.nan, 0], seed=0)
    with pytest.raises(ValueError):
        latent.shifted(generator, found, [1.0], seed=0)
    with pytest.raises(ValueError):
        latent.gan_space(generator, k=0)


def test_gan_page_latent_slider_changes_the_picture(clear_streamlit_caches):
    at = open_page("pages/7_GAN.py")
    assert not page_errors(at), page_errors(at)

    def shifted_url() -> str:
        for element in at.get("image"):
            for img in element.proto.imgs:
                if img.caption.startswith("8 samples, each moved by"):
                    return img.url
        raise AssertionError("the latent-slider samples are missing")

    start = shifted_url()
    at.slider(key="gan_dir0").set_value(3.0).run()
    assert not page_errors(at), page_errors(at)
    moved = shifted_url()
    assert moved != start, "moving direction 1 must change the samples"
    at.slider(key="gan_dir1").set_value(-3.0).run()
    assert shifted_url() != moved
    at.button(key="gan_dir_reset").click().run()
    assert shifted_url() == start, "back to the start shows the unmoved samples again"
