"""Two browser sessions on one server: asking for the same new model at once gives one training
that both watch, and a Stop pressed in one leaves the other with a working page.

The LSTM page at 2000 epochs trains long enough on 2 cores to press Stop in the middle. Both
sessions show the job's status label, which carries the job's own duration ("… in 7.3 s"): the
same text in both windows means they watched the same job (one training, not two).
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.live import page_problems, screenshot, wait_idle

pytestmark = pytest.mark.e2e

def set_slider_to_end(page, key: str) -> None:
    # Streamlit 1.67 draws a slider's thumb as an <input> (older versions: role="slider")
    thumb = page.locator(f'.st-key-{key} input, .st-key-{key} [role="slider"]').first
    thumb.focus()
    thumb.press("End")


def status_label(page) -> str:
    """The training status box's label, e.g. 'Training the LSTM: stopped early in 4.2 s'."""
    loc = page.locator('[data-testid="stExpander"] summary')
    texts = [loc.nth(i).inner_text() for i in range(loc.count())]
    return next((t for t in texts if re.search(r"(done|stopped early|failed|loaded from).* in [0-9.]+ s", t)), "")


def test_same_model_two_sessions_one_training_and_stop(server, browser):
    contexts = [browser.new_context(viewport={"width": 1280, "height": 1400}) for _ in range(2)]
    try:
        a, b = (ctx.new_page() for ctx in contexts)
        for pg in (a, b):
            pg.set_default_timeout(60_000)
            pg.goto(f"{server.url}/LSTM_Forecasting")
            wait_idle(pg)
            assert page_problems(pg) == []

        # both sessions ask for the same new model (2000 epochs) at about the same moment
        # (Playwright's sync API is bound to one thread: the two pages are driven back to back)
        set_slider_to_end(a, "lstm_epochs")
        set_slider_to_end(b, "lstm_epochs")
        for pg in (a, b):
            pg.wait_for_selector(".st-key-lstm_stop button", timeout=60_000)

        # A presses Stop a moment into training; B just waits
        a.wait_for_function("() => /step [0-9]+ \\/ 2000/.test(document.body.innerText)", timeout=60_000)
        a.locator(".st-key-lstm_stop button").first.click()
        wait_idle(a, timeout=180)
        wait_idle(b, timeout=180)
        screenshot(a, "sessions_A_pressed_stop")
        screenshot(b, "sessions_B_watched")

        for name, pg in (("A", a), ("B", b)):
            assert page_problems(pg) == [], f"session {name}: {page_problems(pg)}"
            assert pg.locator(".js-plotly-plot").count() >= 1, f"session {name} lost its charts"
        label_a, label_b = status_label(a), status_label(b)
        assert "stopped early" in label_a, label_a
        assert label_a == label_b, f"two different jobs? A: {label_a!r} B: {label_b!r}"
        assert "stopped early" in b.locator('[data-testid="stMain"]').inner_text() or \
            b.locator('[data-testid="stAlertContentWarning"]').count() >= 1
        # B keeps working: a view control still re-renders without error
        set_slider_to_end(b, "lstm_horizon")
        wait_idle(b)
        assert page_problems(b) == []
    finally:
        for ctx in contexts:
            ctx.close()
