"""Only the listed pages are reachable: the home page links them all, an unknown path shows
Streamlit's "Page not found" and runs the home page, the source files are never served, and
pages/ holds exactly the eight listed page files."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.live import ROOT, page_problems, screenshot, wait_idle
from ui.frame import PAGES


def test_pages_folder_holds_only_the_listed_pages():
    """Streamlit serves every .py in pages/: nothing besides the eight listed may be there."""
    present = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").rglob("*.py"))
    assert present == sorted(p.path for p in PAGES)
    assert not [p for p in (ROOT / "pages").iterdir() if p.is_dir() and p.name != "__pycache__"], \
        "sub-folders in pages/ are not expected"


@pytest.mark.e2e
def test_home_page_links_every_page(server, page):
    page.goto(server.url + "/")
    wait_idle(page)
    screenshot(page, "0_home")
    assert page_problems(page) == []
    main = page.locator('[data-testid="stMain"]')
    assert "Deep Learning Explorer" in main.locator("h1").first.inner_text()
    hrefs = {a.get_attribute("href").rstrip("/").rsplit("/", 1)[-1]
             for a in main.locator('[data-testid="stPageLink"] a').all()}
    expected = {Path(p.path).stem.split("_", 1)[1] for p in PAGES}
    assert expected <= hrefs, f"home page misses links: {expected - hrefs}"
    assert "Device:" in page.locator('[data-testid="stSidebar"]').inner_text()
    # a click on a card goes to that page, inside the frame
    main.locator('[data-testid="stPageLink"] a', has_text="Decision Boundary").first.click()
    page.wait_for_url("**/Decision_Boundary")
    wait_idle(page)
    assert "Decision Boundary" in page.locator('[data-testid="stMain"] h1').first.inner_text()
    assert page_problems(page) == []


@pytest.mark.e2e
@pytest.mark.parametrize("path", ["does_not_exist", "1_Regression", "Regression.py", "core", "ui_frame"])
def test_unknown_path_shows_page_not_found_and_home(server, page, path):
    page.goto(f"{server.url}/{path}")
    dialog = page.locator('[role="dialog"]', has_text="Page not found")
    dialog.wait_for(timeout=60_000)
    assert "no corresponding file was found" in dialog.inner_text() or "does not seem to exist" in dialog.inner_text()
    wait_idle(page)
    assert "Deep Learning Explorer" in page.locator('[data-testid="stMain"] h1').first.inner_text(), \
        "after 'page not found' the home page should run"
    assert page.locator('[data-testid="stException"]').count() == 0


@pytest.mark.e2e
@pytest.mark.parametrize("path", ["core/training.py", "pages/1_Regression.py", "ui/jobs.py", "app/static/core/training.py",
                                  "streamlit_app.py", ".streamlit/config.toml", "assets/sonnet.txt", "../core/training.py"])
def test_source_files_are_not_served(server, path):
    try:
        with urllib.request.urlopen(f"{server.url}/{path}", timeout=10) as response:
            body = response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        assert exc.code in (400, 403, 404), exc.code
        return
    # Streamlit answers unknown paths with its single-page app shell, never with the file
    for marker in ("def ", "import ", "maxUploadSize", "forty winters"):
        assert marker not in body, f"/{path} served file contents"
    assert "<html" in body.lower()
