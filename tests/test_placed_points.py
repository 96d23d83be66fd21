""""Put points where you want them" on the regression and decision-boundary pages: core.points turns
an edited table into Config points (or a clear refusal), and on the pages an edit to the table
(st.data_editor's edit state, as the browser sends it) retrains the model on the new points."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import logistic, regression
from core.points import PointsError, clean_points, seed_table, split
from tests.conftest import open_page, page_errors

P_REG, P_DB = "pages/1_Regression.py", "pages/2_Decision_Boundary.py"
BOUNDS = {"x": (-3.0, 3.0), "y": (-10.0, 10.0)}

pytestmark = pytest.mark.usefixtures("clear_streamlit_caches")


# --- core.points ---------------------------------------------------------------------------------


def table(rows, test=None) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["x", "y"])
    frame["test"] = test if test is not None else [False] * len(frame)
    return frame


def test_clean_points_keeps_good_rows_and_marks_test():
    placed = clean_points(table([[0, 1], [1, 2], [2, 3], [0.5, 0.5]], [False, False, False, True]), ("x", "y"), BOUNDS)
    assert placed.points == ((0.0, 1.0, 0.0), (1.0, 2.0, 0.0), (2.0, 3.0, 0.0), (0.5, 0.5, 1.0))
    assert placed.notes == ()
    train, test = split(placed.points)
    assert train.shape == (3, 2) and test.tolist() == [[0.5, 0.5]]


def test_clean_points_drops_text_and_gaps_and_clips_far_points():
    rows = table([[0, 1], ["abc", 2], [None, 3], [1, float("inf")], [1, 2], [2, 3], [99, -50]])
    placed = clean_points(rows, ("x", "y"), BOUNDS)
    assert len(placed.points) == 4
    assert placed.points[-1][:2] == (3.0, -10.0), "the far point is moved to the range's corner"
    joined = " ".join(placed.notes)
    assert "3 row(s)" in joined and "left out" in joined and "moved to its edge" in joined


@pytest.mark.parametrize("rows,words", [
    (None, "empty"),
    (table([]), "empty"),
    (table([[0, 1], [1, 2]]), "at least 3"),
    (table([["a", "b"], ["c", "d"], ["e", "f"]]), "at least 3"),
    (table([[0, 1], [1, 2], [2, 3]], [True, True, False]), "untick"),
])
def test_clean_points_refuses_what_cannot_be_fitted(rows, words):
    with pytest.raises(PointsError, match=words):
        clean_points(rows, ("x", "y"), BOUNDS)


def test_class_labels_must_be_0_or_1_and_both_present():
    frame = pd.DataFrame({"x1": [0, 1, 2, 3], "x2": [0, 1, 2, 3], "class": [0, 1, 7, 1], "test": [False] * 4})
    placed = clean_points(frame, ("x1", "x2", "class"), {}, label="class")
    assert len(placed.points) == 3 and "class other than 0 or 1" in placed.notes[0]
    with pytest.raises(PointsError, match="both"):
        clean_points(frame.assign(**{"class": [1, 1, 1, 1]}), ("x1", "x2", "class"), {}, label="class")


def test_configs_with_points_use_exactly_those_points():
    points = ((0.0, 1.0, 0.0), (1.0, 3.0, 0.0), (2.0, 5.0, 0.0), (3.0, 7.0, 1.0))
    data = regression.make_data(regression.Config(degree=1, points=points))
    assert data.x_train.tolist() == [0.0, 1.0, 2.0] and data.x_test.tolist() == [3.0]
    np.testing.assert_allclose(regression.closed_form(regression.poly_features(data.x_train, 1), data.y_train),
                               [1.0, 2.0], atol=1e-9)
    marks = ((0.0, 0.0, 0.0, 0.0), (1.0, 1.0, 1.0, 0.0), (0.0, 1.0, 0.0, 0.0), (1.0, 0.0, 1.0, 1.0))
    boundary = logistic.make_data(logistic.Config(points=marks))
    assert boundary.y_train.tolist() == [0, 1, 0] and boundary.y_test.tolist() == [1]
    assert seed_table(("x", "y"), data.x_train[:, None].repeat(2, 1), np.zeros((0, 2)))["test"].sum() == 0


# --- on the pages ----------------------------------------------------------------------------------


def editor(at):
    editors = at.data_editor
    assert len(editors) == 1, "the points table is missing"
    return editors[0]


def edit(at, *, edited=None, added=None, deleted=None):
    """Apply one edit to the points table, as the browser reports it, and rerun."""
    key = editor(at).key
    at.session_state[key] = {"edited_rows": edited or {}, "added_rows": added or [], "deleted_rows": deleted or []}
    at.run()
    return at


def coefficients(at) -> np.ndarray:
    frame = next(d.value for d in at.dataframe if d.editing_mode == "read_only" and "closed form" in d.value)
    return frame["closed form"].to_numpy()


def texts(at, kind: str) -> str:
    return " ".join(str(e.value) for e in at.get(kind))


def test_regression_adding_a_point_moves_the_fit_and_reset_restores_it():
    at = open_page(P_REG)
    assert not page_errors(at), page_errors(at)
    seed = editor(at).value
    assert list(seed.columns) == ["x", "y", "test"] and len(seed) == 60
    before = coefficients(at)
    x_hi, y_lo = float(seed["x"].max()), float(seed["y"].min())
    edit(at, added=[{"x": x_hi, "y": y_lo, "test": False}, {"x": x_hi, "y": y_lo}])
    assert not page_errors(at), page_errors(at)
    after = coefficients(at)
    assert np.abs(after - before).max() > 0.1, "two far-off training points must move the closed-form fit"
    assert "Fitting your 62 points (47 train, 15 test)" in texts(at, "caption")

    next(b for b in at.button if b.key == "reg_points_reset").click().run()
    assert not page_errors(at)
    np.testing.assert_allclose(coefficients(at), before)
    assert not any("Fitting your" in c for c in texts(at, "caption").split("\n"))


def test_regression_bad_tables_give_messages_and_the_page_keeps_working():
    at = open_page(P_REG)
    n = len(editor(at).value)
    edit(at, deleted=list(range(n)))  # an empty table
    assert not at.exception
    assert "table is empty" in texts(at, "error")
    assert at.get("plotly_chart"), "the generated data is shown instead"

    edit(at, deleted=list(range(n - 2)))  # two points left
    assert "at least 3" in texts(at, "error")

    edit(at, edited={0: {"x": "abc"}, 1: {"y": None}, 2: {"x": 1e6}})  # text, a gap, far away
    assert not at.exception and not at.error, texts(at, "error")
    warnings = texts(at, "warning")
    assert "2 row(s)" in warnings and "left out" in warnings and "moved to its edge" in warnings
    assert "Fitting your 58 points" in texts(at, "caption")


def threshold_table(at) -> np.ndarray:
    return next(d.value for d in at.dataframe if "predicted 0" in d.value).to_numpy()


def test_boundary_island_point_changes_the_model_and_bad_classes_are_refused():
    at = open_page(P_DB)
    assert not page_errors(at), page_errors(at)
    seed = editor(at).value
    assert list(seed.columns) == ["x1", "x2", "class", "test"]
    before = [m.value for m in at.metric]
    grid_before = at.get("plotly_chart")[0].proto.spec
    # five class-1 points on top of a class-0 point: the boundary has to deal with them
    x1, x2 = (float(v) for v in seed[seed["class"] == 0].iloc[0][["x1", "x2"]])
    edit(at, added=[{"x1": x1 + 0.01 * i, "x2": x2, "class": 1} for i in range(5)])
    assert not page_errors(at), page_errors(at)
    assert at.get("plotly_chart")[0].proto.spec != grid_before
    assert [m.value for m in at.metric] != before or "Fitting your 205 points" in texts(at, "caption")
    assert "Fitting your 205 points" in texts(at, "caption")

    key = editor(at).key
    everything_one = {i: {"class": 1} for i in range(len(seed))}
    at.session_state[key] = {"edited_rows": everything_one, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    assert "both" in texts(at, "error")
    assert threshold_table(at).sum() > 0, "the page keeps working on the generated data"
