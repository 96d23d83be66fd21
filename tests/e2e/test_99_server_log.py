"""Last in the browser suite: after every page, upload and session above, the server's own log
holds no traceback (an exception the pages caught is fine; one that reached Streamlit or killed a
training thread is not). Streamlit redacts exceptions in the browser (showErrorDetails = "none"),
so this is where they would show."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_server_log_has_no_traceback(server):
    log = server.log()
    assert "Uncaught app execution" not in log and "Traceback (most recent call last)" not in log, log[-4000:]
