"""Shared test set-up: torch imported once (a cold import outlasts AppTest's 3 s default), the repo
root on sys.path, a private checkpoint cache, Streamlit caches cleared between tests, and small
settings for the slow pages, chosen through their widgets as a user would."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as core/__init__.py does, before torch loads
import torch  # noqa: F401  (warm import: see the docstring)

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Tests never touch the developer's real cache, and never reuse a checkpoint from an earlier run.
os.environ.setdefault("DLE_CACHE_DIR", tempfile.mkdtemp(prefix="dle-test-cache-"))

APP_TIMEOUT = 120  # seconds; AppTest's limit for one script run (default training included)


@pytest.fixture
def clear_streamlit_caches():
    import streamlit as st

    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


# The pages whose defaults take long on 2 CPU cores open with small settings, set the way a user
# would set them (each widget's own key, in session state before the page's first run): the page
# has no test switch, and its real defaults are what the browser suite (tests/e2e) opens.
SMALL_SETTINGS: dict[str, dict[str, object]] = {
    "pages/4_LSTM_Forecasting.py": {"lstm_epochs": 50},  # default 300
    # default: word2vec on a whole book (shipped checkpoint; 12-15 s to retrain on a busy CPU). The
    # suite's page tests open the N-gram model on the sonnet (<1 s); test_page_embeddings opens both.
    "pages/5_Word_Embeddings.py": {"emb_model": "N-gram language model (tutorial 5.4)", "emb_source": "Sonnet 2 (tutorial)"},
    "pages/8_Deep_Dream.py": {"dd_side": 128, "dd_octaves": 2, "dd_iterations": 3},  # default 512 px, 4 x 10
}


def open_page(page: str | None = None, timeout: float = APP_TIMEOUT, settings: dict[str, object] | None = None):
    """Run the home page, then switch to ``page`` (a path such as "pages/1_Regression.py").

    ``settings`` (widget key -> value) are set first; by default the page's SMALL_SETTINGS."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=timeout)
    for key, value in (SMALL_SETTINGS.get(page, {}) if settings is None else settings).items():
        at.session_state[key] = value
    at.run()
    if page is not None:
        at.switch_page(page)
        at.run()
    return at


def page_errors(at) -> list[str]:
    """Exceptions and st.error texts shown on the page."""
    return [str(e.value) for e in at.exception] + [str(e.value) for e in at.error]
