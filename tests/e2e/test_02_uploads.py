"""Uploads through the real browser file input: a photo on the CNN and Deep Dream pages, a digit
on the autoencoder page, each checked to have been used by the page (not just accepted)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.e2e.live import page_problems, screenshot, wait_idle

pytestmark = pytest.mark.e2e


def coffee_jpeg() -> bytes:
    """A real photo (scikit-image's cup of coffee) as a camera would save it."""
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.coffee()).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def digit_png() -> bytes:
    """A real handwritten 7 (MNIST), scaled up and dark on light, like a photo of paper."""
    from core.mnist import load_digits

    d = load_digits(0, 0.2)
    x = d.test_x[d.test_y == 7][0, 0].numpy()
    pixels = 255 - ((x + 1) * 127.5).clip(0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "L").resize((240, 240), Image.Resampling.BILINEAR).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(page, key: str, name: str, data: bytes, mime: str) -> None:
    scoped = page.locator(f'.st-key-{key} input[type="file"]')
    target = scoped if scoped.count() else page.locator('[data-testid="stFileUploader"] input[type="file"]').first
    target.set_input_files({"name": name, "mimeType": mime, "buffer": data})


def captions(page) -> str:
    loc = page.locator('[data-testid="stImageCaption"], [data-testid="stCaptionContainer"]')
    return "\n".join(loc.nth(i).inner_text() for i in range(loc.count()))


def chart_text(page, key: str) -> str:
    return page.locator(f".st-key-{key} .js-plotly-plot").first.text_content() or ""


def test_cnn_page_uses_an_uploaded_photo(server, page):
    page.goto(f"{server.url}/CNN_Feature_Maps")
    wait_idle(page)
    before = chart_text(page, "cnn_top5")
    assert any(word in before.lower() for word in ("cat", "tabby", "lynx")), f"sample cat not recognised: {before[:300]}"

    upload(page, "cnn_upload", "my_coffee.jpg", coffee_jpeg(), "image/jpeg")
    page.wait_for_function("() => document.body.innerText.includes('my_coffee.jpg ·')", timeout=120_000)
    wait_idle(page)
    shot = screenshot(page, "upload_CNN_Feature_Maps")
    assert page_problems(page) == [], f"see {shot}"
    assert "my_coffee.jpg" in captions(page)
    after = chart_text(page, "cnn_top5")
    assert after != before, "the top-5 predictions did not change with the new photo"
    assert any(word in after.lower() for word in ("espresso", "cup", "coffee")), f"coffee not recognised: {after[:300]}"


def test_deep_dream_page_dreams_on_an_uploaded_photo(server, page):
    page.goto(f"{server.url}/Deep_Dream")
    wait_idle(page)
    upload(page, "dd_upload", "my_coffee.jpg", coffee_jpeg(), "image/jpeg")
    page.wait_for_function("() => document.body.innerText.includes('my_coffee.jpg')", timeout=120_000)
    wait_idle(page)
    page.locator(".st-key-dd_run button").first.click()
    # the result view: a before/after wipe image whose caption names the source photo
    page.wait_for_selector("text=Before / after", timeout=240_000)
    wait_idle(page, timeout=300)
    shot = screenshot(page, "upload_Deep_Dream")
    assert page_problems(page) == [], f"see {shot}"
    text = captions(page)
    assert "my_coffee.jpg" in text and " px · " in text, f"the dream did not use the upload: {text[:400]}"
    downloads = page.locator(".st-key-dd_download button")
    assert downloads.count() >= 1, "no PNG download of the dream"


def test_autoencoder_page_encodes_an_uploaded_digit(server, page):
    page.goto(f"{server.url}/Autoencoder")
    wait_idle(page)
    upload(page, "ae_upload", "my_seven.png", digit_png(), "image/png")
    page.wait_for_function("() => document.body.innerText.includes('Your upload')", timeout=120_000)
    wait_idle(page)
    shot = screenshot(page, "upload_Autoencoder")
    assert page_problems(page) == [], f"see {shot}"
    text = captions(page)
    assert "Your upload" in text and "reconstruction" in text.lower(), text[:400]
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "Code: (" in body or "Code:" in body, "the uploaded digit's code is not shown"


def test_a_bad_upload_shows_a_message_and_the_page_recovers(server, page):
    page.goto(f"{server.url}/CNN_Feature_Maps")
    wait_idle(page)
    upload(page, "cnn_upload", "not_a_photo.png", b"just some text, not an image\n" * 50, "image/png")
    page.wait_for_selector('[data-testid="stAlertContentError"]', timeout=120_000)
    wait_idle(page)
    error = page.locator('[data-testid="stAlertContentError"]').first.inner_text()
    assert "not_a_photo.png" in error and "image" in error.lower()
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator(".js-plotly-plot").count() >= 1, "the page stopped working after a bad upload"
    upload(page, "cnn_upload", "my_coffee.jpg", coffee_jpeg(), "image/jpeg")
    page.wait_for_function("() => document.body.innerText.includes('my_coffee.jpg ·')", timeout=120_000)
    wait_idle(page)
    assert page_problems(page) == []


def test_lstm_page_reads_the_calendar_of_a_real_weekly_csv(server, page):
    """Weekly CO2 readings dated by YYYYMMDD integers: the page finds the dates and their weekly
    calendar, says so, sets the season to 52 weeks, and plots against dates."""
    from pathlib import Path

    csv = (Path(__file__).resolve().parents[1] / "data" / "co2_weekly.csv").read_bytes()
    page.goto(f"{server.url}/LSTM_Forecasting")
    wait_idle(page)
    page.locator(".st-key-lstm_source").get_by_text("Upload a CSV").click()
    wait_idle(page)
    upload(page, "lstm_csv", "co2_weekly.csv", csv, "text/csv")
    page.wait_for_function("() => document.body.innerText.includes('weekly')", timeout=120_000)
    wait_idle(page, timeout=300)
    shot = screenshot(page, "upload_LSTM_co2")
    assert page_problems(page) == [], f"see {shot}"
    sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
    assert "Found weekly dates in 'date'" in sidebar and "season length 52" in sidebar, sidebar[-600:]
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "Seasonal naive (lag 52)" in body, body[:800]
    assert "1960" in chart_text(page, "lstm_series") or "1970" in chart_text(page, "lstm_series")
