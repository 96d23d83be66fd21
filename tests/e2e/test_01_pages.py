"""Every page, opened by deep link on a fresh server (the home page is never visited first), runs to
the end without an exception or error box, shows its main chart or image inside the shared frame,
and leaves a screenshot in test-artifacts/e2e/."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.e2e.live import ROOT, page_problems, screenshot, wait_idle
from ui.frame import PAGES

pytestmark = pytest.mark.e2e


def url_path(page_file: str) -> str:
    """Streamlit 1.67's URL for a pages/ file: `pages/3_CNN_Feature_Maps.py` -> `CNN_Feature_Maps`
    (number prefix and `.py` dropped, spaces/underscores collapsed to `_`)."""
    from streamlit.source_util import page_icon_and_name

    return page_icon_and_name(Path(page_file))[1]


def test_url_rule():
    assert [url_path(p.path) for p in PAGES] == [
        "Regression", "Decision_Boundary", "CNN_Feature_Maps", "LSTM_Forecasting", "Word_Embeddings",
        "Autoencoder", "GAN", "Deep_Dream"]


@pytest.mark.parametrize("info", PAGES, ids=[url_path(p.path) for p in PAGES])
def test_page_by_deep_link(server, page, info):
    assert (ROOT / info.path).is_file(), f"{info.path} does not exist"
    page.goto(f"{server.url}/{url_path(info.path)}")
    seconds = wait_idle(page)
    shot = screenshot(page, f"{PAGES.index(info) + 1}_{url_path(info.path)}")

    assert page_problems(page) == [], f"{info.title}: see {shot}"
    main = page.locator('[data-testid="stMain"]')
    assert info.title in main.locator("h1").first.inner_text(), "the page's own title is missing"
    charts = main.locator('.js-plotly-plot, [data-testid="stImage"]')
    assert charts.count() >= 1, f"{info.title}: no plotly chart or image after {seconds:.0f} s (see {shot})"
    assert any(charts.nth(i).is_visible() for i in range(charts.count())), "charts exist but none is visible"

    # the shared frame: device badge in the sidebar, and the nav lists exactly home + the 8 pages
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert "Device:" in sidebar.inner_text()
    links = sidebar.locator('[data-testid="stPageLink"] a')
    hrefs = sorted(urlparse(links.nth(i).get_attribute("href")).path.strip("/") for i in range(links.count()))
    expected = sorted([""] + [url_path(p.path) for p in PAGES])  # "" is the home page
    assert hrefs == expected, f"sidebar links {hrefs}"
    first = links.first.inner_text()
    assert "Home" in first, f"the navigation's first entry is {first!r}, not Home"
