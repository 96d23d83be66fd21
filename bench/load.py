"""Load benchmark, "a whole class on one server": N students drive one real `streamlit run` at once.

    python -m bench.load --students 1 10 30          # writes bench/LOAD.md and prints it
    python -m bench.load --students 2 --moves 1 --no-baseline --no-sigterm --output -

Each N gets a fresh server (`streamlit run streamlit_app.py` on a free 127.0.0.1 port, the agent API
switched on with `--server.enableAgentApi true` on the command line only, a fresh empty
DLE_CACHE_DIR). Students are threads of this process, each with its own agent session
(`POST /_stcore/agent/interact`), spread round-robin over the pages. Each opens its page (default
training, shared app-wide), then makes K moves alternating between

- "re-render": a view control that does not change the Config (replay epoch, threshold, horizon...);
- "retrain": the seed set to a value no other student or move uses (a model nobody trained yet);
  the move lasts until the page shows the finished model (re-sent `session_id` polls while a
  running status, spinner or unfinished progress bar is on the page).

Measured per N: p50/p95/max per kind of move (raw, and net of the idle floor of one request on that
page), HTTP and transport errors, exception elements and st.error boxes in the returned pages,
trainings (distinct Configs asked for, and checkpoints written to the cache dir), wall time, the
server's peak RSS (VmHWM, process tree) and CPU seconds, and the driver's own cost (its CPU time,
the HTTP floor, the idle no-op interaction per page). Then the "linear capacity" baseline (the same
trainings one after another in one session on a fresh server) and, once, the SIGTERM check under
load (N=10 mid-run: seconds until the server exits, half-written files in its cache dir).

Every loop is bounded in count and time; every server is killed in a `finally`; loopback only.
The widget keys come from each page's returned `actions` at run time: `PAGE_WIDGETS` only names
which ones to prefer (a key equal to the name or ending in `_<name>`), with a fallback.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # loopback only, never any other address
INTERACT = "/_stcore/agent/interact"

DEFAULT_PAGES = ("Regression", "Decision_Boundary", "LSTM_Forecasting", "Word_Embeddings")
# url_path -> (re-render widget names, retrain widget names), most preferred first. A name matches an
# action key equal to it or ending in "_<name>" (so a rename to a prefixed key still matches).
PAGE_WIDGETS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Regression": (("replay",), ("seed",)),
    "Decision_Boundary": (("threshold",), ("seed",)),
    "LSTM_Forecasting": (("horizon",), ("seed",)),
    "Word_Embeddings": (("epoch",), ("seed",)),
    "CNN_Feature_Maps": (("k",), ("seed",)),
    "Autoencoder": (("z0",), ("seed",)),
    "GAN": (("interp_steps", "steps"), ("seed",)),
}
SLIDERS = ("slider", "select_slider")
KINDS = ("open", "re-render", "retrain")

SERVER_START_TIMEOUT_S = 120
REQUEST_TIMEOUT_S = 240  # one HTTP request (the server answers 202 after agentWaitTimeout anyway)
MOVE_TIMEOUT_S = 300  # one move, 202 re-sends and polls included
DEADLINE_S = 720  # one N, all students
BASELINE_DEADLINE_S = 480
MAX_CALLS_PER_MOVE = 200
POLL_S = 0.5
# Extra `streamlit run` options for experiments (`--flag runner.postScriptGC=false`), recorded in the report.
EXTRA_FLAGS: list[str] = []
SIGTERM_WAIT_S = 150


# --- the server -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    try:  # the child gets SIGTERM if this driver dies (Linux PR_SET_PDEATHSIG)
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    cache_dir: Path
    log_path: Path
    healthy_after: float

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def start_server(extra_env: dict[str, str] | None = None, wait_timeout: int = 30) -> Server:
    """`streamlit run streamlit_app.py` on a free loopback port with the agent API on (command
    line only) and a fresh empty checkpoint cache; returns once /_stcore/health answers."""
    port = free_port()
    cache = Path(tempfile.mkdtemp(prefix="dle-load-cache-"))
    log_path = Path(tempfile.mkdtemp(prefix="dle-load-log-")) / f"streamlit-{port}.log"
    env = {**os.environ, "DLE_CACHE_DIR": str(cache), "PYTHONUNBUFFERED": "1", **(extra_env or {})}
    command = [
        sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
        "--server.port", str(port), "--server.address", HOST, "--server.headless", "true",
        "--server.fileWatcherType", "none", "--server.runOnSave", "false",
        "--browser.gatherUsageStats", "false",
        "--server.enableAgentApi", "true", "--server.agentWaitTimeout", str(wait_timeout),
    ]
    for flag in EXTRA_FLAGS:
        name, _, value = flag.partition("=")
        command += [f"--{name.lstrip('-')}", value]
    started = time.perf_counter()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True, preexec_fn=_die_with_parent)
    server = Server(f"http://{HOST}:{port}", process, cache, log_path, float("nan"))
    import requests

    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"streamlit exited with {process.returncode}:\n{server.log()[-3000:]}")
            try:
                if requests.get(f"{server.url}/_stcore/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.perf_counter() - started > SERVER_START_TIMEOUT_S:
                raise RuntimeError(f"streamlit not healthy after {SERVER_START_TIMEOUT_S} s:\n{server.log()[-3000:]}")
            time.sleep(0.2)
    except BaseException:
        stop_server(server)
        raise
    server.healthy_after = time.perf_counter() - started
    return server


def stop_server(server: Server, *, keep_cache: bool = False) -> None:
    """SIGTERM the server's process group, SIGKILL after 15 s; always safe to call twice."""
    process = server.process
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(10)
    if not keep_cache:
        shutil.rmtree(server.cache_dir, ignore_errors=True)
        shutil.rmtree(server.log_path.parent, ignore_errors=True)


# --- /proc: memory and CPU of the server's process tree ------------------------------------------------


