"""Real-browser fixtures: a `streamlit run streamlit_app.py` server on a free localhost port with a
private checkpoint cache (DLE_CACHE_DIR in a temp dir), and Debian's Chromium driven headless by
Playwright (helpers in live.py).

The browser is the system package (/usr/bin/chromium, installed by tests/e2e/install_browser.sh),
never a `playwright install` download. Without it the e2e tests skip, unless DLE_REQUIRE_BROWSER=1
or CI=true (as .ci/run sets) turns the skip into a failure. Screenshots and the server log go to test-artifacts/e2e/.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.e2e.live import ARTIFACTS, browser_missing_reason, launch_chromium, start_server, stop_server


def require_browser() -> None:
    reason = browser_missing_reason()
    if reason is None:
        return
    if os.environ.get("DLE_REQUIRE_BROWSER") == "1" or os.environ.get("CI") == "true":
        pytest.fail(f"the browser tests are required here (DLE_REQUIRE_BROWSER=1 or CI=true) but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def server():
    """One fresh server for the browser suite. test_01_pages runs first and deep-links to every
    page before anything opens the home page, so each page proves the frame on a fresh process
    whose entry script has never run. The server runs the app as users get it: real defaults."""
    require_browser()
    srv = start_server()
    yield srv
    stop_server(srv)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(srv.log_path, ARTIFACTS / "streamlit-server.log")


@pytest.fixture(scope="session")
def browser():
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = launch_chromium(p)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 1400})
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    return pg
