"""Shared pieces of the benchmarks: the row format, timing, the machine description, and the
app-level measures (cold start, re-render latency, peak memory) that `python -m bench` adds to the
per-page rows of bench/<topic>.py.

Row format (one dict per measure), as every bench/<topic>.py ``run(quick=False)`` returns it, always
made by :func:`row`:
    {"page": str, "measure": str, "ours": float, "baseline": float | None,
     "ratio": float | None, "unit": str, "note": str}
``ratio`` reads one way everywhere: how many times faster (or better) ours is than the tutorial's
baseline, > 1 = ours faster, < 1 = slower. :func:`row` computes it from the two values and the
unit; no caller passes a ratio.
"""

from __future__ import annotations

import gc
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ("page", "measure", "ours", "baseline", "ratio", "unit", "note")
# Units where more is better; for the rest (seconds, MB, loss...) less is better.
HIGHER_IS_BETTER = ("it/s", "iter/s", "steps/s", "/s", "accuracy", "acc", "score", "%")


def speedup(ours: float | None, baseline: float | None, unit: str = "s") -> float | None:
    """How many times faster (better) ours is than the baseline: baseline / ours where less is
    better (seconds, MB, losses), ours / baseline where more is (it/s, scores). None if either
    value is missing, NaN or not positive."""
    if ours is None or baseline is None:
        return None
    ours, baseline = float(ours), float(baseline)
    if not (ours > 0 and baseline > 0):  # also False for NaN
        return None
    unit = (unit or "").lower()
    higher = any(unit.endswith(u) or unit == u for u in HIGHER_IS_BETTER)
    return ours / baseline if higher else baseline / ours


def row(page: str, measure: str, ours: float, baseline: float | None = None, *, unit: str = "s",
        note: str = "") -> dict:
    """A result row from our value and the tutorial's (same unit); ``ratio`` = :func:`speedup`."""
    return {"page": page, "measure": measure, "ours": float(ours),
            "baseline": None if baseline is None else float(baseline),
            "ratio": speedup(ours, baseline, unit), "unit": unit, "note": note}


def timed(fn: Callable[[], object], repeat: int = 3, warmup: int = 0) -> tuple[float, object]:
    """Best wall time of ``repeat`` calls (after ``warmup`` untimed ones) and the last result."""
    result = None
    for _ in range(warmup):
        result = fn()
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def verdict(r: dict) -> str:
    """'2.10× faster' / '1.30× slower' (times) or '… better' / '… worse' (other units), '≈ same'
    within 5 %: the row's ratio in words, recomputed from ours, baseline and unit."""
    factor = speedup(r.get("ours"), r.get("baseline"), r.get("unit") or "")
    if factor is None:
        return ""
    unit = (r.get("unit") or "").lower()
    timelike = unit in ("s", "ms", "min") or unit.endswith((" s", " ms", "/s", "/iter", "/it", "/step"))
    word_good, word_bad = ("faster", "slower") if timelike else ("better", "worse")
    if abs(factor - 1) < 0.05:
        return "≈ same"
    return f"{factor:.2f}× {word_good}" if factor > 1 else f"{1 / factor:.2f}× {word_bad}"


# --- the machine ---------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    import streamlit
    import torch

    from core.device import describe_device, get_device

    device = get_device()
    info = describe_device(device)
    try:
        cores_usable = len(os.sched_getaffinity(0))
    except AttributeError:
        cores_usable = os.cpu_count() or 0
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    gpu = "none"
    if torch.cuda.is_available():
        gpu = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
    return {
        "CPU": cpu_model(),
        "cores": f"{cores_usable} usable ({os.cpu_count()} logical)",
        "memory": mem,
        "GPU": gpu,
        "device used": f"{info['kind']} ({device}) · {info['name']}",
        "torch": str(torch.__version__),
        "torch threads": str(torch.get_num_threads()),
        "streamlit": streamlit.__version__,
        "python": platform.python_version(),
        "OS": f"{platform.system()} {platform.release()}",
        "load average at start": " / ".join(f"{x:.1f}" for x in os.getloadavg()) + " (1/5/15 min; > cores = shared, noisy timings)",
    }


