"""`python -m bench`: every page's benchmark plus the app-level measures, in one table.

    python -m bench                 # everything; writes bench/RESULTS.md (takes several minutes)
    python -m bench --quick         # each bench/<topic>.py in its quick mode
    python -m bench --only gan lstm # some topics only (app-level measures still run unless --no-app)
    python -m bench --no-app        # skip cold start / first views / memory / re-render latency

What it runs:
1. Each bench/<topic>.py present (``run(quick)`` rows: ours vs the tutorial's loop, same process).
2. App, in a real browser (Debian Chromium via Playwright) on a fresh `streamlit run` with an empty
   checkpoint cache: cold start (launch -> /_stcore/health, and launch -> home page fully rendered),
   each page's first view by deep link (default training included, unless a checkpoint ships),
   and the server's peak RSS after visiting every page.
3. Re-render latency after a slider change on each page (AppTest, models cached, full script run).
4. Load (bench/load.py): N = 1, 10, 30 students on one server through the agent API (skip: --no-load).

Each part is guarded: a failing topic or measure becomes a row that says so, never a lost table.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import RERENDER_SLIDERS, machine, rerender_latency, row, verdict  # noqa: E402

SKIP_MODULES = {"common", "__main__", "__init__", "load"}  # load: its own section, below
PAGE_ORDER = ("foundation", "regression", "logistic", "cnn", "vision", "lstm", "embeddings", "autoencoder",
              "gan", "deepdream")  # the app's page order; any other module follows alphabetically


def topic_modules() -> list[str]:
    names = [m.name for m in pkgutil.iter_modules([str(ROOT / "bench")])]
    names = [n for n in names if n not in SKIP_MODULES and not n.startswith("_")]
    return sorted(names, key=lambda n: (PAGE_ORDER.index(n) if n in PAGE_ORDER else len(PAGE_ORDER), n))


def run_topic(name: str, quick: bool) -> tuple[list[dict], float]:
    start = time.perf_counter()
    try:
        module = importlib.import_module(f"bench.{name}")
        rows = list(module.run(quick=quick))
        clean = []
        for r in rows:  # rebuilt by row(): the ratio always comes from ours, baseline and unit
            clean.append(row(r.get("page") or name, r.get("measure") or "", r["ours"], r.get("baseline"),
                             unit=r.get("unit", "s"), note=r.get("note") or "") | {"source": f"bench/{name}.py"})
        return clean, time.perf_counter() - start
    except Exception as exc:  # one broken benchmark must not lose the table
        traceback.print_exc()
        return [row(name, "benchmark failed", float("nan"), unit="", note=f"{type(exc).__name__}: {exc}"[:300])
                | {"source": f"bench/{name}.py"}], time.perf_counter() - start


# --- app in a real browser ---------------------------------------------------------------------


def app_browser_rows() -> list[dict]:
    from tests.e2e.live import (
        browser_missing_reason,
        launch_chromium,
        page_problems,
        start_server,
        stop_server,
        wait_idle,
    )
    from ui.frame import PAGES

    reason = browser_missing_reason()
    rows: list[dict] = []
    if reason is not None:
        srv = start_server()
        try:
            rows.append(row("app", "cold start: launch -> /_stcore/health", srv.healthy_after,
                            note=f"no browser ({reason}): first render not measured"))
        finally:
            stop_server(srv)
        return rows

    from playwright.sync_api import sync_playwright
    from streamlit.source_util import page_icon_and_name

    settle = 1.0
    srv = start_server()  # fresh process, empty DLE_CACHE_DIR
    try:
        with sync_playwright() as p:
            browser = launch_chromium(p)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(srv.url + "/")
            wait_idle(page, settle=settle)
            first_render = time.perf_counter() - srv.started_at - settle
            rows.append(row("app", "cold start: launch -> /_stcore/health", srv.healthy_after,
                            note="`streamlit run streamlit_app.py`, fresh process"))
            rows.append(row("app", "cold start: launch -> home page fully rendered", first_render,
                            note="Chromium headless; 'fully rendered' = no running/spinner widgets for 1 s "
                                 "(that second is subtracted)"))
            for info in PAGES:
                name = page_icon_and_name(Path(info.path))[1]
                start = time.perf_counter()
                try:
                    page.goto(f"{srv.url}/{name}")
                    waited = wait_idle(page, settle=settle)
                    problems = page_problems(page)
                    note = "deep link, empty checkpoint cache: includes default training unless a checkpoint ships"
                    if problems:
                        note += f"; PAGE SHOWED: {problems[0][:150]}"
                    rows.append(row(info.title, "first view (cold cache), browser", waited, note=note))
                except Exception as exc:
                    rows.append(row(info.title, "first view (cold cache), browser", time.perf_counter() - start,
                                    note=f"did not finish: {exc}"[:200]))
            rss = srv.peak_rss_mb()
            rows.append(row("app", "server peak RSS after visiting every page", rss, unit="MB",
                            note="VmHWM of the `streamlit run` process, one browser session, all models trained"))
            browser.close()
    finally:
        stop_server(srv)
    return rows


def rerender_rows(pages: list[str]) -> list[dict]:
    from ui.frame import PAGES

    rows = []
    titles = {p.path: p.title for p in PAGES}
    for path in pages:
        if path not in RERENDER_SLIDERS or not (ROOT / path).is_file():
            continue
        kind, key, value = RERENDER_SLIDERS[path]
        try:
            best, plain, note = rerender_latency(path, kind, key, value)
        except Exception as exc:
            best, plain, note = float("nan"), float("nan"), f"failed: {type(exc).__name__}: {exc}"[:200]
        rows.append(row(titles[path], "re-render after a slider change", best, unit="s",
                        note=note + (f"; plain re-run {plain:.3f} s" if plain == plain else "")))
    return rows


# --- output --------------------------------------------------------------------------------------


def fmt(value, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and value != value:
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def markdown(rows: list[dict], info: dict[str, str], args, timings: dict[str, float]) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmark results",
        "",
        f"Written by `python -m bench{' --quick' if args.quick else ''}` on {stamp}. "
        "Regenerate with the same command; each page's measures come from `bench/<topic>.py`.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in info.items()],
        "",
        "GPU column: " + ("the device above is a GPU." if info.get("GPU", "none") != "none"
                          else "no GPU on this machine, so there is no GPU column; the code picks CUDA by "
                               "itself (core/device.py) when one is present — run `python -m bench` there "
                               "(or with `DLE_DEVICE=cuda`) to add it."),
        "",
        "## Results",
        "",
        "*ours* and *baseline* are measured in the same process on the same data; the baseline is a "
        "straightforward port of the tutorial's own loop. *ratio* is how many times faster (or better) ours "
        "is than the baseline: baseline / ours for times, memory and errors, ours / baseline for rates and "
        "scores; > 1 = ours faster, < 1 = slower. *verdict* says the same in words.",
        "",
        "| page | measure | ours | baseline | unit | ratio | verdict | note |",
        "|---|---|---:|---:|---|---:|---|---|",
    ]
    for r in rows:
        note = str(r.get("note") or "").replace("|", "/").replace("\n", " ")
        lines.append(f"| {r['page']} | {r['measure']} | {fmt(r['ours'])} | {fmt(r['baseline'])} | {r['unit']} | "
                     f"{fmt(r['ratio'])} | {verdict(r)} | {note} |")
    lines += ["", "## How long each part took", "",
              *[f"- {k}: {v:.0f} s" for k, v in timings.items()], ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="quick mode of every topic benchmark")
    parser.add_argument("--only", nargs="*", default=None, help="topic benchmarks to run (default: all)")
    parser.add_argument("--no-app", action="store_true", help="skip the app-level measures")
    parser.add_argument("--no-topics", action="store_true", help="skip the bench/<topic>.py modules")
    parser.add_argument("--no-load", action="store_true", help="skip the load part (bench/load.py)")
    parser.add_argument("--output", default=str(ROOT / "bench" / "RESULTS.md"))
    args = parser.parse_args(argv)

    # benchmarks never touch the developer's checkpoint cache: a cold, private one
    os.environ.setdefault("DLE_CACHE_DIR", tempfile.mkdtemp(prefix="dle-bench-cache-"))
    import torch  # noqa: F401  (warm import before any AppTest: see tests/conftest.py)

    info = machine()
    print("Machine:", info, flush=True)
    rows: list[dict] = []
    timings: dict[str, float] = {}

    if not args.no_app:
        start = time.perf_counter()
        try:
            rows += app_browser_rows()
        except Exception as exc:
            traceback.print_exc()
            rows.append(row("app", "browser measures failed", float("nan"), unit="", note=str(exc)[:300]))
        timings["app in the browser (cold start, first views, memory)"] = time.perf_counter() - start
        _print(rows)
        _write(args, rows, info, timings, partial=True)

    if not args.no_topics:
        for name in topic_modules():
            if args.only and name not in args.only:
                continue
            print(f"--- bench/{name}.py", flush=True)
            topic_rows, seconds = run_topic(name, args.quick)
            timings[f"bench/{name}.py"] = seconds
            rows += topic_rows
            _print(topic_rows)
            _write(args, rows, info, timings, partial=True)  # a killed run still leaves its table

    if not args.no_app:
        from ui.frame import PAGES

        start = time.perf_counter()
        latency = rerender_rows([p.path for p in PAGES])
        timings["re-render latency (AppTest)"] = time.perf_counter() - start
        rows += latency
        _print(latency)

    load_md = ""
    if not args.no_app and not args.no_load:  # N students on one server (bench/load.py)
        from bench.load import main_section

        start = time.perf_counter()
        load_md = main_section(quick=args.quick)
        timings["load: a whole class on one server (bench/load.py)"] = time.perf_counter() - start
    _write(args, rows, info, timings)
    if load_md:
        with open(args.output, "a", encoding="utf-8") as out:
            out.write("\n" + load_md)
    print(f"wrote {args.output}")
    return 0


def _write(args, rows, info, timings, partial: bool = False) -> None:
    text = markdown(rows, info, args, timings)
    if partial:
        text = text.replace("# Benchmark results\n", "# Benchmark results (partial: the run is still going or was cut short)\n", 1)
    Path(args.output).write_text(text, encoding="utf-8")


def _print(rows: list[dict]) -> None:
    for r in rows:
        print(f"  {r['page']:<18} {r['measure'][:60]:<60} {fmt(r['ours']):>9} {r['unit']:<5} "
              f"{verdict(r):<14} {str(r.get('note') or '')[:90]}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
