"""`python -m bench` collects every bench/<topic>.py's rows into bench/RESULTS.md with the machine
description, and one broken benchmark becomes a row that says so instead of losing the table."""

from __future__ import annotations

import ast
import sys
import types

import pytest

import bench.__main__ as aggregator
from bench.common import row, speedup, verdict
from tests.conftest import ROOT


def _module(name, fn):
    module = types.ModuleType(f"bench.{name}")
    module.run = fn
    return module


def test_results_table_with_a_broken_benchmark(tmp_path, monkeypatch):
    good = _module("fake_good", lambda quick=False: [row("Fake page", "loop time", 0.5, 1.0, note="quick" if quick else "full")])

    def broken(quick=False):
        raise RuntimeError("core.fake changed under me")

    monkeypatch.setitem(sys.modules, "bench.fake_good", good)
    monkeypatch.setitem(sys.modules, "bench.fake_broken", _module("fake_broken", broken))
    monkeypatch.setattr(aggregator, "topic_modules", lambda: ["fake_broken", "fake_good"])
    out = tmp_path / "RESULTS.md"
    assert aggregator.main(["--no-app", "--quick", "--output", str(out)]) == 0
    text = out.read_text()
    assert "## Machine" in text and "| CPU |" in text and "| torch |" in text and "| device used |" in text
    assert "no GPU on this machine" in text or "GPU" in text
    assert "| Fake page | loop time | 0.5 | 1.00 | s | 2.00 | 2.00× faster | quick |" in text
    assert "benchmark failed" in text and "core.fake changed under me" in text


def test_verdict_reads_the_unit_direction():
    assert verdict(row("p", "m", 2.0, 4.0)) == "2.00× faster"  # seconds: less is better
    assert verdict(row("p", "m", 4.0, 2.0, unit="it/s")) == "2.00× faster"  # rates: more is better
    assert verdict(row("p", "m", 0.2, 0.1, unit="nll")) == "2.00× worse"
    assert verdict(row("p", "m", 1.0, None)) == ""


def test_ratio_reads_one_way_ours_faster_is_above_one():
    """The ratio is how many times faster (better) ours is: computed by row() from the two values,
    so no caller can hand it in the other way round (bench/RESULTS.md once printed a time ratio of
    1.97 next to '1.97× slower')."""
    slower = row("Regression", "fit", 0.115, 0.0583)  # ours took twice the tutorial's time
    assert slower["ratio"] == pytest.approx(0.0583 / 0.115) and verdict(slower) == "1.97× slower"
    faster = row("Regression", "fit", 0.0116, 0.058)
    assert faster["ratio"] == pytest.approx(5.0) and verdict(faster) == "5.00× faster"
    assert row("p", "m", 4.0, 2.0, unit="it/s")["ratio"] == 2.0  # rates: more is better
    assert row("p", "m", 1.2, 1.5, unit="score")["ratio"] == pytest.approx(0.8)
    assert row("p", "m", 0.2, 0.1, unit="nll")["ratio"] == 0.5  # losses: less is better
    assert row("p", "m", float("nan"), 1.0)["ratio"] is None and row("p", "m", 1.0)["ratio"] is None
    assert speedup(2.0, 4.0, "CPU ms") == 2.0 and speedup(0.0, 1.0) is None
    with pytest.raises(TypeError):
        row("p", "m", 0.5, 1.0, ratio=0.5)  # a caller cannot pass a ratio at all


def test_aggregator_recomputes_a_ratio_handed_in_the_other_way(tmp_path, monkeypatch):
    inverted = {"page": "Fake page", "measure": "loop time", "ours": 2.0, "baseline": 1.0, "ratio": 2.0,
                "unit": "s", "note": "ratio = ours / baseline (the wrong way)"}
    monkeypatch.setitem(sys.modules, "bench.fake_inverted", _module("fake_inverted", lambda quick=False: [inverted]))
    monkeypatch.setattr(aggregator, "topic_modules", lambda: ["fake_inverted"])
    out = tmp_path / "RESULTS.md"
    assert aggregator.main(["--no-app", "--output", str(out)]) == 0
    assert "| Fake page | loop time | 2.00 | 1.00 | s | 0.5 | 2.00× slower |" in out.read_text()


def test_no_benchmark_computes_its_own_ratio():
    """Every bench/<topic>.py makes its rows with bench.common.row: no `ratio=` argument, no
    "ratio" key in a dict literal, no `r["ratio"] = ...` outside bench/common.py."""
    found = []
    for path in sorted((ROOT / "bench").glob("*.py")):
        if path.name == "common.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.name}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Call):
                found += [where for kw in node.keywords if kw.arg == "ratio"]
            elif isinstance(node, ast.Dict):
                found += [where for key in node.keys if isinstance(key, ast.Constant) and key.value == "ratio"]
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store):
                if isinstance(node.slice, ast.Constant) and node.slice.value == "ratio":
                    found.append(where)
    assert found == []
