""""Put points where you want them": an editable table of the data's points (st.data_editor with
dynamic rows), shared by the regression and decision-boundary pages. Edited points become the
Config's ``points`` (so the model retrains on them); a button goes back to the generated data."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st

from core import logistic, regression
from core.points import TEST, PointsError, allowed_range, clean_points, seed_table
from ui.frame import show_error


def _reset(prefix: str) -> None:
    """Button callback: a new editor key, so the table starts again from the generated data."""
    st.session_state[f"{prefix}_points_rev"] = st.session_state.get(f"{prefix}_points_rev", 0) + 1


def _edited(state) -> bool:
    return isinstance(state, dict) and any(state.get(k) for k in ("edited_rows", "added_rows", "deleted_rows"))


def points_editor(prefix: str, seed: pd.DataFrame, bounds: dict[str, tuple[float, float]], *,
                  label: str | None = None, help_text: str = "") -> tuple:
    """The table of points, seeded from ``seed`` (the generated data). Returns the clean points for
    the Config, or () while the table is untouched or cannot be used (then with a message)."""
    columns = tuple(c for c in seed.columns if c != TEST)
    # The generated data is part of the key: new data settings, or Reset, start a fresh table.
    digest = hashlib.sha256(pd.util.hash_pandas_object(seed, index=False).to_numpy().tobytes()).hexdigest()[:10]
    key = f"{prefix}_points_{digest}_{st.session_state.get(f'{prefix}_points_rev', 0)}"
    config = {name: st.column_config.NumberColumn(name, format="%.3f", help=f"range {lo:g} … {hi:g}")
              for name, (lo, hi) in bounds.items()}
    if label is not None:
        config[label] = st.column_config.NumberColumn(label, min_value=0, max_value=1, step=1, format="%d",
                                                      help="0 or 1")
    config[TEST] = st.column_config.CheckboxColumn(TEST, help="Held out: not trained on, scored as test data",
                                                   default=False)
    edited_before = _edited(st.session_state.get(key))
    with st.expander(":material/touch_app: Put points where you want them", expanded=edited_before):
        st.caption(help_text + " Add a row (the + above the table), double-click a cell to edit it, or select rows and "
                   "delete them; the model retrains on your points. Ranges: "
                   + ", ".join(f"{name} {lo:g} … {hi:g}" for name, (lo, hi) in bounds.items()) + ".")
        table = st.data_editor(seed, num_rows="dynamic", hide_index=True, column_config=config, key=key,
                               height=250, width="stretch")
        if not _edited(st.session_state.get(key)):
            return ()
        st.button("Reset to the generated data", icon=":material/restart_alt:", key=f"{prefix}_points_reset",
                  on_click=_reset, args=(prefix,))
        try:
            placed = clean_points(table, columns, bounds, label=label)
        except PointsError as exc:
            show_error(exc, "These points cannot be used")
            st.info("Showing the generated data instead until the table can be fitted.")
            return ()
        for note in placed.notes:
            st.warning(note, icon=":material/edit_note:")
        n_test = sum(p[-1] > 0 for p in placed.points)
        st.caption(f"Fitting your {len(placed.points)} points ({len(placed.points) - n_test} train, {n_test} test).")
    return placed.points


# --- the two pages' tables -------------------------------------------------------------------------


def regression_points(cfg: regression.Config) -> regression.Config:
    """``cfg`` with the learner's (x, y) points, when they edited the table."""
    data = regression.make_data(cfg)
    seed = seed_table(("x", "y"), np.column_stack([data.x_train, data.y_train]),
                      np.column_stack([data.x_test, data.y_test]))
    bounds = {name: allowed_range(seed[name].to_numpy()) for name in ("x", "y")}
    return replace(cfg, points=points_editor(
        "reg", seed, bounds, help_text="Drag the fit around: one far-off point shows how much a single "
                                       "outlier pulls a least-squares fit, and a high degree through few "
                                       "points shows overfitting."))


def boundary_points(cfg: logistic.Config) -> logistic.Config:
    """``cfg`` with the learner's (x1, x2, class) points, when they edited the table."""
    data = logistic.make_data(cfg)
    seed = seed_table(("x1", "x2", "class"), np.column_stack([data.x_train, data.y_train]),
                      np.column_stack([data.x_test, data.y_test]))
    bounds = {name: allowed_range(seed[name].to_numpy()) for name in ("x1", "x2")}
    return replace(cfg, points=points_editor(
        "lr", seed, bounds, label="class",
        help_text="Put a class-1 point deep inside class 0 and watch the boundary bend to reach it (an MLP) "
                  "or refuse to (logistic regression: one straight line)."))
