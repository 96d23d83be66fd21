"""bench/load.py, the load benchmark: its page-JSON reading on a hand-made snapshot (fast), and one
small live run (2 students, 1 move each, a fresh `streamlit run` with the agent API on).

The live run is marked `e2e` (a real server, like the browser suite): deselect it with
`-m "not e2e"` or `-k "not live"`. It checks structure and correctness only, never speed.
"""

from __future__ import annotations

import pytest

from bench import load


def _snapshot(seed=0, replay="30", running=False):
    status = {"type": "status", "props": {"label": "Training…" if running else "Training: done in 1.0 s",
                                          "state": "running" if running else "complete"},
              "children": [{"type": "progress", "props": {"value": 0.5 if running else 1.0, "text": f"seed {seed}"}}]}
    return {
        "session_id": "s_1", "status": "ready", "page": {"url_path": "Regression"},
        "tree": {"type": "root", "children": [
            {"type": "main", "children": [
                {"type": "select_slider", "key": "reg_replay", "value": replay,
                 "props": {"label": "Replay training: epoch", "options": ["10", "20", "30"]}},
                status,
                {"type": "slider", "key": "view_zoom", "value": 2,
                 "props": {"label": "Zoom", "min_value": 1, "max_value": 4, "step": 1}, "value_schema": {"type": "integer"}},
            ]},
            {"type": "sidebar", "children": [
                {"type": "slider", "key": "reg_epochs", "value": 600,
                 "props": {"label": "Epochs", "min_value": 10, "max_value": 5000, "step": 10},
                 "value_schema": {"type": "integer"}},
                {"type": "number_input", "key": "reg_seed", "value": seed,
                 "props": {"label": "Seed", "min_value": 0, "max_value": 10000, "step": 1},
                 "value_schema": {"type": "integer"}},
            ]},
        ]},
        "actions": [{"key": k, "kind": "value", "type": t} for k, t in
                    (("reg_replay", "select_slider"), ("view_zoom", "slider"), ("reg_epochs", "slider"),
                     ("reg_seed", "number_input"))] + [{"key": "reg_retrain", "kind": "trigger", "type": "button"}],
    }


def test_widgets_are_found_from_the_page_json():
    snap = _snapshot()
    key, w = load.find_widget(snap, "Regression", "re-render")
    assert key == "reg_replay" and load.next_value(w["node"], 0) != "30"
    key, w = load.find_widget(snap, "Regression", "retrain")
    assert key == "reg_seed" and load.retrain_value(w["node"], 3, 1, 4) == 100 + 3 * 4 + 1
    # an unknown page falls back: first slider in the main area / the Seed number input
    assert load.find_widget(snap, "Some_New_Page", "re-render")[0] == "reg_replay"
    assert load.find_widget(snap, "Some_New_Page", "retrain")[0] == "reg_seed"
    # renamed keys still match by suffix
    renamed = _snapshot()
    for node, _root, _inside in load.walk(renamed["tree"]):
        if node.get("key") == "reg_seed":
            node["key"] = "regression_seed"
    renamed["actions"][3]["key"] = "regression_seed"
    assert load.find_widget(renamed, "Regression", "retrain")[0] == "regression_seed"


def test_page_facts_busy_and_errors():
    assert load.page_facts(_snapshot(running=True))["busy"]
    done = load.page_facts(_snapshot())
    assert not done["busy"] and done["exceptions"] == 0 and done["statuses"]
    bad = _snapshot()
    bad["tree"]["children"][0]["children"].append({"type": "exception", "props": {"message": "boom"}})
    bad["tree"]["children"][0]["children"].append({"type": "error", "props": {"body": "Training failed"}})
    facts = load.page_facts(bad)
    assert facts["exceptions"] == 1 and facts["error_boxes"] == 1
    assert load.page_facts(_snapshot(seed=1))["fingerprint"] != load.page_facts(_snapshot(seed=2))["fingerprint"]
    assert load.next_value(_snapshot()["tree"]["children"][0]["children"][2], 0) == 3
    assert load.plan(0, 2) == ["re-render", "retrain"] and load.plan(1, 1) == ["retrain"]


@pytest.mark.e2e
def test_load_part_live_two_students_one_move():
    report = load.run_load((2,), moves=1, baseline=False, sigterm=False, deadline_s=120,
                           extra_env={"DLE_FAST": "1"}, say=lambda *a: None)
    (run,) = report["runs"]
    assert "failed" not in run, run.get("failed")
    kinds = run["kinds"]
    assert {k for k, v in kinds.items() if v["count"]} == {"open", "re-render", "retrain"}
    assert kinds["open"]["count"] == 2 and kinds["re-render"]["count"] == 1 and kinds["retrain"]["count"] == 1
    assert all(v["finished"] == v["count"] for v in kinds.values())
    assert run["errors"] == 0 and run["http_errors"] == 0 and run["exceptions"] == 0, run["messages"]
    assert run["trainings"] >= 1 and run["trainings_persisted"] >= 1
    assert kinds["retrain"]["trained"] == 1 and kinds["re-render"]["trained"] == 0
    assert run["peak_rss_mb"] > 0 and run["calibration"]["noop_s"]
    text = load.markdown_section(report)
    assert "## Load: a whole class on one server" in text and "| 2 | retrain | 1/1 |" in text
