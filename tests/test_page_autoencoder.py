"""The Autoencoder page through Streamlit's AppTest: renders from the shipped checkpoints, refuses
bad uploads with a message, places a real upload in the latent view, and its sliders do things."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.conftest import open_page, page_errors

PAGE = "pages/6_Autoencoder.py"
DECODED = "The decoder's digit for this point"


def decoded_url(at) -> str:
    for image in at.image:
        if DECODED in image.captions:
            return image.value[0]
    raise AssertionError("the decoded-digit image is missing")


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def latent_slider(at, axis: int):
    return next(s for s in at.slider if str(s.key).startswith(f"ae_z{axis}_"))


@pytest.fixture
def page(clear_streamlit_caches):
    at = open_page(PAGE)
    assert not page_errors(at), page_errors(at)
    return at


def test_page_renders_from_the_shipped_checkpoints(page):
    # loss curve, main 3-D view, the 2-D plane to click on, and the AE and VAE views side by side
    assert len(page.get("plotly_chart")) == 5
    assert metric(page, "Weights") == "shipped", "the default must open instantly from assets/"
    accuracy = float(metric(page, "k-NN accuracy of the codes").rstrip("%"))
    assert accuracy > 50, accuracy  # chance is 10 %
    assert any("Held-out digits nearby" in m.value for m in page.markdown)


def test_latent_sliders_change_the_decoded_digit(page):
    before = decoded_url(page)
    for axis in range(3):
        slider = latent_slider(page, axis)
        low, high = slider.min, slider.max
        target = high if abs(slider.value - high) > abs(slider.value - low) else low
        slider.set_value(target).run()
        assert not page_errors(page)
        after = decoded_url(page)
        assert after != before, f"moving latent slider {axis + 1} did not change the decoded digit"
        before = after


@pytest.mark.parametrize("name,data", [("notes.txt", b"this is not an image"), ("empty.png", b"")])
def test_bad_uploads_give_a_message(page, name, data):
    page.file_uploader(key="ae_upload").upload(name, data).run()
    assert not page.exception
    assert page.error, f"no message for {name}"
    assert len(page.get("plotly_chart")) == 5, "the rest of the page must keep working"


def test_an_uploaded_digit_lands_in_the_latent_view(page):
    from core.mnist import load_digits, to_uint8

    digit = to_uint8(load_digits().test_x[:1])[0]
    sheet = 255 - np.asarray(Image.fromarray(digit).resize((180, 180)), np.uint8)  # dark ink on white
    buffer = io.BytesIO()
    Image.fromarray(sheet).save(buffer, format="PNG")
    page.file_uploader(key="ae_upload").upload("my_digit.png", buffer.getvalue(), "image/png").run()
    assert not page_errors(page), page_errors(page)
    assert any("Its reconstruction" in image.captions for image in page.image)
    assert any("your digit" in chart.proto.spec for chart in page.get("plotly_chart"))


def test_training_controls_change_the_model(page):
    """Epochs, learning rate and batch size each retrain the model and change its held-out loss."""
    losses = [metric(page, "Held-out loss")]
    page.slider(key="ae_epochs").set_value(5).run()
    losses.append(metric(page, "Held-out loss"))
    page.select_slider(key="ae_lr").set_value(1e-2).run()
    losses.append(metric(page, "Held-out loss"))
    page.select_slider(key="ae_batch").set_value(512).run()
    losses.append(metric(page, "Held-out loss"))
    assert not page_errors(page), page_errors(page)
    assert len(set(losses)) == 4, losses
    assert metric(page, "Weights") == "trained now"


def test_model_choice_switches_to_the_conv_autoencoder_and_the_vae(page):
    page.radio(key="ae_model").set_value("conv").run()
    assert not page_errors(page), page_errors(page)
    assert metric(page, "Weights") == "shipped"
    assert any("principal" in c.value for c in page.caption), "the conv view must say it is a PCA projection"
    assert latent_slider(page, 0).label == "PC 1"
    page.radio(key="ae_model").set_value("vae").run()
    assert not page_errors(page), page_errors(page)
    assert metric(page, "Weights") == "shipped"
    assert float(metric(page, "KL term")) > 0
    assert latent_slider(page, 0).label == "Code 1"


def test_interpolation_follows_the_chosen_digits(page):
    def strip_url():
        return next(i.value[0] for i in page.image if i.captions[0].startswith("From a "))

    before = strip_url()
    page.selectbox(key="ae_to").set_value(3).run()
    assert strip_url() != before


def test_full_mnist_offline_stays_on_the_bundled_digits(page, monkeypatch):
    import core.mnist

    monkeypatch.setattr(core.mnist, "full_mnist_downloaded", lambda: False)
    monkeypatch.setattr(core.mnist, "_mirror_reachable", lambda timeout=5.0: False)
    page.button(key="ae_full_mnist").click().run()
    assert not page.exception
    assert any("offline" in w.value for w in page.warning)
    assert page.session_state["ae_source"] == "bundled"
    assert metric(page, "Weights") == "shipped"


def test_full_mnist_when_available_switches_data_and_shortens_training(page, monkeypatch):
    """The success path of the opt-in button, with the download replaced by the bundled digits."""
    import core.mnist

    fake = core.mnist._bundled_arrays()
    monkeypatch.setattr(core.mnist, "_load_full_mnist", lambda: (
        __import__("torch").from_numpy(fake[0]).reshape(-1, 1, 28, 28), __import__("torch").from_numpy(fake[1])))
    core.mnist.load_digits.cache_clear()
    try:
        page.button(key="ae_full_mnist").click().run()
        assert not page_errors(page), page_errors(page)
        assert page.session_state["ae_source"] == "full"
        assert page.slider(key="ae_epochs").value == 10
        assert metric(page, "Weights") == "trained now"
        page.button(key="ae_bundled").click().run()
        assert page.session_state["ae_source"] == "bundled"
        assert metric(page, "Weights") == "shipped"
    finally:
        core.mnist.load_digits.cache_clear()  # never leave fake "full" digits in the process cache


def test_stop_then_retrain_gives_a_new_model_id_and_a_fresh_latent_view(clear_streamlit_caches):
    """Stop, then Retrain, with the same settings: the retrained model is another instance with
    another id, and the page's cached latent view (the sliders' ranges come from it) is the new
    model's, not the stopped one's. Keyed by the Config alone, the stopped view would be served."""
    from core import autoencoder as ae
    from core.mnist import load_digits
    from ui import jobs

    settings = {"ae_epochs": 10, "ae_batch": 512}  # a Config no other test trains (nothing on disk)
    cfg = ae.Config(epochs=10, batch_size=512)

    def direct_ranges(model) -> list[float]:  # (min, max) of each axis of the model's own view
        data = load_digits(cfg.data_seed, cfg.test_fraction, cfg.source)
        n = min(len(data.test_y), 2000)
        return [end for axis in ae.latent_view(model, data.test_x[:n], data.test_y[:n]).ranges() for end in axis]

    def slider_ranges(at) -> list[float]:  # the same, as the page's latent sliders show it
        return [end for axis in range(3) for end in (latent_slider(at, axis).min, latent_slider(at, axis).max)]

    stopped = jobs.registry().get_or_start(ae, cfg)
    stopped.stop_event.set()  # what the Stop button does: the training stops after its first epoch
    assert stopped.done.wait(120) and stopped.ok and stopped.stopped
    at = open_page(PAGE, settings=settings)
    assert not at.exception and any("stopped early" in w.value for w in at.warning)
    assert slider_ranges(at) == pytest.approx(direct_ranges(stopped.model))

    at.button(key="ae_retrain").click().run()
    assert not page_errors(at), page_errors(at)
    retrained = jobs.registry().find(ae, cfg)
    assert retrained is not stopped and retrained.ok and not retrained.stopped
    assert jobs.model_id(retrained.model) != jobs.model_id(stopped.model)
    assert slider_ranges(at) == pytest.approx(direct_ranges(retrained.model)), "the stopped model's view was served"
    assert slider_ranges(at) != pytest.approx(direct_ranges(stopped.model))
    assert metric(at, "Weights") == "trained now"


PICKED = "Decoded from the code you clicked"


def picked_url(at) -> str:
    for image in at.image:
        if any(c.startswith("Decoded from the") for c in image.captions):
            return image.value[0]
    raise AssertionError("the clicked-code image is missing")


def click(at, x: float, y: float):
    """A click on the 2-D plane, as the browser reports a plotly point selection."""
    at.session_state["ae_plane_pick"] = {"selection": {"points": [{"x": x, "y": y, "curve_number": 10}],
                                                       "point_indices": [0], "box": [], "lasso": []}}
    return at.run()


def test_clicking_two_codes_on_the_plane_decodes_two_digits(page):
    centre = picked_url(page)
    assert any("Click anywhere on the plane" in str(i.value) for i in page.info)
    chart = next(c for c in page.get("plotly_chart") if '"any code"' in c.proto.spec)
    assert chart.proto.selection_mode, "the plane must be selectable"
    # the latent sliders span the held-out codes: click at a quarter and three quarters of codes 1 and 2
    (x_lo, x_hi), (y_lo, y_hi) = ((s.min + 0.25 * (s.max - s.min), s.min + 0.75 * (s.max - s.min))
                                  for s in (latent_slider(page, 0), latent_slider(page, 1)))
    first = picked_url(click(page, x_lo, y_lo))
    assert not page_errors(page), page_errors(page)
    assert any(PICKED in image.captions for image in page.image)
    second = picked_url(click(page, x_hi, y_hi))
    assert first != second != centre, "two clicked codes must decode to two different pictures"
    # the third axis, looked along, changes the decoded code too, and the click stays
    depth = next(s for s in page.slider if str(s.key).startswith("ae_plane_depth_"))
    depth.set_value(depth.max).run()
    assert picked_url(page) != second
    assert any(PICKED in image.captions for image in page.image)


def test_a_malformed_selection_falls_back_to_the_centre(page):
    page.session_state["ae_plane_pick"] = {"selection": {"points": [{"x": "left"}], "point_indices": [],
                                                         "box": [], "lasso": []}}
    page.run()
    assert not page_errors(page), page_errors(page)
    assert any("Decoded from the plane's centre" in image.captions for image in page.image)
