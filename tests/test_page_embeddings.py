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


# --- both models: word2vec, the book, the tutorial's settings ----------------------------------------

W2V, NGRAM = "word2vec (skip-gram, negative sampling)", "N-gram language model (tutorial 5.4)"
W2V_SLIDERS = [  # (widget kind, key, a value other than the default)
    ("slider", "emb_w2v_dim", 20), ("slider", "emb_window", 4), ("slider", "emb_negatives", 10),
    ("slider", "emb_min_count", 3), ("select_slider", "emb_subsample", 1e-4), ("slider", "emb_w2v_epochs", 10),
    ("select_slider", "emb_w2v_lr", 0.02),
]


def excerpt(words: int) -> str:
    from core.word2vec import book_text

    return " ".join(book_text().split()[:words])


def neighbours(at):
    """The neighbours table of the word map tab (the first dataframe)."""
    return at.dataframe[0].value


@pytest.fixture
def w2v_page(clear_streamlit_caches):
    """word2vec on a pasted 3,000-word excerpt of the book (trains in about a second)."""
    at = open_page(PAGE, settings={"emb_model": W2V, "emb_source": "Paste text"})
    at.text_area(key="emb_corpus_text").set_value(excerpt(3_000)).run()
    assert not page_errors(at), page_errors(at)
    return at


def test_real_default_is_word2vec_on_the_book(clear_streamlit_caches):
    """What a learner lands on: the shipped word2vec model of the whole book, with textbook neighbours."""
    at = open_page(PAGE, settings={})
    assert not page_errors(at), page_errors(at)
    assert at.radio(key="emb_model").value == W2V and at.radio(key="emb_source").value.startswith("Pride")
    m = metrics(at)
    assert m["Words in the text"] == "121,876" and m["Vocabulary"] == "2,062" and m["Vectors"] == "2,062 × 50"
    assert at.selectbox(key="emb_find").value == "he"
    assert "she" in list(neighbours(at)["word"])[:3]
    assert any("bundled checkpoint" in c.value for c in at.caption), "the default should load, not train"
    assert any("does not apply to word2vec" in i.value for i in at.info)  # next word: said, not hidden
    assert at.dataframe[1].value["word"].iloc[0] == "her"  # his - he + she
    replay = at.select_slider(key="emb_epoch")
    assert replay.options[0] == "0" and replay.options[-1] == "5" and len(replay.options) == 11  # half epochs
    replay.set_value(float(replay.options[5])).run()  # as bench/common.py moves it
    assert not page_errors(at) and any(c.value.startswith(f"Epoch {replay.options[5]} of 5") for c in at.caption)
    at.selectbox(key="emb_find").set_value("said").run()
    assert {"replied", "cried"} & set(neighbours(at)["word"][:3])
    at.select_slider(key="emb_map_words").set_value(500).run()
    assert not page_errors(at)
    word_map = next(s for s in chart_specs(at) if {t.get("name") for t in s["data"]} <= {"word", "neighbour", "found"})
    points = sum(len(t["hovertext"]) for t in word_map["data"])
    assert 500 <= points <= 500 + 1 + 8, points  # the 500 most frequent, plus 'said' and neighbours not among them


def test_tutorial_button_gives_the_tutorial_exactly(clear_streamlit_caches):
    at = open_page(PAGE, settings={})
    at.button(key="emb_tutorial").click().run()
    assert not page_errors(at), page_errors(at)
    assert at.radio(key="emb_model").value == NGRAM and at.radio(key="emb_source").value.startswith("Sonnet")
    assert at.selectbox(key="emb_optimizer").value == "SGD" and at.select_slider(key="emb_batch").value == 1
    m = metrics(at)
    assert m["Vocabulary"] == "93"  # case kept, as in the tutorial
    assert abs(float(m["Final loss"]) - 0.062) < 0.01, m  # the tutorial's 0.062 after 100 epochs
    assert at.selectbox(key="emb_find").value == "beauty"
    # back to word2vec on the book: its own settings (case ignored), so the shipped model again
    at.radio(key="emb_model").set_value(W2V).run()
    at.radio(key="emb_source").set_value("Pride and Prejudice (bundled book)").run()
    assert not page_errors(at), page_errors(at)
    assert metrics(at)["Vocabulary"] == "2,062" and at.selectbox(key="emb_find").value == "he"
    assert at.text_input(key="emb_an_a").value == "his" and at.slider(key="emb_min_count").value == 5
    assert any("bundled checkpoint" in c.value for c in at.caption)


