"""The Word Embeddings page through AppTest: default view, bad text, uploads, every slider."""

from __future__ import annotations

import json

import pytest

from tests.conftest import open_page, page_errors

PAGE = "pages/5_Word_Embeddings.py"


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def chart_specs(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def epoch_chart(at) -> dict:
    """The 'Across epochs' chart: the one with a 'path of ...' trace."""
    for spec in chart_specs(at):
        if any(str(t.get("name", "")).startswith("path of") for t in spec["data"]):
            return spec
    raise AssertionError("epoch chart not found")


@pytest.fixture
def page(clear_streamlit_caches):
    at = open_page(PAGE)
    assert not page_errors(at), page_errors(at)
    return at


def test_default_view_reproduces_the_tutorial(page):
    at = page
    m = metrics(at)
    assert m["Words in the text"] == "115" and m["Vocabulary"] == "86"
    assert float(m["Final loss"]) < 0.1
    assert len(at.get("plotly_chart")) >= 3  # word map, epochs, next-word bars
    said = [md.value for md in at.markdown if "the model says" in md.value]
    assert said and "**on**" in said[0], said
    neighbours = at.dataframe[0].value
    assert "beauty" not in set(neighbours["word"]) and len(neighbours) == 8
    assert neighbours["cosine similarity"].is_monotonic_decreasing


def test_empty_or_one_word_text_gives_a_message_and_the_page_recovers(page):
    at = page
    at.radio(key="emb_source").set_value("Paste text").run()
    assert not page_errors(at)  # the pre-filled sonnet
    at.text_area(key="emb_corpus_text").set_value("").run()
    assert not at.exception
    assert any("empty" in e.value for e in at.error), page_errors(at)
    at.text_area(key="emb_corpus_text").set_value("hello " * 20).run()
    assert any("different word" in e.value for e in at.error)
    at.text_area(key="emb_corpus_text").set_value("Le cœur a ses raisons que la raison ne connaît point.").run()
    assert not page_errors(at)
    assert metrics(at)["Vocabulary"] == "11" and at.get("plotly_chart")


def test_upload_non_utf8_then_a_good_file(page):
    at = page
    at.radio(key="emb_source").set_value("Upload a .txt file").run()
    assert not page_errors(at) and at.info  # nothing uploaded yet: the sonnet, with a note
    at.file_uploader(key="emb_corpus_file").upload("latin1.txt", "Ça coûte très cher, né?".encode("latin-1"),
                                              "text/plain").run()
    assert not at.exception and any("UTF-8" in e.value for e in at.error)
    at.file_uploader(key="emb_corpus_file").clear().upload(
        "ok.txt", b"the cat sat on the mat and the dog sat on the log", "text/plain").run()
    assert not page_errors(at)
    assert metrics(at)["Words in the text"] == "13"


@pytest.mark.parametrize("key, value", [
    ("emb_dim", 3), ("emb_context", 1), ("emb_hidden", 32), ("emb_epochs", 40), ("emb_lr", 0.003), ("emb_batch", 64),
])
def test_each_training_slider_changes_the_result(page, key, value):
    at = page
    before = metrics(at)
    widget = at.slider(key=key) if key in ("emb_dim", "emb_context", "emb_epochs") else at.select_slider(key=key)
    widget.set_value(value).run()
    assert not page_errors(at), page_errors(at)
    after = metrics(at)
    assert after["Final loss"] != before["Final loss"], (key, before, after)


def test_dimension_slider_changes_the_vectors(page):
    at = page
    at.slider(key="emb_dim").set_value(2).run()
    assert not page_errors(at)
    assert any("raw vectors" in c.value for c in at.caption)  # 2-D embedding: no projection needed
    at.slider(key="emb_dim").set_value(32).run()
    assert any("PCA from 32 dimensions" in c.value for c in at.caption)


def test_word_search_epoch_slider_and_views(page):
    at = page
    first = at.dataframe[0].value
    at.selectbox(key="emb_find").set_value("thy").run()
    second = at.dataframe[0].value
    assert "thy" not in set(second["word"]) and list(first["word"]) != list(second["word"])

    last = epoch_chart(at)
    at.select_slider(key="emb_epoch").set_value(0).run()
    start = epoch_chart(at)
    assert start["data"][0]["x"] != last["data"][0]["x"]  # the words are elsewhere at epoch 0
    assert start["layout"]["xaxis"]["range"] == last["layout"]["xaxis"]["range"]  # fixed frame

    at.radio(key="emb_view").set_value("3-D").run()
    assert any(t["type"] == "scatter3d" for s in chart_specs(at) for t in s["data"])
    at.radio(key="emb_method").set_value("t-SNE").run()
    assert not page_errors(at)


def test_next_word_and_analogy_inputs(page):
    at = page
    at.text_input(key="emb_context_text").set_value("thy beauty's").run()
    said = [md.value for md in at.markdown if "the model says" in md.value][0]
    assert "'field'" in said and "'use'" in said  # both continuations in the text are listed
    at.text_input(key="emb_context_text").set_value("zebra").run()
    assert any("at least 2" in w.value for w in at.warning)
    at.text_input(key="emb_an_a").set_value("qwerty").run()
    assert any("not in the vocabulary" in w.value for w in at.warning)
    assert not at.exception
