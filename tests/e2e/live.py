"""Plain helpers for driving the real app (no pytest): start `streamlit run streamlit_app.py` on a
free localhost port with a private checkpoint cache, wait for Streamlit runs in a Playwright page,
and collect what went wrong on it. Used by the e2e fixtures (conftest.py) and by `python -m bench`.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("DLE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
SERVER_START_TIMEOUT = 90  # s: a cold `import torch` + streamlit on a busy 2-core machine
RUN_TIMEOUT = 240  # s: one page's first full run, default training included


def browser_missing_reason() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found: run tests/e2e/install_browser.sh"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -r requirements.txt)"
    return None


# --- the server ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    cache_dir: Path
    log_path: Path
    started_at: float  # perf_counter when `streamlit run` was launched
    healthy_after: float  # seconds from launch to a 200 from /_stcore/health

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def peak_rss_mb(self) -> float:
        """Peak resident memory (VmHWM) of the server process, in MB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the test process dies, even by a kill or a CI timeout,
    so no server outlives its suite (Linux prctl PR_SET_PDEATHSIG; a no-op elsewhere)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def start_server(extra_env: dict[str, str] | None = None, *, log_dir: Path | None = None, app_dir: Path = ROOT) -> Server:
    """`streamlit run streamlit_app.py` (of ``app_dir``: the repo by default) on a free port; returns
    once /_stcore/health answers."""
    port = free_port()
    cache = Path(tempfile.mkdtemp(prefix="dle-e2e-cache-"))
    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="dle-e2e-log-"))
    log_path = log_dir / f"streamlit-{port}.log"
    env = {**os.environ, "DLE_CACHE_DIR": str(cache), "PYTHONUNBUFFERED": "1", **(extra_env or {})}
    command = [
        sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
        "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
        "--server.fileWatcherType", "none", "--server.runOnSave", "false",
        "--browser.gatherUsageStats", "false",
    ]
    started = time.perf_counter()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=app_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True, preexec_fn=_die_with_parent)
    url = f"http://127.0.0.1:{port}"
    deadline = started + SERVER_START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if time.perf_counter() > deadline:
            stop_server_process(process)
            raise RuntimeError(f"streamlit not healthy after {SERVER_START_TIMEOUT} s:\n{log_path.read_text()}")
        time.sleep(0.1)
    return Server(url, process, cache, log_path, started, time.perf_counter() - started)


def stop_server_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)  # its own session: only this server and its children
        except ProcessLookupError:
            return
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def stop_server(server: Server) -> None:
    stop_server_process(server.process)
    shutil.rmtree(server.cache_dir, ignore_errors=True)


# --- the browser -----------------------------------------------------------------------------------


def launch_chromium(playwright):
    """Debian's Chromium through Playwright (never a downloaded browser)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def screenshot(page, name: str, max_height: int = 6000) -> Path:
    """The whole page: Streamlit scrolls inside its own container, so `full_page` alone stops at
    the viewport; the viewport is stretched to the content's height for the shot, then restored."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    size = page.viewport_size
    height = page.evaluate("() => Math.max(...[...document.querySelectorAll("
                           "'[data-testid=\"stMain\"], [data-testid=\"stSidebarContent\"]')].map(e => e.scrollHeight), 0)")
    if size and height > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": min(int(height) + 40, max_height)})
        page.wait_for_timeout(500)  # plotly relayout
    page.screenshot(path=str(path), full_page=True)
    if size:
        page.set_viewport_size(size)
    return path



# --- waiting for Streamlit -------------------------------------------------------------------------

BUSY_SELECTORS = (
    '[data-testid="stStatusWidget"]',  # "Running..." in the toolbar (hidden by toolbarMode "minimal")
    '[data-testid="stSpinner"]',  # st.spinner and cache spinners
    '[data-testid="stExpanderIconSpinner"]',  # an st.status box still running (training)
    '[data-testid="stFileChipIconSpinner"]',  # an upload still in flight
    '[data-testid="stSkeleton"]',  # the placeholder before the first delta arrives
)


def script_state(page) -> str:
    """Streamlit's own test hook: `data-test-script-state` on the app root is "running" while a
    script run is in progress and "notRunning" once it has finished (seen with 1.67)."""
    app = page.locator('[data-testid="stApp"]')
    if not app.count():
        return "no app yet"
    return app.first.get_attribute("data-test-script-state") or "unknown"


def wait_idle(page, timeout: float = RUN_TIMEOUT, settle: float = 1.5) -> float:
    """Wait until the script run has finished: script state "notRunning", none of BUSY_SELECTORS
    and a page title, continuously for ``settle`` seconds (late plotly renders land inside it).
    Returns the seconds waited minus the settle time. Raises TimeoutError naming what was busy."""
    start = time.perf_counter()
    page.wait_for_selector('[data-testid="stAppViewContainer"]', timeout=timeout * 1000)
    quiet_since = None
    busy = "never idle"
    while True:
        now = time.perf_counter()
        state = script_state(page)
        found = None if state == "notRunning" else f"script state {state}"
        found = found or next((sel for sel in BUSY_SELECTORS if page.locator(sel).count()), None)
        if found is None and page.locator('[data-testid="stMain"] h1').count():
            quiet_since = quiet_since or now
            if now - quiet_since >= settle:
                return now - start - settle
        else:
            quiet_since = None
            busy = found or "no title yet"
        if now - start > timeout:
            raise TimeoutError(f"page still busy after {timeout:.0f} s ({busy})")
        time.sleep(0.1)


def page_problems(page) -> list[str]:
    """Exception boxes and st.error alerts on the page, as text."""
    problems = []
    for selector in ('[data-testid="stException"]', '[data-testid="stAlertContentError"]'):
        loc = page.locator(selector)
        for i in range(loc.count()):
            problems.append(f"{selector}: {loc.nth(i).inner_text()[:500]}")
    return problems