@pytest.mark.parametrize("kind, key, value", W2V_SLIDERS, ids=[k for _, k, _ in W2V_SLIDERS])
def test_each_word2vec_setting_changes_the_vectors(w2v_page, kind, key, value):
    at = w2v_page
    before, loss = neighbours(at), metrics(at)["Final loss"]
    getattr(at, kind)(key=key).set_value(value).run()
    assert not page_errors(at), page_errors(at)
    after = neighbours(at)
    assert metrics(at)["Final loss"] != loss, key
    assert list(after["cosine similarity"]) != list(before["cosine similarity"]), key
    if key == "emb_w2v_dim":
        assert metrics(at)["Vectors"].endswith("× 20")
    if key == "emb_min_count":
        assert metrics(at)["Vocabulary"] != "" and int(metrics(at)["Vocabulary"].replace(",", "")) < len(
            at.selectbox(key="emb_find").options) + 1


def test_word2vec_window_changes_which_words_are_neighbours(w2v_page):
    at = w2v_page
    at.selectbox(key="emb_find").set_value("she").run()
    narrow = set(neighbours(at)["word"])
    at.slider(key="emb_window").set_value(8).run()
    assert set(neighbours(at)["word"]) != narrow


def test_word2vec_bad_text_gives_a_message_and_recovers(clear_streamlit_caches):
    at = open_page(PAGE, settings={"emb_model": W2V, "emb_source": "Paste text"})
    assert not page_errors(at)  # the pre-filled sonnet, minimum count 2
    at.text_area(key="emb_corpus_text").set_value("").run()
    assert not at.exception and any("empty" in e.value for e in at.error)
    at.text_area(key="emb_corpus_text").set_value("the cat sat on the mat").run()
    assert not at.exception and any("lower the minimum count" in e.value for e in at.error), page_errors(at)
    at.slider(key="emb_min_count").set_value(1).run()  # 5 words, but subsampling drops nearly all of them
    assert not at.exception and any("subsampling of frequent words off" in e.value for e in at.error), page_errors(at)
    at.select_slider(key="emb_subsample").set_value(0.0).run()
    assert not page_errors(at) and metrics(at)["Vocabulary"] == "5"
    at.radio(key="emb_source").set_value("Upload a .txt file").run()
    assert not page_errors(at) and any("showing the book" in i.value for i in at.info)
    at.file_uploader(key="emb_corpus_file").upload("latin1.txt", "Ça coûte très cher".encode("latin-1"),
                                              "text/plain").run()
    assert not at.exception and any("UTF-8" in e.value for e in at.error)
    at.file_uploader(key="emb_corpus_file").clear().upload("book.txt", excerpt(2_000).encode(), "text/plain").run()
    assert not page_errors(at) and metrics(at)["Words in the text"] == "2,001"  # "2,000" split on spaces


def test_word2vec_on_the_sonnet_uses_every_word(clear_streamlit_caches):
    at = open_page(PAGE, settings={"emb_model": W2V, "emb_source": "Sonnet 2 (tutorial)"})
    assert not page_errors(at), page_errors(at)
    assert at.slider(key="emb_min_count").value == 1 and metrics(at)["Vocabulary"] == "86"
    assert at.selectbox(key="emb_find").value == "beauty" and at.text_input(key="emb_an_a").value == "thou"
    at.radio(key="emb_source").set_value("Pride and Prejudice (bundled book)").run()
    assert at.slider(key="emb_min_count").value == 5 and metrics(at)["Vocabulary"] == "2,062"
    assert at.selectbox(key="emb_find").value == "he" and at.text_input(key="emb_an_a").value == "his"


def test_ngram_on_the_book_reads_its_first_200k_characters(clear_streamlit_caches):
    settings = {"emb_model": NGRAM, "emb_source": "Pride and Prejudice (bundled book)", "emb_epochs": 10,
                "emb_batch": 128, "emb_dim": 2, "emb_hidden": 16}
    at = open_page(PAGE, settings=settings)
    assert not page_errors(at), page_errors(at)
    assert any("first 199,411 characters" in i.value for i in at.info)
    assert metrics(at)["Words in the text"] == "35,518" and metrics(at)["Vocabulary"] == "1,000"
    said = [md.value for md in at.markdown if "the model says" in md.value]
    assert said and "said mr" in said[0]  # the next-word tab works on the book too
