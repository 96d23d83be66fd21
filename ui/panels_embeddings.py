"""Widget groups and panels of the word-embeddings page: the model and the text to learn from, each
model's settings and metrics, and the five tabs that explore the word vectors. Both models (the
tutorial's N-gram LM in core.embeddings, skip-gram in core.word2vec) have the same face (vocab,
counts, embed, snapshots), so every tab serves both."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st
from threadpoolctl import threadpool_limits

from core import embeddings as emb, word2vec as w2v
from core.projection import project
from core.training import OPTIMIZERS, history_frame
from ui.charts import loss_curves
from ui.charts_embeddings import epoch_figure, loss_with_tutorial_figure, next_word_figure, word_figure
from ui.jobs import model_id

NGRAM, WORD2VEC = "N-gram language model (tutorial 5.4)", "word2vec (skip-gram, negative sampling)"
MODELS = (NGRAM, WORD2VEC)
SONNET, BOOK, PASTE, UPLOAD = "Sonnet 2 (tutorial)", "Pride and Prejudice (bundled book)", "Paste text", "Upload a .txt file"
SOURCES = (SONNET, BOOK, PASTE, UPLOAD)
# What a new text starts with: word2vec's minimum count (the sonnet's 115 words: 5 would leave 2
# words), the word to look up, the analogy and the next-word context to try.
MIN_COUNT = {SONNET: 1, BOOK: 5, PASTE: 2, UPLOAD: 5}
FIND = {SONNET: "beauty"}  # else "he"
ANALOGY = {SONNET: ("thou", "thy", "my")}  # else his - he + she (~ her, on the book)
CONTEXT = {SONNET: "so gazed"}  # else "said mr"
TUTORIAL = {"emb_model": NGRAM, "emb_source": SONNET, "emb_context": 2, "emb_dim": 10, "emb_hidden": 128,
            "emb_epochs": 100, "emb_optimizer": "SGD", "emb_lr": 0.01, "emb_batch": 1, "emb_lowercase": False}
MAP_WORDS = (100, 200, 500, 1000)  # a book's 2,000 words make one unreadable blob: map the most frequent


def text_changed() -> None:
    """A new text source: its own minimum count, word to find, analogy and context (a word that is
    not in the new vocabulary resets the selectbox to its first word)."""
    source = st.session_state.get("emb_source", BOOK)
    st.session_state.update({"emb_min_count": MIN_COUNT[source], "emb_find": FIND.get(source, "he"),
                             "emb_context_text": CONTEXT.get(source, "said mr")})
    st.session_state.update(zip(("emb_an_a", "emb_an_b", "emb_an_c"), ANALOGY.get(source, ("his", "he", "she"))))


def use_tutorial_settings() -> None:
    st.session_state.update(TUTORIAL)
    text_changed()


@dataclass(frozen=True)
class Text:
    source: str                   # one of SOURCES
    text: str | None              # None: the bundled sonnet or book
    note: str | None = None       # something the page should say about the text
    problem: tuple[str, emb.CorpusError] | None = None  # an unreadable upload: (file name, error)


def text_source(model: str) -> Text:
    """The text to learn from (sidebar widgets)."""
    source = st.radio("Text to learn from", SOURCES, SOURCES.index(BOOK), key="emb_source", on_change=text_changed)
    if source == BOOK and model == NGRAM:  # the N-gram's softmax over every step: a whole book is too slow
        book = w2v.book_text()
        cut = book.rfind("\n\n", 0, emb.MAX_TEXT_CHARS)
        return Text(source, book[:cut], note=(
            f"The N-gram model reads at most {emb.MAX_TEXT_CHARS:,} characters (it scores every word of the "
            f"vocabulary at every step), so it learns from the book's first {cut:,} characters, chapters "
            "1–20 of 61. word2vec reads the whole book in seconds."))
    if source == PASTE:
        text = st.text_area("Your text", emb.sonnet_text(), height=180, key="emb_corpus_text",
                            max_chars=w2v.MAX_TEXT_CHARS)
        return Text(source, None if text == emb.sonnet_text() else text)
    if source == UPLOAD:
        upload = st.file_uploader("UTF-8 plain text", type=["txt"], key="emb_corpus_file")
        if upload is None:
            return Text(source, None, note=f"No file yet: showing the {'book' if model == WORD2VEC else 'sonnet'}.")
        try:
            decode = w2v.decode_upload if model == WORD2VEC else emb.decode_upload
            return Text(source, decode(upload.getvalue()))
        except emb.CorpusError as exc:
            return Text(source, None, problem=(upload.name, exc))
    return Text(source, None)


def ngram_controls(text: Text) -> emb.Config:
    context = st.slider("Context size (words read)", 1, 4, 2, key="emb_context")
    dim = st.slider("Embedding dimension", 2, 64, 10, key="emb_dim")
    hidden = st.select_slider("Hidden width", [16, 32, 64, 128, 256], 128, key="emb_hidden")
    st.subheader("Training")
    epochs = st.slider("Epochs", 10, 300, 100, 10, key="emb_epochs")
    optimizer = st.selectbox("Optimizer", OPTIMIZERS, OPTIMIZERS.index("Adam"), key="emb_optimizer",
                             help="The tutorial used plain SGD, one trigram per step.")
    lr = st.select_slider("Learning rate", [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0], 0.01, key="emb_lr")
    batch = st.select_slider("Batch size (n-grams per step)", [1, 4, 8, 16, 32, 64, 128], 32, key="emb_batch")
    lowercase, seed = common_controls("emb_lowercase")
    return emb.Config(text=text.text, lowercase=lowercase, context_size=context, embedding_dim=dim,
                      hidden=hidden, epochs=epochs, optimizer=optimizer, lr=lr, batch_size=batch, seed=seed)


def word2vec_controls(text: Text) -> w2v.Config:
    dim = st.slider("Vector size (dimensions)", 2, 100, 50, key="emb_w2v_dim",
                    help="Numbers per word. More can hold more kinds of similarity but needs more text; "
                         "the papers use 100–300 on billions of words.")
    window = st.slider("Window (words either side)", 1, 10, 2, key="emb_window",
                       help="How far a neighbour may be. Small windows find words that can stand in for each "
                            "other (he/she, two/three); large ones find words about the same topic.")
    negatives = st.slider("Negative samples per pair", 1, 20, 5, key="emb_negatives",
                          help="Random words the centre word's vector is pushed away from at each step.")
    min_count = st.slider("Minimum count", 1, 20, MIN_COUNT[text.source], key="emb_min_count",
                          help="Rarer words are dropped: a word seen twice has a vector learnt from two contexts. "
                               "Reset for each text (1 for the sonnet, 5 for the book).")
    subsample = st.select_slider("Subsampling of frequent words", [0.0, 1e-5, 1e-4, 1e-3, 1e-2], 1e-3,
                                 key="emb_subsample", format_func=lambda t: "off" if t == 0 else f"{t:g}",
                                 help="Words making up more than this share of the text are skipped at random "
                                      "('the', 'of'), which leaves time for the informative pairs.")
    st.subheader("Training")
    epochs = st.slider("Epochs (passes over the text)", 1, 50, 5, key="emb_w2v_epochs",
                       help="word2vec's default is 5. A short text needs more passes.")
    lr = st.select_slider("Learning rate (Adam, decays to 0)", [0.003, 0.01, 0.02, 0.05, 0.1, 0.2], 0.05,
                          key="emb_w2v_lr")
    lowercase, seed = common_controls("emb_w2v_lowercase")  # its own: the tutorial keeps case for the N-gram
    corpus = {SONNET: "sonnet", BOOK: "book"}.get(text.source, "upload")
    if text.text is None and text.source in (PASTE, UPLOAD):  # the pre-filled sonnet, or no file yet
        corpus = "sonnet" if text.source == PASTE else "book"
    return w2v.Config(corpus=corpus, text=text.text if corpus == "upload" else None, lowercase=lowercase,
                      min_count=min_count, dim=dim, window=window, negatives=negatives, subsample=subsample,
                      epochs=epochs, lr=lr, seed=seed)


def common_controls(case_key: str) -> tuple[bool, int]:
    lowercase = st.checkbox("Ignore case", True, key=case_key, help="'When' and 'when' are one word.")
    return lowercase, int(st.number_input("Seed", 0, 9999, 0, key="emb_seed"))


def metrics_row(cfg, corpus, history: list[dict]) -> None:
    last = history[-1] if history else {}
    cols = st.columns(5)
    if isinstance(cfg, w2v.Config):
        cols[0].metric("Words in the text", f"{corpus.n_words:,}")
        cols[1].metric("Vocabulary", f"{len(corpus.vocab):,}",
                       help=f"Words seen at least {cfg.min_count} times, of {corpus.n_raw_words:,} different words.")
        cols[2].metric("Vectors", f"{len(corpus.vocab):,} × {cfg.dim}")
        cols[3].metric("Final loss", f"{last.get('loss', float('nan')):.4f}",
                       help=f"Negative-sampling loss per pair; {1 + cfg.negatives} × log 2 = "
                            f"{(1 + cfg.negatives) * np.log(2):.2f} at the start.")
        cols[4].metric("Training steps", f"{int(last.get('step', 0)):,}", help=f"Batches of {cfg.batch_size:,} pairs")
        if corpus.n_words < 30_000:
            st.caption(f"A short text for word2vec ({corpus.n_words:,} words): each word is seen in few places, "
                       "so expect noisy neighbours (more epochs help a little). The book's 120,000 words "
                       "give clear ones.")
        return
    cols[0].metric("Words in the text", f"{len(corpus.tokens):,}")
    cols[1].metric("Vocabulary", f"{len(corpus.vocab):,}",
                   help="Rarer words become <unk>." if corpus.n_raw_words > len(corpus.vocab) else None)
    cols[2].metric("Training n-grams", f"{len(corpus.tokens) - cfg.context_size:,}")
    cols[3].metric("Final loss", f"{last.get('loss', float('nan')):.4f}", help="Mean negative log-likelihood")
    cols[4].metric("Next-word accuracy", f"{last.get('accuracy', float('nan')):.1%}", help="On the training text")


@st.cache_data(show_spinner="Projecting the vectors…", max_entries=32)
def word_coords(_model, model: str, seed: int, method: str, dims: int, ids: tuple[int, ...]) -> np.ndarray:
    with threadpool_limits(1):  # an SVD on 2 BLAS threads of a busy 2-core machine is 4-30x slower
        return project(emb.vectors(_model)[list(ids)], method, dims, seed)


def word_map_tab(model, dim: int, seed: int, source: str) -> tuple[str, pd.DataFrame, tuple[int, ...]]:
    """The projected word map and a word's nearest neighbours; returns (the word, its neighbours,
    the vocabulary ids on the map)."""
    vocab = model.vocab
    c1, c2, c3, c4, c5 = st.columns([1.3, 1, 2, 1, 1.4])
    method = c1.radio("Projection", ["PCA", "t-SNE"], key="emb_method", horizontal=True, disabled=dim <= 2)
    dims = 3 if c2.radio("View", ["2-D", "3-D"], key="emb_view", horizontal=True) == "3-D" else 2
    preferred = FIND.get(source, "he")
    found = c3.selectbox("Find a word", vocab, vocab.index(preferred) if preferred in vocab else 0, key="emb_find")
    k = int(c4.number_input("Neighbours", 1, 30, 8, key="emb_k"))
    table = emb.nearest_neighbours(model, found, k)
    sizes = [n for n in MAP_WORDS if n < len(vocab)]
    top = len(vocab) if not sizes else c5.select_slider(
        "Words on the map", [*sizes, len(vocab)], sizes[min(1, len(sizes) - 1)], key="emb_map_words",
        help="The most frequent words (plus the found word and its neighbours). t-SNE of 1,000 words takes a while.")
    ids = tuple(sorted(set(range(top)) | {vocab.index(w) for w in (found, *table["word"])}))
    left, right = st.columns([2, 1])
    xyz = word_coords(model, model_id(model), seed, method, dims, ids)
    left.plotly_chart(word_figure(xyz, [vocab[i] for i in ids], model.counts[list(ids)], found, set(table["word"]),
                                  labels=150 if top <= 200 else 80), width="stretch", key="emb_word_map")
    how = "the raw vectors (no projection needed)" if dim <= dims else f"{method} from {dim} dimensions"
    some = f" (the {top:,} most frequent of {len(vocab):,})" if top < len(vocab) else ""
    left.caption(f"Each point is a word{some}, sized by how often it occurs; axes are {how}. Red: the word "
                 "you found; amber: its nearest neighbours, measured in the full space (a 2-D/3-D "
                 "projection can put close words apart, so trust the table). Drag to pan or rotate.")
    right.markdown(f"**Nearest to '{found}'**")
    right.dataframe(table, hide_index=True, key="emb_neighbours", column_config={
        "word": st.column_config.TextColumn(width=110), "count": st.column_config.NumberColumn(width=60),
        "cosine similarity": st.column_config.NumberColumn("cosine", format="%.3f", width=70)})
    right.caption("Cosine similarity: 1 = same direction, 0 = unrelated, −1 = opposite.")
    return found, table, ids


@st.fragment
def epochs_panel(model, found: str, neighbours: tuple[str, ...], ids: tuple[int, ...]) -> None:
    """The recorded snapshots on fixed axes, the words of the map (``ids``) that were recorded."""
    skipgram = isinstance(model, w2v.SkipGram)
    # (S,) epochs, (S, W, 2) coords in one fixed PCA basis (word2vec: its W most frequent words)
    with threadpool_limits(1):  # (see word_coords)
        epochs, coords = w2v.snapshot_coordinates(model, 2) if skipgram else emb.snapshot_projection(model, 2)
    if len(epochs) < 2:
        st.info("Only one snapshot was recorded (training stopped at once).")
        return
    shown = [i for i in ids if i < coords.shape[1]]  # (word2vec records its 1,000 most frequent words)
    coords, words, counts = coords[:, shown], [model.vocab[i] for i in shown], model.counts[shown]
    # the options are the epochs themselves (word2vec's are fractional: 2 decimals, each label once)
    index = {(round(float(e), 2) if skipgram else int(e)): i for i, e in reversed(list(enumerate(epochs)))}
    options = sorted(index)
    epoch = st.select_slider("Epoch", options, options[-1], key="emb_epoch", format_func=lambda e: f"{e:g}")
    s = index[epoch]
    st.plotly_chart(epoch_figure(coords, s, words, counts, found, neighbours), width="stretch", key="emb_epoch_chart")
    text = f"Epoch {epoch:g}" + (f" of {options[-1]:g}" if skipgram else "") + (
        f", the {len(words):,} words of the map" if len(words) < len(model.vocab) else "")
    st.caption(f"{text}. One PCA basis fitted on all snapshots together, so what moves is the word, not "
               "the axes (the dotted line: the found word's path). Epoch 0 is the random start; most of "
               "the movement happens early, while the loss falls fastest. " + (
                   "On a book, words that share neighbours (he/she, two/three) drift together."
                   if skipgram else "In one sonnet few words share contexts, so do not expect clear "
                   "clusters: try the book with word2vec to see words like he/she drift together."))


def next_word_tab(model, cfg, corpus, source: str) -> None:
    if isinstance(model, w2v.SkipGram):
        st.info("**Next-word prediction does not apply to word2vec.** It never learns to predict the next "
                "word: it only learns which words occur *near* each other, on either side, so it has no "
                "next-word probabilities to show. Choose the N-gram language model in the sidebar for this tab.",
                icon=":material/info:")
        return
    typed = st.text_input(f"Type at least {cfg.context_size} word(s)", CONTEXT.get(source, "said mr"),
                          key="emb_context_text")
    try:
        pred = emb.predict_next(model, typed, k=8)
    except emb.VocabularyError as exc:
        st.warning(str(exc), icon=":material/search:")
        return
    seen = emb.continuations(corpus, pred.context)
    st.plotly_chart(next_word_figure(pred.table), width="stretch", key="emb_next_chart")
    best = pred.table.iloc[0]
    truth = ", ".join(f"'{w}' ({n}×)" for w, n in seen.most_common(10)) or "nothing: this context is new"
    st.markdown(f"After **{' '.join(pred.context)}** the model says **{best['word']}** "
                f"({best['probability']:.1%}). In the text it is followed by: {truth}.")
    st.caption("The model only sees the last "
               f"{cfg.context_size} word(s). On a text this small it memorises; for a new context "
               "it falls back on words whose vectors resemble the ones it knows.")


def analogy_tab(model, source: str) -> None:
    a0, b0, c0 = ANALOGY.get(source, ("his", "he", "she"))
    a1, a2, a3 = st.columns(3)
    a = a1.text_input("a", a0, key="emb_an_a")
    b = a2.text_input("− b", b0, key="emb_an_b")
    c = a3.text_input("+ c", c0, key="emb_an_c")
    try:
        st.dataframe(emb.analogy(model, a, b, c), hide_index=True, key="emb_analogy")
    except emb.VocabularyError as exc:
        st.warning(str(exc), icon=":material/search:")
    st.caption("Words nearest to vec(a) − vec(b) + vec(c). With word2vec on billions of words, "
               "king − man + woman ≈ queen. On one book, word2vec gets his − he + she ≈ her and "
               "three − two + four ≈ five; on one sonnet the vectors are too few and too noisy for "
               "that, so treat the answers as a game.")


def loss_tab(history: list[dict], source: str, seconds: float) -> None:
    frame = history_frame(history)
    source = f"trained in {seconds:.1f} s" if source == "trained" else f"{source} checkpoint, loaded in {seconds:.1f} s"
    if "epoch" in frame:  # word2vec: a loss that cannot reach 0, so no tutorial line and no log scale
        st.plotly_chart(loss_curves(frame.set_index("epoch"), {"loss": "training loss"}, log_y=False,
                                    title="Negative-sampling loss"), width="stretch", key="emb_loss_chart")
        st.caption(f"Mean loss per reported stretch of steps ({source}). It starts at "
                   "(1 + K) log 2, where every score is 0, and stays well above 0: a word has many different "
                   "neighbours, and the negatives are random. What counts is where the vectors end up.")
        return
    st.plotly_chart(loss_with_tutorial_figure(frame), width="stretch", key="emb_loss_chart")
    if "accuracy" in frame:
        st.line_chart(frame[["accuracy"]], height=200, x_label="epoch", y_label="next-word accuracy")
    st.caption(f"Mean training loss per epoch ({source}). The tutorial's "
               "one-trigram-at-a-time SGD reached 0.062 after 100 epochs; mini-batches with Adam get "
               "there in about 10. Accuracy: the share of next words in the text guessed right. It "
               "cannot reach 100 % when the same context is followed by different words.")
