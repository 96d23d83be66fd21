"""Widget groups and panels of the word-embeddings page: the text to learn from, and the five tabs
that explore a trained model's word vectors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core import embeddings as emb
from core.projection import project
from core.training import history_frame
from ui.charts_embeddings import epoch_figure, loss_with_tutorial_figure, next_word_figure, word_figure
from ui.jobs import model_id

SOURCES = ("Sonnet 2 (tutorial)", "Paste text", "Upload a .txt file")


def corpus_text() -> tuple[str | None, tuple[str, emb.CorpusError] | None]:
    """(the text, None = the sonnet; an unreadable upload as (file name, error), else None)."""
    source = st.radio("Text to learn from", SOURCES, key="emb_source")
    if source == SOURCES[1]:
        text = st.text_area("Your text", emb.sonnet_text(), height=180, key="emb_corpus_text",
                            max_chars=emb.MAX_TEXT_CHARS)
        return (None if text == emb.sonnet_text() else text), None
    if source == SOURCES[2]:
        upload = st.file_uploader("UTF-8 plain text", type=["txt"], key="emb_corpus_file")
        if upload is not None:
            try:
                return emb.decode_upload(upload.getvalue()), None
            except emb.CorpusError as exc:
                return None, (upload.name, exc)
        st.info("No file yet: showing the sonnet.")
    return None, None


@st.cache_data(show_spinner="Projecting the vectors…", max_entries=32)
def word_coords(_model, model: str, seed: int, method: str, dims: int) -> np.ndarray:
    return project(emb.vectors(_model), method, dims, seed)


def word_map_tab(model, cfg: emb.Config, corpus) -> tuple[str, pd.DataFrame]:
    """The projected word map and a word's nearest neighbours; returns (the word, its neighbours)."""
    c1, c2, c3, c4 = st.columns([1, 1, 2, 1])
    method = c1.radio("Projection", ["PCA", "t-SNE"], key="emb_method", horizontal=True,
                      disabled=cfg.embedding_dim <= 2)
    dims = 3 if c2.radio("View", ["2-D", "3-D"], key="emb_view", horizontal=True) == "3-D" else 2
    default = corpus.vocab.index("beauty") if "beauty" in corpus.vocab else 0
    found = c3.selectbox("Find a word", corpus.vocab, default, key="emb_find")
    k = int(c4.number_input("Neighbours", 1, 30, 8, key="emb_k"))
    table = emb.nearest_neighbours(model, found, k)
    left, right = st.columns([5, 2])
    xyz = word_coords(model, model_id(model), cfg.seed, method, dims)
    left.plotly_chart(word_figure(xyz, corpus.vocab, corpus.counts, found, set(table["word"])),
                      width="stretch", key="emb_word_map")
    how = ("the raw vectors (no projection needed)" if cfg.embedding_dim <= dims else
           f"{method} from {cfg.embedding_dim} dimensions")
    left.caption(f"Each point is a word, sized by how often it occurs; axes are {how}. Red: the word "
                 "you found; amber: its nearest neighbours, measured in the full space (a 2-D/3-D "
                 "projection can put close words apart, so trust the table). Drag to pan or rotate.")
    right.markdown(f"**Nearest to '{found}'**")
    right.dataframe(table, hide_index=True, key="emb_neighbours",
                    column_config={"cosine similarity": st.column_config.NumberColumn(format="%.3f")})
    right.caption("Cosine similarity: 1 = same direction, 0 = unrelated, −1 = opposite.")
    return found, table


@st.fragment
def epochs_panel(model, found: str, neighbours: tuple[str, ...]) -> None:
    epochs, coords = emb.snapshot_projection(model, 2)  # (S,), (S, V, 2) in one fixed PCA basis
    epochs = [int(e) for e in epochs]
    if len(epochs) < 2:
        st.info("Only one snapshot was recorded (training stopped at once).")
        return
    epoch = st.select_slider("Epoch", epochs, epochs[-1], key="emb_epoch")
    fig = epoch_figure(coords, epochs.index(epoch), model.vocab, model.counts, found, neighbours)
    st.plotly_chart(fig, width="stretch", key="emb_epoch_chart")
    st.caption(f"Epoch {epoch}. One PCA basis fitted on all snapshots together, so what moves is the "
               "word, not the axes (the dotted line: the found word's path). Epoch 0 is the random "
               "start; most of the movement happens early, while the loss falls fastest. In one "
               "sonnet few words share contexts, so do not expect clear clusters: paste a few pages "
               "of prose to see words like the/a or he/she drift together.")


def next_word_tab(model, cfg: emb.Config, corpus) -> None:
    typed = st.text_input(f"Type at least {cfg.context_size} word(s)", "so gazed", key="emb_context_text")
    try:
        pred = emb.predict_next(model, typed, k=8)
    except emb.VocabularyError as exc:
        st.warning(str(exc), icon=":material/search:")
        return
    seen = emb.continuations(corpus, pred.context)
    st.plotly_chart(next_word_figure(pred.table), width="stretch", key="emb_next_chart")
    best = pred.table.iloc[0]
    truth = ", ".join(f"'{w}' ({n}×)" for w, n in seen.most_common()) or "nothing: this context is new"
    st.markdown(f"After **{' '.join(pred.context)}** the model says **{best['word']}** "
                f"({best['probability']:.1%}). In the text it is followed by: {truth}.")
    st.caption("The model only sees the last "
               f"{cfg.context_size} word(s). On a text this small it memorises; for a new context "
               "it falls back on words whose vectors resemble the ones it knows.")


def analogy_tab(model) -> None:
    a1, a2, a3 = st.columns(3)
    a = a1.text_input("a", "thou", key="emb_an_a")
    b = a2.text_input("− b", "thy", key="emb_an_b")
    c = a3.text_input("+ c", "my", key="emb_an_c")
    try:
        st.dataframe(emb.analogy(model, a, b, c), hide_index=True, key="emb_analogy")
    except emb.VocabularyError as exc:
        st.warning(str(exc), icon=":material/search:")
    st.caption("Words nearest to vec(a) − vec(b) + vec(c). With word2vec on billions of words, "
               "king − man + woman ≈ queen; on one sonnet the vectors are too few and too noisy for "
               "that, so treat the answers as a game — then try a longer text.")


def loss_tab(history: list[dict], source: str, seconds: float) -> None:
    frame = history_frame(history)
    st.plotly_chart(loss_with_tutorial_figure(frame), width="stretch", key="emb_loss_chart")
    if "accuracy" in frame:
        st.line_chart(frame[["accuracy"]], height=200, x_label="epoch", y_label="next-word accuracy")
    st.caption(f"Mean training loss per epoch ({source}, {seconds:.1f} s). The tutorial's "
               "one-trigram-at-a-time SGD reached 0.062 after 100 epochs; mini-batches with Adam get "
               "there in about 10. Accuracy: the share of next words in the text guessed right. It "
               "cannot reach 100 % when the same context is followed by different words.")
