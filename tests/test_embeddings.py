"""core.embeddings: the tutorial's N-gram model on the sonnet, tokenisation, neighbours, snapshots."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from core import embeddings as emb
from core.checkpoints import load_or_train
from core.projection import project


@pytest.fixture(scope="module")
def trained():
    """The page's default settings: the sonnet, context 2, dimension 10, 100 epochs."""
    return emb.train(emb.Config())


# --- the tutorial's result ---------------------------------------------------------------------------

def test_default_model_learns_the_sonnet(trained):
    model, history = trained
    assert history[-1]["loss"] < 0.1, history[-1]
    assert history[-1]["loss"] < history[0]["loss"] / 10
    assert history[-1]["accuracy"] > 0.9
    pred = emb.predict_next(model, "so gazed")
    assert pred.context == ("so", "gazed")
    assert pred.table["word"].iloc[0] == "on"
    assert pred.table["probability"].iloc[0] > 0.5
    assert np.all(np.diff(pred.table["probability"]) <= 0)


def test_history_is_floats_with_steps(trained):
    _, history = trained
    assert [r["step"] for r in history] == [float(s) for s in range(1, 101)]
    assert all(isinstance(v, float) for r in history for v in r.values())


def test_sonnet_asset_matches_the_tutorial():
    words = emb.sonnet_text().split()
    assert len(words) == 115  # the tutorial's whitespace split: 113 trigrams
    assert words[:4] == ["When", "forty", "winters", "shall"] and words[-1] == "cold."
    assert (words[19], words[20], words[21]) == ("so", "gazed", "on")  # the tutorial's trigram[19]


# --- tokenisation and bad text ---------------------------------------------------------------------

def test_tokenize_punctuation_case_and_unicode():
    assert emb.tokenize("Thy youth's proud livery, so gazed on now!") == \
        ["thy", "youth's", "proud", "livery", "so", "gazed", "on", "now"]
    assert emb.tokenize("'This fair child", lowercase=False) == ["This", "fair", "child"]
    assert emb.tokenize("Don\u2019t — all-eating; x_y") == ["don't", "all-eating", "x", "y"]
    # NFC: a decomposed "é" is one word; Devanagari vowel signs stay inside words; Han per character
    assert emb.tokenize("cafe\u0301 Naïve") == ["café", "naïve"]
    assert emb.tokenize("नमस्ते दुनिया") == ["नमस्ते", "दुनिया"]
    assert emb.tokenize("我爱北京") == ["我", "爱", "北", "京"]
    assert emb.tokenize("Привет, Мир") == ["привет", "мир"]


@pytest.mark.parametrize("text, fragment", [
    ("", "empty"),
    ("   \n\t ", "empty"),
    ("!!! ... ???", "No words"),
    ("hello hello hello hello hello hello hello hello hello", "only 1 different word"),
    ("the cat sat", "too short"),
    ("word " * 50_000, "limit"),
])
def test_unusable_text_raises_a_clear_error(text, fragment):
    with pytest.raises(emb.CorpusError, match=fragment):
        emb.prepare_corpus(emb.Config(text=text))


def test_decode_upload():
    assert emb.decode_upload("Grüße aus Köln".encode()) == "Grüße aus Köln"
    assert emb.decode_upload(b"\xef\xbb\xbfbom text") == "bom text"
    with pytest.raises(emb.CorpusError, match="not UTF-8"):
        emb.decode_upload("café".encode("latin-1"))
    with pytest.raises(emb.CorpusError, match="empty"):
        emb.decode_upload(b"")
    with pytest.raises(emb.CorpusError, match="limit"):
        emb.decode_upload(b"a" * 100, max_bytes=10)


def test_vocabulary_cap_maps_rare_words_to_unk():
    corpus = emb.prepare_corpus(emb.Config(max_vocab=20))
    assert len(corpus.vocab) == 20 and emb.UNK in corpus.vocab
    assert corpus.n_raw_words == 86
    assert corpus.counts.sum() == len(corpus.tokens) == 115
    assert list(corpus.counts) == sorted(corpus.counts, reverse=True)


def test_ngrams_pair_context_with_next_word():
    corpus = emb.prepare_corpus(emb.Config())
    x, y = emb.ngrams(corpus, 3)
    assert x.shape == (112, 3) and y.shape == (112,)
    words = [corpus.vocab[i] for i in x[18].tolist()] + [corpus.vocab[int(y[18])]]
    assert words == ["livery", "so", "gazed", "on"]


