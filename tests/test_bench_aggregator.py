"""`python -m bench` collects every bench/<topic>.py's rows into bench/RESULTS.md with the machine
description, and one broken benchmark becomes a row that says so instead of losing the table."""

from __future__ import annotations

import sys
import types

import bench.__main__ as aggregator
from bench.common import row, verdict


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
