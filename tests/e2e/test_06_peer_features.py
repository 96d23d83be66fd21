"""What the best peers have, in a real browser: put points where you want them (regression and
decision boundary: edit the table, the fit or the boundary follows), pick a code with the mouse on
the autoencoder's 2-D latent plane (the decoded digit follows), and slide along the GAN's latent
directions (the digits morph). Each test checks that the picture itself changed."""

from __future__ import annotations

import pytest

from tests.e2e.live import page_problems, screenshot, wait_idle

pytestmark = pytest.mark.e2e


def shot(page, selector: str) -> bytes:
    element = page.locator(selector).first
    element.scroll_into_view_if_needed()
    page.wait_for_timeout(700)  # plotly's transitions
    return element.screenshot()


def edit_first_cell(page, expander_text: str, value: str) -> None:
    """Open the points table and type ``value`` into its first cell (row 1, column 1), as a user does:
    double-click the cell, type over it, Enter (Glide's grid is a canvas: no cell elements to fill;
    the double-click opens its overlay editor). Tried twice, in case a busy machine's grid drops
    the first edit."""
    expander = page.locator('[data-testid="stExpander"]').filter(has_text=expander_text)
    if expander.locator("details[open]").count() == 0:
        expander.locator("summary").click()
    grid = expander.locator('[data-testid="stDataFrame"]')
    for attempt in range(2):
        grid.scroll_into_view_if_needed()
        page.wait_for_timeout(1500)  # the expander's animation, then the grid's first paint
        box = grid.bounding_box()
        page.mouse.dblclick(box["x"] + 100, box["y"] + 35 + 17)  # header row ~35 px, then row 1
        cell = page.locator("input.gdg-input")
        cell.wait_for(timeout=10_000)
        cell.fill(value)  # into the overlay itself: keys typed before it has focus would be lost
        cell.press("Enter")
        try:
            page.get_by_text("Fitting your").first.wait_for(timeout=90_000)  # the edit reached the server
            return
        except Exception:
            shot_path = screenshot(page, f"peers_edit_failed_{attempt}")
    raise AssertionError(f"the edit did not reach the server: see {shot_path}")


def test_regression_table_edit_moves_the_fit(server, page):
    page.goto(f"{server.url}/Regression")
    wait_idle(page)
    before = shot(page, ".st-key-reg_fit")
    edit_first_cell(page, "Put points where you want them", "2.5")
    wait_idle(page)
    # the first row is a training point moved to the right edge: the fit must bend towards it
    assert page.get_by_text("Fitting your 60 points").count() == 1, screenshot(page, "peers_regression_edit")
    after = shot(page, ".st-key-reg_fit")
    screenshot(page, "peers_regression_edited")
    assert page_problems(page) == []
    assert after != before, "the fit chart looks the same after editing a point"


def test_boundary_table_edit_far_point_is_clipped_and_the_boundary_follows(server, page):
    page.goto(f"{server.url}/Decision_Boundary")
    wait_idle(page)
    before = shot(page, ".st-key-lr_boundary")
    edit_first_cell(page, "Put points where you want them", "99")  # far off the plot
    wait_idle(page)
    assert page.get_by_text("moved to its edge").count() == 1, screenshot(page, "peers_boundary_edit")
    after = shot(page, ".st-key-lr_boundary")
    screenshot(page, "peers_boundary_edited")
    assert [p for p in page_problems(page) if "stException" in p] == []
    assert after != before, "the boundary chart looks the same after moving a point"


def decoded_src(page) -> str:
    image = page.locator('[data-testid="stImage"]').filter(has_text="Decoded from the").first
    return image.locator("img").get_attribute("src")


def test_autoencoder_click_on_the_plane_decodes_that_code(server, page):
    page.goto(f"{server.url}/Autoencoder")
    wait_idle(page)
    chart = page.locator(".st-key-ae_plane_pick")
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    centre = decoded_src(page)
    area = chart.locator(".nsewdrag").first.bounding_box()  # plotly's plotting area
    sources = []
    for fx, fy in ((0.25, 0.3), (0.75, 0.7)):
        page.mouse.click(area["x"] + fx * area["width"], area["y"] + fy * area["height"])
        page.get_by_text("Decoded from the code you clicked").first.wait_for(timeout=60_000)
        wait_idle(page)
        page.wait_for_timeout(500)
        sources.append(decoded_src(page))
    screenshot(page, "peers_autoencoder_picked")
    assert [p for p in page_problems(page) if "stException" in p] == []
    assert sources[0] != centre and sources[1] != sources[0], "two clicks must decode two different digits"


def test_gan_latent_slider_morphs_the_digits(server, page):
    page.goto(f"{server.url}/GAN")
    wait_idle(page)
    samples = page.locator('[data-testid="stImage"]').filter(has_text="8 samples, each moved by").first
    samples.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    before_src, before_png = samples.locator("img").get_attribute("src"), samples.screenshot()
    # Streamlit 1.67 draws a slider's thumb as an <input> (older versions: role="slider")
    thumb = page.locator('.st-key-gan_dir0 input, .st-key-gan_dir0 [role="slider"]').first
    thumb.focus()
    thumb.press("End")  # the slider's end: three standard deviations along direction 1
    page.get_by_text("8 samples, each moved by (+3, +0, +0, +0)").first.wait_for(timeout=60_000)
    wait_idle(page)
    samples = page.locator('[data-testid="stImage"]').filter(has_text="8 samples, each moved by").first
    after_src, after_png = samples.locator("img").get_attribute("src"), samples.screenshot()
    screenshot(page, "peers_gan_latent")
    assert [p for p in page_problems(page) if "stException" in p] == []
    assert after_src != before_src and after_png != before_png, "the digits did not change with the slider"