# --- the page's helpers --------------------------------------------------------------------------------

def test_nearest_neighbours_exclude_the_word_and_are_sorted(trained):
    model, _ = trained
    table = emb.nearest_neighbours(model, "thy", k=10)
    assert len(table) == 10 and "thy" not in set(table["word"])
    sims = table["cosine similarity"].to_numpy()
    assert np.all(np.diff(sims) <= 0)
    vec = emb.vectors(model)
    cos = lambda a, b: a @ b / np.linalg.norm(a) / np.linalg.norm(b)  # noqa: E731
    me = vec[model.vocab.index("thy")]
    expected = sorted((cos(me, vec[i]), w) for i, w in enumerate(model.vocab) if w != "thy")[-1]
    assert table["word"].iloc[0] == expected[1] and sims[0] == pytest.approx(expected[0], abs=1e-5)
    # case and punctuation of the query are normalised like the corpus
    assert emb.nearest_neighbours(model, "  Thy, ", k=3)["word"].tolist() == table["word"].head(3).tolist()


def test_unknown_words_and_short_contexts_explain_themselves(trained):
    model, _ = trained
    with pytest.raises(emb.VocabularyError, match="Did you mean 'beauty'"):
        emb.nearest_neighbours(model, "beautyy")
    with pytest.raises(emb.VocabularyError, match="at least 2"):
        emb.predict_next(model, "gazed")
    # longer contexts: only the last context_size words count
    assert emb.predict_next(model, "livery so gazed").context == ("so", "gazed")


def test_analogy_excludes_its_inputs(trained):
    model, _ = trained
    table = emb.analogy(model, "thou", "thy", "my", k=5)
    assert len(table) == 5 and not {"thou", "thy", "my"} & set(table["word"])
    assert np.all(np.diff(table["cosine similarity"]) <= 0)


def test_projection_methods_and_shapes(trained):
    model, _ = trained
    vec = emb.vectors(model)  # (86, 10)
    for method, dims in (("PCA", 2), ("PCA", 3), ("t-SNE", 2)):
        out = project(vec, method, dims)
        assert out.shape == (86, dims) and np.isfinite(out).all()
    # PCA keeps the largest spread on the first axis
    pca = project(vec, "PCA", 3)
    assert pca[:, 0].var() >= pca[:, 1].var() >= pca[:, 2].var()
    raw = np.random.default_rng(0).normal(size=(5, 2))
    np.testing.assert_allclose(project(raw, "t-SNE", 3)[:, :2], raw)  # D <= dims: raw axes kept
    with pytest.raises(ValueError):
        project(vec, "UMAP", 2)


def test_snapshots_record_training_in_one_basis(trained):
    model, _ = trained
    epochs, coords = emb.snapshot_projection(model, 2)
    assert epochs[0] == 0 and epochs[-1] == 100 and len(epochs) == 21
    assert coords.shape == (21, 86, 2)
    torch.testing.assert_close(model.snapshots[-1], model.embed.weight)
    moved = np.linalg.norm(coords[-1] - coords[0], axis=1)
    assert moved.mean() > 0.1  # the words really move


def test_embedding_dim_changes_the_model():
    small, _ = emb.train(emb.Config.tiny())
    wider, _ = emb.train(dataclasses.replace(emb.Config.tiny(), embedding_dim=6))
    assert emb.vectors(small).shape == (86, 4) and emb.vectors(wider).shape == (86, 6)


def test_disk_cache_round_trip_keeps_vocab_and_snapshots():
    cfg = emb.Config.tiny()
    first, hist1, _ = load_or_train(cfg, emb.build_model, emb.train)
    again, hist2, source = load_or_train(cfg, emb.build_model, emb.train)
    assert source == "disk cache" and hist1 == hist2
    assert again.vocab == first.vocab
    torch.testing.assert_close(again.snapshots, first.snapshots)
    assert emb.predict_next(again, "so gazed").table.equals(emb.predict_next(first, "so gazed").table)


def test_same_seed_same_model_and_stop_keeps_partial_snapshots():
    a, _ = emb.train(emb.Config.tiny())
    b, _ = emb.train(emb.Config.tiny())
    torch.testing.assert_close(a.embed.weight, b.embed.weight)
    stopped, history = emb.train(emb.Config.tiny(), on_step=lambda step, m: step >= 3)
    assert len(history) == 3
    assert emb.snapshot_projection(stopped)[0].max() <= 3