def _tree_pids(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo and len(pids) < 500:
        p = todo.pop()
        pids.append(p)
        for children in Path(f"/proc/{p}/task").glob("*/children"):
            try:
                todo += [int(c) for c in children.read_text().split()]
            except (OSError, ValueError):
                pass
    return pids


def _status_kb(pid: int, field_name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def tree_mb(pid: int, field_name: str) -> float:
    """Sum of VmHWM (peak) or VmRSS (now) over the process and its children, in MB."""
    return sum(_status_kb(p, field_name) for p in _tree_pids(pid)) / 1024


def tree_cpu_s(pid: int) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for p in _tree_pids(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        except (OSError, ValueError, IndexError):
            pass
    return total


class Monitor(threading.Thread):
    """Samples the server tree's RSS and thread count every 0.5 s (bounded by a stop event)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True, name="load-monitor")
        self.pid, self.stop = pid, threading.Event()
        self.max_rss_mb, self.max_threads = 0.0, 0

    def run(self) -> None:
        while not self.stop.wait(0.5):
            self.max_rss_mb = max(self.max_rss_mb, tree_mb(self.pid, "VmRSS"))
            self.max_threads = max(self.max_threads, _status_kb(self.pid, "Threads"))


# --- the page JSON ------------------------------------------------------------------------------------


def walk(node: dict, root: str = "", inside: tuple[str, ...] = ()):
    """(node, root container, states of the enclosing st.status nodes) for every node of a tree."""
    kind = node.get("type", "")
    if kind in ("main", "sidebar", "event", "bottom"):
        root = kind
    yield node, root, inside
    if kind == "status":
        inside = inside + (str((node.get("props") or {}).get("state", "")),)
    for child in node.get("children") or ():
        yield from walk(child, root, inside)


def page_facts(snapshot: dict) -> dict:
    """What a returned page shows: exceptions, st.error boxes, training statuses, work in progress."""
    facts = {"exceptions": 0, "error_boxes": 0, "statuses": [], "busy": False, "messages": [], "progress": []}
    for node, _root, inside in walk(snapshot.get("tree") or {}):
        kind, props = node.get("type"), node.get("props") or {}
        if kind == "exception":
            facts["exceptions"] += 1
            facts["messages"].append(f"exception: {props.get('type', '')} {props.get('message', '')}"[:200])
        elif kind == "error":
            facts["error_boxes"] += 1
            facts["messages"].append(f"st.error: {props.get('body', '')}"[:200])
        elif kind == "status":
            facts["statuses"].append((props.get("state"), props.get("label")))
            if props.get("state") == "running":
                facts["busy"] = True
        elif kind == "spinner":
            facts["busy"] = True
        elif kind == "progress":
            value = props.get("value")
            facts["progress"].append(props.get("text"))
            finished_box = any(s in ("complete", "error") for s in inside)
            if isinstance(value, (int, float)) and value < 1 and not finished_box:
                facts["busy"] = True
    # A training drawn in this run: a status box whose labels/progress differ from the page before
    # (a fragment rerun leaves the earlier run's box on the page unchanged).
    facts["fingerprint"] = repr((facts["statuses"], facts["progress"])) if facts["statuses"] else None
    if snapshot.get("status") == "error" and not facts["exceptions"]:
        facts["exceptions"] += 1
        facts["messages"].append("snapshot status: error")
    return facts


def widgets(snapshot: dict) -> dict[str, dict]:
    """key -> {"action", "node", "root"} for each settable (kind "value") action of a snapshot."""
    nodes = {}
    for node, root, _inside in walk(snapshot.get("tree") or {}):
        if node.get("key"):
            nodes.setdefault(node["key"], (node, root))
    out = {}
    for action in snapshot.get("actions") or ():
        if action.get("kind") != "value" or action.get("key") not in nodes:
            continue
        node, root = nodes[action["key"]]
        if (node.get("props") or {}).get("disabled"):
            continue
        out[action["key"]] = {"action": action, "node": node, "root": root}
    return out


def _matches(key: str, name: str) -> bool:
    return key == name or key.endswith("_" + name)


def find_widget(snapshot: dict, page: str, kind: str) -> tuple[str, dict] | None:
    """The widget a move of ``kind`` sets on ``page``: from PAGE_WIDGETS, else a fallback (re-render:
    the first slider outside the sidebar; retrain: a number input labelled Seed, else the first
    sidebar slider)."""
    found = widgets(snapshot)
    names = PAGE_WIDGETS.get(page, ((), ()))[0 if kind == "re-render" else 1]
    wanted_types = SLIDERS if kind == "re-render" else ("number_input",) + SLIDERS
    for name in names:
        for key, w in found.items():
            if _matches(key, name) and w["node"].get("type") in wanted_types and not isinstance(w["node"].get("value"), list):
                return key, w
    for key, w in found.items():
        node = w["node"]
        if isinstance(node.get("value"), list):
            continue
        if kind == "re-render" and node.get("type") in SLIDERS and w["root"] == "main":
            return key, w
        if kind == "retrain" and node.get("type") == "number_input" and \
                str((node.get("props") or {}).get("label", "")).strip().lower() == "seed":
            return key, w
    if kind == "retrain":
        for key, w in found.items():
            if w["node"].get("type") in SLIDERS and w["root"] == "sidebar" and not isinstance(w["node"].get("value"), list):
                return key, w
    return None


def next_value(node: dict, shift: int):
    """A legal value other than the current one, ``shift`` options/steps away (wrapping)."""
    props, current = node.get("props") or {}, node.get("value")
    options = props.get("options")
    if options:
        options = list(options)
        i = options.index(current) if current in options else 0
        j = (i + 1 + shift) % len(options)
        if j == i:
            j = (i + 1) % len(options)
        return options[j]
    lo, hi = props.get("min_value"), props.get("max_value")
    step = props.get("step") or 1
    integer = (node.get("value_schema") or {}).get("type") == "integer"
    if lo is None or hi is None:
        return (current or 0) + step * (1 + shift)
    n = max(1, int(round((hi - lo) / step)) + 1)
    i = int(round(((current if current is not None else lo) - lo) / step))
    j = (i + 1 + shift) % n
    if j == i:
        j = (i + 1) % n
    value = lo + j * step
    return int(round(value)) if integer else round(value, 10)


def retrain_value(node: dict, student: int, move: int, moves: int):
    """A value nobody else asks for: seed = 100 + student * moves + move (clipped to the bounds);
    for a fallback widget without bounds that fit, a value some steps away."""
    props = node.get("props") or {}
    if node.get("type") == "number_input":
        seed = 100 + student * max(moves, 1) + move
        lo, hi = props.get("min_value"), props.get("max_value")
        if (lo is None or seed >= lo) and (hi is None or seed <= hi):
            return seed
    return next_value(node, shift=student * max(moves, 1) + move)


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) < 1e-9
    return str(a) == str(b)


def _value_of(snapshot: dict, key: str):
    for node, _root, _inside in walk(snapshot.get("tree") or {}):
        if node.get("key") == key:
            return node.get("value")
    return None


# --- one student ------------------------------------------------------------------------------------


@dataclass
class Move:
    student: int
    page: str
    kind: str  # open / re-render / retrain (as planned)
    key: str = ""
    value: object = None
    seconds: float = float("nan")  # send -> settled page (202 re-sends and polls included)
    calls: int = 0
    parse_s: float = 0.0  # the driver's JSON decoding, not in ``seconds``
    http_errors: list[str] = field(default_factory=list)
    exceptions: int = 0
    error_boxes: int = 0
    messages: list[str] = field(default_factory=list)
    trained: bool = False  # the page showed a training status during the move
    applied: bool = True  # the widget holds the value sent
    finished: bool = False  # settled before the deadline
    started_at: float = 0.0  # seconds since the run began

    @property
    def errors(self) -> int:
        return len(self.http_errors) + (0 if self.applied else 1) + (0 if self.finished else 1)


class Client:
    """One student's agent session over one keep-alive HTTP connection."""

    def __init__(self, url: str, request_timeout: float = REQUEST_TIMEOUT_S):
        import requests

        self.requests = requests
        self.http = requests.Session()
        self.url = url + INTERACT
        self.request_timeout = request_timeout
        self.session_id: str | None = None
        self.snapshot: dict = {}

    def close(self) -> None:
        self.http.close()

    def _post(self, body: dict, timeout: float):
        start = time.perf_counter()
        try:
            response = self.http.post(self.url, json=body, timeout=timeout)
        except self.requests.RequestException as exc:
            return None, None, time.perf_counter() - start, 0.0, f"{type(exc).__name__}: {exc}"[:200]
        got = time.perf_counter()
        try:
            data = response.json()
        except ValueError:
            data = None
        return response.status_code, data, got - start, time.perf_counter() - got, None

    def interact(self, body: dict, move: Move, deadline: float, stop: threading.Event | None = None) -> bool:
        """Send ``body``; collect 202s and recover from lost answers by re-sending the session_id;
        then poll (re-send the session_id) while the page shows work in progress. True when the
        page settled; ``move`` gets the time, calls, errors and page facts."""
        start = time.perf_counter()
        current = dict(body)
        settled = False
        before = page_facts(self.snapshot)["fingerprint"] if self.snapshot else None
        while move.calls < MAX_CALLS_PER_MOVE and not (stop is not None and stop.is_set()):
            left = deadline - time.perf_counter()
            if left <= 0:
                break
            code, data, _http_s, parse_s, exc = self._post(current, min(self.request_timeout, max(5.0, left)))
            move.calls += 1
            move.parse_s += parse_s
            sid = (data or {}).get("session_id") if isinstance(data, dict) else None
            if sid:
                self.session_id = sid
            error = ((data or {}).get("error") or {}) if isinstance(data, dict) else {}
            if code == 200 and isinstance(data, dict) and "tree" in data:
                self.snapshot = data
                facts = page_facts(data)
                move.trained = move.trained or (facts["fingerprint"] is not None and facts["fingerprint"] != before)
                if not facts["busy"]:
                    move.exceptions, move.error_boxes = facts["exceptions"], facts["error_boxes"]
                    move.messages = facts["messages"][:5]
                    settled = True
                    break
                time.sleep(POLL_S)  # a training still running on the page: poll
                current = {"session_id": self.session_id}
                continue
            if code == 202 or (code == 409 and error.get("code") == "session_busy"):
                if code == 409:
                    time.sleep(POLL_S)
                current = {"session_id": self.session_id}
                continue
            if code is None:  # no answer at all: resend only the session_id, as the API asks
                move.http_errors.append(exc or "no response")
                if self.session_id is None:
                    break
                time.sleep(1.0)
                current = {"session_id": self.session_id}
                continue
            move.http_errors.append(f"HTTP {code} {error.get('code', '')}: {error.get('message', '')}"[:200])
            break
        move.seconds = time.perf_counter() - start
        move.finished = settled
        return settled


def plan(student: int, moves: int) -> list[str]:
    """Alternating re-render / retrain; odd students start with a retrain (so even 1 move each
    over 2 students covers both kinds)."""
    first, second = ("retrain", "re-render") if student % 2 else ("re-render", "retrain")
    return [first if j % 2 == 0 else second for j in range(moves)]


@dataclass
class RunContext:
    url: str
    deadline: float
    t0: float
    moves: int
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    log: list[Move] = field(default_factory=list)
    in_flight: Counter = field(default_factory=Counter)
    clients: dict[int, Client] = field(default_factory=dict)
    not_started: int = 0
    crashes: list[str] = field(default_factory=list)


def student_run(student: int, page: str, ctx: RunContext, kinds: list[str] | None = None,
                move_deadline_s: float = MOVE_TIMEOUT_S) -> None:
    client = Client(ctx.url)
    with ctx.lock:
        ctx.clients[student] = client
    kinds = plan(student, ctx.moves) if kinds is None else kinds
    try:
        steps = [("open", None)] + [(k, j) for j, k in enumerate(kinds)]
        for index, (kind, j) in enumerate(steps):
            if ctx.stop.is_set() or time.perf_counter() >= ctx.deadline:
                with ctx.lock:
                    ctx.not_started += len(steps) - index
                return
            move = Move(student, page, kind, started_at=time.perf_counter() - ctx.t0)
            if kind == "open":
                body = {"page": page}
            else:
                found = find_widget(client.snapshot, page, kind)
                if found is None:
                    move.http_errors.append(f"no widget for a {kind} move on {page}")
                    move.finished = True
                    with ctx.lock:
                        ctx.log.append(move)
                    continue
                move.key, w = found
                move.value = (retrain_value(w["node"], student, j, ctx.moves) if kind == "retrain"
                              else next_value(w["node"], shift=student + j))
                body = {"session_id": client.session_id, "widget_state": {move.key: move.value}}
            with ctx.lock:
                ctx.in_flight[kind] += 1
            try:
                client.interact(body, move, min(ctx.deadline, time.perf_counter() + move_deadline_s), ctx.stop)
            finally:
                with ctx.lock:
                    ctx.in_flight[kind] -= 1
            if kind != "open" and move.finished:
                move.applied = _same(_value_of(client.snapshot, move.key), move.value)
            with ctx.lock:
                ctx.log.append(move)
            if kind == "open" and not move.finished:
                with ctx.lock:
                    ctx.not_started += len(steps) - index - 1
                return
    except Exception as exc:
        with ctx.lock:
            ctx.crashes.append(f"student {student}: {type(exc).__name__}: {exc}"[:300])


def drive(url: str, students: int, moves: int, pages: tuple[str, ...], deadline_s: float,
          stop: threading.Event | None = None) -> tuple[RunContext, list[threading.Thread]]:
    """Start ``students`` threads (round-robin over ``pages``); returns at once."""
    t0 = time.perf_counter()
    ctx = RunContext(url, t0 + deadline_s, t0, moves)
    if stop is not None:
        ctx.stop = stop
    threads = [threading.Thread(target=student_run, args=(i, pages[i % len(pages)], ctx), daemon=True,
                                name=f"student-{i}") for i in range(students)]
    for t in threads:
        t.start()
    return ctx, threads


def join_all(threads: list[threading.Thread], until: float) -> None:
    for t in threads:
        t.join(max(0.1, until - time.perf_counter()))


# --- the driver's own cost, and the idle floor per page ---------------------------------------------------


def calibrate(url: str, ctx: RunContext, pages: tuple[str, ...], repeat: int = 3) -> dict:
    """On the now idle server: median of `repeat` GET /_stcore/health (the HTTP floor) and, per page,
    of `repeat` no-op interactions of a settled session (script rerun + page encoding + HTTP + JSON)."""
    import requests

    health = []
    for _ in range(10):
        start = time.perf_counter()
        try:
            requests.get(url + "/_stcore/health", timeout=10)
            health.append(time.perf_counter() - start)
        except requests.RequestException:
            pass
    floors, parse = {}, {}
    for page in pages:
        client = next((c for i, c in sorted(ctx.clients.items()) if c.session_id and
                       (c.snapshot.get("page") or {}).get("url_path") == page), None)
        if client is None:
            continue
        times, parses = [], []
        for _ in range(repeat):
            move = Move(-1, page, "noop")
            if client.interact({"session_id": client.session_id}, move, time.perf_counter() + 60):
                times.append(move.seconds)
                parses.append(move.parse_s)
        if times:
            floors[page], parse[page] = statistics.median(times), statistics.median(parses)
    return {"health_s": statistics.median(health) if health else float("nan"), "noop_s": floors,
            "noop_parse_s": parse}


# --- one N -----------------------------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def trainings_asked(moves: list[Move]) -> set:
    """Distinct Configs the run asked for: each page's default (opened) plus each retrain value."""
    asked = set()
    for m in moves:
        if m.kind == "open":
            asked.add((m.page, "default"))
        elif m.kind == "retrain" and m.key:
            asked.add((m.page, m.key, str(m.value)))
    return asked


def checkpoints(cache: Path) -> dict:
    """Checkpoints in a cache dir: count by topic, temp files left, files torch.load refuses."""
    import torch

    out = {"pt": 0, "by_topic": Counter(), "temp": [], "unloadable": []}
    if not cache.exists():
        return out
    for path in sorted(cache.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".pt":
            out["pt"] += 1
            out["by_topic"][path.name.split("-", 1)[0]] += 1
            try:
                torch.load(path, map_location="cpu", weights_only=True)
            except Exception as exc:
                out["unloadable"].append(f"{path.name}: {type(exc).__name__}")
        else:
            out["temp"].append(path.name)
    out["by_topic"] = dict(out["by_topic"])
    return out


def pyspy_binary(explicit: str | None = None) -> str | None:
    for candidate in (explicit, os.environ.get("DLE_PYSPY"), shutil.which("py-spy"),
                      str(Path(sys.executable).parent / "py-spy")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def pyspy_record(binary: str, pid: int, seconds: int) -> dict:
    """`py-spy record --format raw` for ``seconds``: samples of the server's active (non-idle)
    threads, summed by the innermost frame and by a few inclusive buckets."""
    out = Path(tempfile.mkdtemp(prefix="dle-load-pyspy-")) / "raw.txt"
    try:
        subprocess.run([binary, "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "20",
                        "--format", "raw", "--output", str(out), "--nonblocking"],
                       capture_output=True, timeout=seconds + 60, check=False)
        lines = out.read_text(errors="replace").splitlines() if out.exists() else []
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"[:200]}
    return summarize_profile(lines, seconds) | {"raw": str(out)}


def summarize_profile(lines: list[str], seconds: int) -> dict:
    """Collapsed py-spy stacks ("frame;frame;... count") summed into buckets and innermost frames."""
    leaf, buckets, total = Counter(), Counter(), 0
    rules = [  # a sample goes to the first bucket whose pattern appears anywhere in its stack
        ("training threads (ui/jobs._run → core fit)", re.compile(r"_run \(ui/jobs\.py|load_or_train")),
        ("live progress redraw (ui/jobs._draw_progress: st.line_chart, previews)", re.compile(r"_draw_progress")),
        ("gc.collect(2) after each script run (runner.postScriptGC)", re.compile(r"_on_script_finished")),
        ("agent API (streamlit/runtime/agent: page snapshots)", re.compile(r"streamlit/runtime/agent")),
        ("page scripts, other (charts, tables, widgets)", re.compile(r"_run_script")),
        ("message hashing / serialization (forward_msg_cache, protobuf)", re.compile(r"forward_msg|Serialize|protobuf")),
        ("server loop (tornado / asyncio)", re.compile(r"tornado|asyncio|selectors")),
    ]
    # py-spy counts some sleeping threads as active (the config/secrets polling watchers, the event
    # loop's epoll): an innermost frame like these is a wait, not work
    waiting = re.compile(r"PollingPathWatcher|EpollSelector\.select|^\s*(Condition|Event)\.wait|time\.sleep")
    for line in lines:
        stack, _, count = line.rpartition(" ")
        try:
            n = int(count)
        except ValueError:
            continue
        frames = stack.split(";")
        total += n
        leaf[re.sub(r" \((?:.*/)?([^/]*?):\d+\)$", r" (\1)", frames[-1])[:120]] += n
        if waiting.search(frames[-1]):
            buckets["waits py-spy sampled as active (polling watchers, epoll)"] += n
            continue
        for label, pattern in rules:
            if pattern.search(stack):
                buckets[label] += n
                break
        else:
            buckets["other"] += n
    return {"samples": total, "seconds": seconds, "leaf": leaf.most_common(8), "buckets": buckets.most_common()}


def run_one(n: int, moves: int, pages: tuple[str, ...], deadline_s: float = DEADLINE_S,
            pyspy: str | None = None, extra_env: dict[str, str] | None = None, say=print) -> dict:
    """N students on a fresh server: the moves, then the idle calibration, memory and checkpoints."""
    server = start_server(extra_env)
    say(f"[load] N={n}: server up in {server.healthy_after:.1f} s at {server.url}, cache {server.cache_dir}")
    result: dict = {"students": n, "moves_per_student": moves, "pages": list(pages[:min(n, len(pages))]),
                    "server_start_s": server.healthy_after}
    try:
        monitor = Monitor(server.pid)
        monitor.start()
        cpu0, driver0 = tree_cpu_s(server.pid), _driver_cpu_s()
        ctx, threads = drive(server.url, n, moves, pages, deadline_s)
        profile = None
        if pyspy and n >= 5:
            time.sleep(min(30.0, deadline_s / 4))  # into the thick of it: opens and first moves
            if any(t.is_alive() for t in threads):
                say(f"[load] N={n}: py-spy record 20 s")
                profile = pyspy_record(pyspy, server.pid, 20)
        join_all(threads, ctx.deadline + 30)
        ctx.stop.set()
        wall = max((m.started_at + m.seconds for m in ctx.log if m.seconds == m.seconds), default=0.0)
        result |= {"wall_s": wall, "server_cpu_s": tree_cpu_s(server.pid) - cpu0,
                   "driver_cpu_s": _driver_cpu_s() - driver0}
        monitor.stop.set()
        result["deadline_hit"] = time.perf_counter() >= ctx.deadline or any(t.is_alive() for t in threads)
        result["calibration"] = calibrate(server.url, ctx, tuple(dict.fromkeys(m.page for m in ctx.log)))
        result["peak_rss_mb"] = tree_mb(server.pid, "VmHWM")
        result["max_sampled_rss_mb"] = monitor.max_rss_mb
        result["max_threads"] = monitor.max_threads
        result["moves"] = [asdict(m) | {"errors": m.errors} for m in ctx.log]
        result["not_started"] = ctx.not_started
        result["crashes"] = ctx.crashes
        result["asked"] = sorted(map(str, trainings_asked(ctx.log)))
        result["profile"] = profile
        for c in ctx.clients.values():
            c.close()
        stop_server(server, keep_cache=True)
        result["checkpoints"] = checkpoints(server.cache_dir)
        result["server_log_tail"] = _log_problems(server.log())
    finally:
        stop_server(server)
    summarize(result)
    say(f"[load] N={n}: wall {result['wall_s']:.0f} s, errors {result['errors']}, trainings {result['trainings']}")
    return result


def _driver_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _log_problems(log: str) -> list[str]:
    keep = [line for line in log.splitlines() if re.search(r"Traceback|Error|Exception|Stopping", line)]
    return keep[:20]


def summarize(result: dict) -> None:
    """Per-kind percentiles (raw and net of the idle per-request floor) and the totals."""
    floors = (result.get("calibration") or {}).get("noop_s") or {}
    kinds = {}
    for kind in KINDS:
        ms = [m for m in result["moves"] if m["kind"] == kind]
        done = [m for m in ms if m["finished"]]
        raw = [m["seconds"] for m in done]
        net = [max(0.0, m["seconds"] - floors.get(m["page"], 0.0)) for m in done]
        kinds[kind] = {
            "count": len(ms), "finished": len(done), "p50": _pct(raw, 0.5), "p95": _pct(raw, 0.95),
            "max": max(raw) if raw else float("nan"), "p50_net": _pct(net, 0.5), "p95_net": _pct(net, 0.95),
            "trained": sum(1 for m in done if m["trained"]),
            "errors": sum(m["errors"] for m in ms),
            "exceptions": sum(m["exceptions"] for m in ms),
            "error_boxes": sum(m["error_boxes"] for m in ms),
            "calls": sum(m["calls"] for m in ms),
        }
    result["kinds"] = kinds
    result["errors"] = sum(k["errors"] for k in kinds.values()) + len(result.get("crashes") or [])
    result["http_errors"] = sum(len(m["http_errors"]) for m in result["moves"])
    result["exceptions"] = sum(k["exceptions"] for k in kinds.values())
    result["error_boxes"] = sum(k["error_boxes"] for k in kinds.values())
    result["trainings"] = len(result.get("asked") or [])
    result["trainings_persisted"] = (result.get("checkpoints") or {}).get("pt", 0)
    result["requests"] = sum(m["calls"] for m in result["moves"])
    result["parse_s"] = sum(m["parse_s"] for m in result["moves"])
    wall = result.get("wall_s") or float("nan")
    result["trainings_per_min"] = result["trainings"] / wall * 60 if wall and wall == wall else float("nan")
    result["messages"] = sorted({msg for m in result["moves"] for msg in m.get("messages", [])})[:10]


# --- the linear-capacity baseline ---------------------------------------------------------------------------


def sequential_baseline(result: dict, deadline_s: float = BASELINE_DEADLINE_S,
                        extra_env: dict[str, str] | None = None, say=print) -> dict:
    """The same trainings as ``result`` asked for, one after another in one session on a fresh server:
    each page opened (its default training), then each retrain value set in turn."""
    retrains: dict[str, list[tuple[str, object]]] = {}
    for m in result["moves"]:
        if m["kind"] == "retrain" and m["key"] and (m["key"], m["value"]) not in retrains.get(m["page"], []):
            retrains.setdefault(m["page"], []).append((m["key"], m["value"]))
    pages = list(dict.fromkeys(m["page"] for m in result["moves"] if m["kind"] == "open"))
    server = start_server(extra_env)
    say(f"[load] baseline for N={result['students']}: {len(pages)} opens + "
        f"{sum(map(len, retrains.values()))} retrains, one session")
    done, trained, errors, spent = 0, 0, 0, 0.0
    t0 = time.perf_counter()
    deadline = t0 + deadline_s
    try:
        client = Client(server.url)
        for page in pages:
            for step in [None] + retrains.get(page, []):
                if time.perf_counter() >= deadline:
                    break
                move = Move(0, page, "open" if step is None else "retrain")
                body = ({"page": page} if client.session_id is None else
                        {"session_id": client.session_id, "page": page}) if step is None else \
                    {"session_id": client.session_id, "widget_state": {step[0]: step[1]}}
                client.interact(body, move, min(deadline, time.perf_counter() + MOVE_TIMEOUT_S))
                spent += move.seconds
                errors += move.errors + move.exceptions
                if move.finished:
                    done += 1
                    trained += int(move.trained)
        client.close()
    finally:
        stop_server(server)
    wall = time.perf_counter() - t0
    total = len(pages) + sum(map(len, retrains.values()))
    return {"trainings": done, "of": total, "showed_training": trained, "wall_s": wall, "errors": errors,
            "trainings_per_min": done / wall * 60 if wall else float("nan"), "cut_by_deadline": done < total}


# --- SIGTERM under load -------------------------------------------------------------------------------------


def sigterm_check(n: int = 10, moves: int = 4, pages: tuple[str, ...] = DEFAULT_PAGES, pyspy: str | None = None,
                  extra_env: dict[str, str] | None = None, say=print) -> dict:
    """N students; once retrain moves are in flight (or after 90 s), SIGTERM the server process
    (its pid only, as `docker stop` would), time its exit, then inspect the cache dir."""
    server = start_server(extra_env)
    out: dict = {"students": n}
    stop = threading.Event()
    try:
        ctx, threads = drive(server.url, n, moves, pages, DEADLINE_S, stop)
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 90:
            with ctx.lock:
                retraining = ctx.in_flight["retrain"]
            if retraining >= max(1, n // 4):
                break
            time.sleep(0.25)
        time.sleep(1.0)
        with ctx.lock:
            out["in_flight_at_sigterm"] = dict(ctx.in_flight)
            out["moves_done_before"] = len(ctx.log)
        out["sent_after_s"] = time.perf_counter() - t0
        sent = time.perf_counter()
        os.kill(server.pid, signal.SIGTERM)
        dump = None
        while server.process.poll() is None and time.perf_counter() - sent < SIGTERM_WAIT_S:
            if pyspy and dump is None and time.perf_counter() - sent > 5:
                dump = _pyspy_dump(pyspy, server.pid)
            time.sleep(0.05)
        exited = server.process.poll() is not None
        out["exit_s"] = time.perf_counter() - sent
        out["exited"] = exited
        out["returncode"] = server.process.returncode
        out["shutdown_dump"] = dump
        stop.set()
        if not exited:
            say(f"[load] SIGTERM: still alive after {SIGTERM_WAIT_S} s, SIGKILL")
        stop_server(server, keep_cache=True)
        join_all(threads, time.perf_counter() + 30)
        out["checkpoints"] = checkpoints(server.cache_dir)
        out["log_tail"] = server.log().splitlines()[-8:]
    finally:
        stop.set()
        stop_server(server)
    say(f"[load] SIGTERM: exit after {out.get('exit_s', float('nan')):.1f} s, "
        f"temp files {len(out.get('checkpoints', {}).get('temp', []))}")
    return out


def _pyspy_dump(binary: str, pid: int) -> list[str]:
    """Threads of a shutting-down server, innermost frame first (py-spy dump)."""
    try:
        text = subprocess.run([binary, "dump", "--pid", str(pid), "--nonblocking"], capture_output=True,
                              text=True, timeout=30, check=False).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [f"py-spy failed: {exc}"]
    threads, current = [], None
    for line in text.splitlines():
        if line.startswith("Thread "):
            current = line.split("(")[0].strip() + " " + (re.findall(r'"([^"]*)"', line) or [""])[0]
            threads.append([current])
        elif threads and line.startswith("    ") and len(threads[-1]) < 4:
            threads[-1].append(line.strip())
    return [" / ".join(t) for t in threads][:30]


# --- the whole part, and its markdown ------------------------------------------------------------------------


def run_load(students=(1, 10, 30), moves: int = 4, pages: tuple[str, ...] = DEFAULT_PAGES, *,
             baseline: bool = True, sigterm: bool = True, deadline_s: float = DEADLINE_S,
             baseline_deadline_s: float = BASELINE_DEADLINE_S, pyspy: str | None = None,
             extra_env: dict[str, str] | None = None, say=print) -> dict:
    from bench.common import machine

    report = {"when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "runs": [], "sigterm": None,
              "machine": {}, "pyspy": pyspy, "flags": list(EXTRA_FLAGS)}
    try:
        report["machine"] = machine()
    except Exception as exc:
        report["machine"] = {"error": str(exc)[:200]}
    for n in students:
        try:
            result = run_one(n, moves, pages, deadline_s, pyspy, extra_env, say)
        except Exception as exc:
            report["runs"].append({"students": n, "failed": f"{type(exc).__name__}: {exc}"[:500]})
            continue
        if baseline:
            try:
                result["baseline"] = sequential_baseline(result, baseline_deadline_s, extra_env, say)
            except Exception as exc:
                result["baseline"] = {"failed": f"{type(exc).__name__}: {exc}"[:300]}
        report["runs"].append(result)
    if sigterm:
        try:
            report["sigterm"] = sigterm_check(10, moves, pages, pyspy, extra_env, say)
        except Exception as exc:
            report["sigterm"] = {"failed": f"{type(exc).__name__}: {exc}"[:300]}
    return report


def _f(x, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and x != x):
        return "—"
    return f"{x:.{digits}f}"


def markdown_section(report: dict) -> str:
    """The load part as a markdown section (## level), for bench/RESULTS.md or bench/LOAD.md."""
    runs = [r for r in report["runs"] if "failed" not in r]
    lines = [
        "## Load: a whole class on one server",
        "",
        f"Written by `python -m bench.load` (or `python -m bench`) on {report['when']}. Each N: a fresh "
        "`streamlit run streamlit_app.py` (127.0.0.1, `--server.enableAgentApi true` on the command line, "
        "empty `DLE_CACHE_DIR`); N students as threads of the driver, each its own agent session "
        "(`POST /_stcore/agent/interact`), round-robin over "
        + ", ".join(f"`{p}`" for p in (max((r["pages"] for r in runs), key=len) if runs else DEFAULT_PAGES))
        + ". Each opens its "
        "page (the default model: trained once, shared), then alternates *re-render* (a view slider, "
        "same Config) and *retrain* (seed = 100 + student × K + move: a model nobody trained yet; timed "
        "until the page shows it finished). Times are per move, send → settled page, 202 re-sends "
        "and polls included. *net* subtracts that page's idle floor (below) once per move.",
        "",
    ]
    if report.get("flags"):
        lines += ["**Experiment:** extra server options " + ", ".join(f"`--{f}`" for f in report["flags"]) + ".", ""]
    if report.get("machine", {}).get("load average at start"):
        m = report["machine"]
        lines += [f"Machine: {m.get('CPU', '?')}, {m.get('cores', '?')}; load average at start "
                  f"{m['load average at start']}.", ""]
    lines += ["| N | move | count | p50 s | p95 s | max s | p50 net s | p95 net s | showed training | "
              "errors | exceptions | st.error |",
              "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        for kind in KINDS:
            k = r["kinds"][kind]
            if not k["count"]:
                continue
            lines.append(f"| {r['students']} | {kind} | {k['finished']}/{k['count']} | {_f(k['p50'])} | "
                         f"{_f(k['p95'])} | {_f(k['max'])} | {_f(k['p50_net'])} | {_f(k['p95_net'])} | "
                         f"{k['trained']} | {k['errors']} | {k['exceptions']} | {k['error_boxes']} |")
    lines += ["", "| N | wall s | trainings asked (persisted) | trainings/min | sequential trainings/min "
              "| throughput ratio | requests | HTTP errors | server peak RSS MB | server CPU s | "
              "driver CPU s | not started (deadline) |",
              "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in report["runs"]:
        if "failed" in r:
            lines.append(f"| {r['students']} | failed: {r['failed'][:200]} |" + " |" * 10)
            continue
        b = r.get("baseline") or {}
        seq = b.get("trainings_per_min", float("nan")) if "failed" not in b else float("nan")
        ratio = r["trainings_per_min"] / seq if seq and seq == seq else float("nan")
        lines.append(f"| {r['students']} | {_f(r['wall_s'], 0)} | {r['trainings']} ({r['trainings_persisted']}) | "
                     f"{_f(r['trainings_per_min'])} | {_f(seq)} | {_f(ratio, 2)} | {r['requests']} | "
                     f"{r['http_errors']} | {_f(r['peak_rss_mb'], 0)} | {_f(r['server_cpu_s'], 0)} | "
                     f"{_f(r['driver_cpu_s'], 1)} | {r['not_started']}{' (deadline hit)' if r['deadline_hit'] else ''} |")
    lines += ["", "*trainings asked*: distinct Configs (each page's default + each retrain value); "
              "*persisted*: checkpoints written to the cache dir. *trainings/min* = trainings asked ÷ wall "
              "(re-render moves and opens included in the wall). *sequential*: the same trainings one "
              "after another in one session on a fresh idle server (opens included); *throughput ratio* = "
              "under load ÷ sequential (> 1: the server does more work per minute with many users). "
              "Peak RSS: VmHWM of the server's process tree. Server CPU: its user+system seconds during "
              "the run (wall × cores is the ceiling).", ""]
    lines += ["**The driver's own cost** (measured on the same server once idle, after the run):", ""]
    for r in runs:
        cal = r.get("calibration") or {}
        floors = ", ".join(f"{p} {s:.2f} s" for p, s in cal.get("noop_s", {}).items())
        per_req = r["driver_cpu_s"] / r["requests"] if r["requests"] else float("nan")
        lines.append(f"- N={r['students']}: HTTP floor (GET /_stcore/health) {_f(cal.get('health_s', float('nan')) * 1000, 1)} ms; "
                     f"idle no-op interaction (script rerun + agent page encoding + HTTP) {floors or '—'}; "
                     f"driver CPU {_f(per_req * 1000, 0)} ms per request, JSON decoding "
                     f"{_f(r['parse_s'], 1)} s in all (not in the times).")
    lines += ["", "The *net* columns subtract the idle no-op interaction of the move's page (once per move). "
              "The floor is not pure driver cost: it is a full script rerun plus the agent API's JSON "
              "encoding of the whole page, which a browser session (protobuf deltas) does not pay.", ""]
    problems = [(r["students"], msg) for r in runs for msg in r.get("messages", []) + r.get("crashes", [])]
    problems += [(r["students"], e) for r in runs for m in r["moves"] for e in m["http_errors"]][:10]
    if problems:
        lines += ["**Seen in the pages / on the wire** (first few):", "",
                  *[f"- N={n}: {msg.replace('|', '/')[:200]}" for n, msg in problems[:12]], ""]
    for r in runs:
        b = r.get("baseline") or {}
        if b and "failed" not in b:
            lines.append(f"- Baseline for N={r['students']}: {b['trainings']}/{b['of']} trainings in "
                         f"{b['wall_s']:.0f} s ({b['showed_training']} showed a training status), "
                         f"{b['errors']} errors{', cut by its deadline' if b['cut_by_deadline'] else ''}.")
        elif b:
            lines.append(f"- Baseline for N={r['students']} failed: {b['failed']}")
    for r in runs:
        prof = r.get("profile")
        if prof and prof.get("samples"):
            lines += ["", f"**Where the server's time goes at N={r['students']}** (py-spy, {prof['seconds']} s "
                      f"of active-thread samples, {prof['samples']} samples, each in the first bucket its stack matches):", "",
                      *[f"- {label}: {n / prof['samples']:.0%}" for label, n in prof["buckets"]],
                      "", "Top innermost frames: " + "; ".join(f"`{f}` {n / prof['samples']:.0%}"
                                                             for f, n in prof["leaf"][:5]) + "."]
    s = report.get("sigterm")
    if s:
        lines += ["", "**SIGTERM under load**", ""]
        if "failed" in s:
            lines.append(f"- failed: {s['failed']}")
        else:
            ck = s.get("checkpoints") or {}
            lines.append(f"- N={s['students']}, SIGTERM to the server's pid {s['sent_after_s']:.0f} s into the run "
                         f"(moves in flight: {s['in_flight_at_sigterm']}): "
                         + (f"exited after **{s['exit_s']:.1f} s** (code {s['returncode']})" if s["exited"]
                            else f"**still running after {s['exit_s']:.0f} s**, killed"))
            lines.append(f"- cache dir afterwards: {ck.get('pt', 0)} checkpoints, "
                         f"{len(ck.get('temp', []))} temp/other files {ck.get('temp', [])[:5]}, "
                         f"{len(ck.get('unloadable', []))} that `torch.load(weights_only=True)` refuses "
                         f"{ck.get('unloadable', [])[:5]}")
            if s.get("shutdown_dump"):
                lines += ["- threads 5 s after SIGTERM (py-spy dump, innermost frames):",
                          *[f"  - `{t[:220]}`" for t in s["shutdown_dump"][:12]]]
    lines.append("")
    return "\n".join(lines)


def main_section(quick: bool = False) -> str:
    """For `python -m bench`: the load part, guarded (a failure becomes a line that says so)."""
    try:
        if quick:
            report = run_load((1, 3), moves=2, baseline=True, sigterm=False, deadline_s=300)
        else:
            report = run_load((1, 10, 30), pyspy=pyspy_binary())
        return markdown_section(report)
    except Exception as exc:
        return f"## Load: a whole class on one server\n\nThe load part failed: {type(exc).__name__}: {exc}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, nargs="+", default=[1, 10, 30])
    parser.add_argument("--moves", type=int, default=4, help="moves per student after opening (default 4)")
    parser.add_argument("--pages", nargs="+", default=list(DEFAULT_PAGES), help="url paths, round-robin")
    parser.add_argument("--deadline", type=float, default=DEADLINE_S, help="seconds per N (default 720)")
    parser.add_argument("--baseline-deadline", type=float, default=BASELINE_DEADLINE_S)
    parser.add_argument("--no-baseline", action="store_true", help="skip the sequential baseline")
    parser.add_argument("--no-sigterm", action="store_true", help="skip the SIGTERM check (N=10)")
    parser.add_argument("--py-spy", default=None, help="py-spy binary (default: found on PATH/venv/$DLE_PYSPY)")
    parser.add_argument("--no-py-spy", action="store_true")
    parser.add_argument("--flag", action="append", default=[], metavar="OPTION=VALUE",
                        help="extra `streamlit run` option for an experiment, e.g. runner.postScriptGC=false")
    parser.add_argument("--output", default=str(ROOT / "bench" / "LOAD.md"), help="markdown file, or - to print only")
    parser.add_argument("--json", default=None, help="also write the raw report (every move) as JSON here")
    args = parser.parse_args(argv)
    if any(n < 1 or n > 100 for n in args.students) or not 0 <= args.moves <= 20:
        parser.error("students must be 1..100 and moves 0..20")
    pyspy = None if args.no_py_spy else pyspy_binary(args.py_spy)
    if any(f.split("=", 1)[0].lstrip("-").startswith(("server.address", "server.port", "server.enableAgentApi"))
           for f in args.flag):
        parser.error("--flag cannot change the address, port or agent API (loopback only)")
    EXTRA_FLAGS[:] = args.flag
    report = run_load(tuple(args.students), args.moves, tuple(args.pages), baseline=not args.no_baseline,
                      sigterm=not args.no_sigterm, deadline_s=args.deadline,
                      baseline_deadline_s=args.baseline_deadline, pyspy=pyspy)
    text = "# Load benchmark\n\n" + markdown_section(report)
    print(text)
    if args.output != "-":
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    sys.exit(main())
