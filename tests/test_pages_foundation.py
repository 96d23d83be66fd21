"""AppTest: the home page, the frame, and the regression and decision-boundary pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT, open_page, page_errors
from ui.frame import PAGES

pytestmark = pytest.mark.usefixtures("clear_streamlit_caches")


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_home_lists_every_page_and_shows_the_device():
    at = open_page()
    assert not at.exception
    sidebar = " ".join(str(m.value) for m in at.sidebar.markdown)
    assert "Device:" in sidebar and "torch" in sidebar
    cards = at.main.get("page_link")  # one card per page on the home page itself
    assert sorted(link.proto.label for link in cards) == sorted(f"**{p.title}**" for p in PAGES)
    nav = at.sidebar.get("page_link")  # and the frame's navigation: Home + every page
    assert len(nav) == len(PAGES) + 1


def test_pages_folder_holds_exactly_the_listed_pages():
    on_disk = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py"))
    assert on_disk == sorted(p.path for p in PAGES)


def test_every_page_calls_the_frame_first():
    """The first statement after the imports must be page_frame(...) (the shared frame)."""
    import ast

    for page in PAGES:
        tree = ast.parse(Path(ROOT / page.path).read_text())
        body = [node for node in tree.body if not isinstance(node, (ast.Import, ast.ImportFrom))
                and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]  # docstring
        first = body[0]
        assert isinstance(first, ast.Expr) and isinstance(first.value, ast.Call), page.path
        assert getattr(first.value.func, "id", None) == "page_frame", f"{page.path} does not open with page_frame"


def test_regression_page_renders_and_degree_changes_the_result():
    at = open_page("pages/1_Regression.py")
    assert not page_errors(at)
    assert at.get("plotly_chart"), "the fit chart is missing"
    before = metrics(at)
    assert {"Train MSE", "Test MSE", "cond(XᵀX)"} <= set(before)
    at.slider(key="reg_degree").set_value(1).run()
    after = metrics(at)
    assert not page_errors(at)
    assert after["Train MSE"] != before["Train MSE"] and after["cond(XᵀX)"] != before["cond(XᵀX)"]
    # degree 1 adds the descent path on the loss contours
    assert any(getattr(c, "proto", None) is not None for c in at.get("plotly_chart"))


def test_regression_noise_and_lr_sliders_change_the_result():
    at = open_page("pages/1_Regression.py")
    base = metrics(at)
    at.slider(key="reg_noise").set_value(3.0).run()
    noisy = metrics(at)
    assert noisy["Train MSE"] != base["Train MSE"]
    at.select_slider(key="reg_lr").set_value(0.001).run()
    assert metrics(at)["‖θ_GD − θ*‖"] != noisy["‖θ_GD − θ*‖"]


def test_regression_diverging_learning_rate_is_explained():
    at = open_page("pages/1_Regression.py")
    at.selectbox(key="reg_opt").set_value("SGD")
    at.checkbox(key="reg_std").uncheck()
    at.select_slider(key="reg_lr").set_value(10.0).run()
    assert not at.exception
    text = " ".join(str(e.value) for e in at.error)
    assert "diverged" in text and "learning rate 10" in text
    assert at.get("plotly_chart"), "the data should still be shown"


def test_regression_csv_with_text_column_gives_message_and_page_keeps_working():
    at = open_page("pages/1_Regression.py")
    at.radio(key="reg_dataset").set_value("custom").run()
    at.file_uploader(key="reg_csv").upload("bad.csv", b"x,label\n1,cat\n2,dog\n3,bird\n4,fish\n", "text/csv").run()
    assert not at.exception
    assert any("not numeric" in str(e.value) for e in at.error)
    good = b"height,weight\n1,2.1\n2,3.9\n3,6.2\n4,8.1\n5,9.8\n6,12.2\n,5\n"
    at.file_uploader(key="reg_csv").upload("good.csv", good, "text/csv").run()
    assert not at.exception and not at.error
    assert any("left out" in str(w.value) for w in at.warning)
    assert metrics(at)["Train MSE"]


def test_decision_boundary_page_and_hidden_units_slider():
    at = open_page("pages/2_Decision_Boundary.py")
    assert not page_errors(at)
    assert at.get("plotly_chart")
    before = metrics(at)
    at.slider(key="lr_units").set_value(2).run()
    after = metrics(at)
    assert not page_errors(at)
    assert after["Train accuracy"] != before["Train accuracy"]


def test_threshold_slider_updates_confusion_matrix_without_retraining():
    at = open_page("pages/2_Decision_Boundary.py")
    def confusion():  # the read-only confusion matrix, not the editable table of points
        return next(d.value for d in at.dataframe if "predicted 0" in d.value).to_numpy().copy()

    table_before = confusion()
    at.slider(key="lr_threshold").set_value(0.9).run()
    assert not page_errors(at)
    assert (confusion() != table_before).any()


def test_logistic_regression_shows_the_boundary_equation():
    at = open_page("pages/2_Decision_Boundary.py")
    at.radio(key="lr_model").set_value("logistic")
    at.selectbox(key="lr_dataset").set_value("exam").run()
    assert not page_errors(at)
    equations = [str(el.value) for el in at.latex]
    assert any("x_1" in eq and "x_2" in eq and "= 0" in eq for eq in equations[1:])