# --- app-level measures --------------------------------------------------------------------------

# A slider per page whose change re-renders without retraining (a view control), and a value to set.
# kind: AppTest accessor; key: widget key (a trailing "*" matches a prefix); value: "mid" = a middle option.
RERENDER_SLIDERS: dict[str, tuple[str, str, object]] = {
    "pages/1_Regression.py": ("select_slider", "reg_replay", "mid"),
    "pages/2_Decision_Boundary.py": ("slider", "lr_threshold", 0.7),
    "pages/3_CNN_Feature_Maps.py": ("slider", "cnn_k", 16),
    "pages/4_LSTM_Forecasting.py": ("slider", "lstm_horizon", 12),
    "pages/5_Word_Embeddings.py": ("select_slider", "emb_epoch", "mid"),
    "pages/6_Autoencoder.py": ("slider", "ae_z0_*", "mid"),
    "pages/7_GAN.py": ("slider", "gan_interp_steps", 6),
    "pages/8_Deep_Dream.py": ("slider", "dd_wipe", 20),
}
# Buttons to press once before measuring (the Deep Dream wipe slider exists once a dream is shown).
RERENDER_PREPARE: dict[str, tuple[str, ...]] = {"pages/8_Deep_Dream.py": ("dd_run",)}


def _find_widget(at, kind: str, key: str):
    widgets = at.get(kind)
    for widget in widgets:
        wkey = getattr(widget, "key", None) or ""
        if (key.endswith("*") and wkey.startswith(key[:-1])) or wkey == key:
            return widget
    return None


def _middle_value(widget):
    options = list(getattr(widget, "options", []) or [])
    if options:
        value = options[len(options) // 2]
        try:  # select_slider options come back as strings: map to the real values when numeric
            return type(widget.value)(value)
        except (TypeError, ValueError):
            return value
    lo, hi = widget.min, widget.max
    return type(widget.value)((lo + hi) / 2)


def rerender_latency(page: str, kind: str, key: str, value, repeat: int = 3, timeout: float = 600) -> tuple[float, float, str]:
    """(slider re-render seconds, plain re-run seconds, note) for ``page`` through AppTest.

    The page is opened and run until its models are ready (cached), then the slider is moved back
    and forth ``repeat`` times; each full script run is timed and the best is kept. The plain re-run
    (no change) is the floor. In a browser, sliders inside an st.fragment rerun only their panel,
    so the real latency of those is lower than this full-script number.
    """
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=timeout)
    at.run()
    at.switch_page(page).run()
    at.run()  # models cached now
    for button in RERENDER_PREPARE.get(page, ()):
        found = _find_widget(at, "button", button)
        if found is not None:
            found.click()
            at.run()
    if at.exception:
        return float("nan"), float("nan"), f"page raised: {at.exception[0].value}"[:200]
    widget = _find_widget(at, kind, key)
    if widget is None:
        return float("nan"), float("nan"), f"no {kind} with key {key!r} on the page"
    original = widget.value
    target = _middle_value(widget) if value == "mid" else value
    if target == original:
        target = _middle_value(widget) if value != "mid" else original
    plain, _ = timed(lambda: at.run(), repeat=repeat)
    best = float("inf")
    for i in range(repeat):
        widget = _find_widget(at, kind, key)
        widget.set_value(target if i % 2 == 0 else original)
        start = time.perf_counter()
        at.run()
        best = min(best, time.perf_counter() - start)
    note = f"{kind} {widget.key!r} {original!r} ↔ {target!r}; AppTest full-script run, best of {repeat}"
    if at.exception:
        note += f"; raised {at.exception[0].value}"[:200]
    return best, plain, note
