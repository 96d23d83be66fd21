"""Word embeddings (tutorial 5.4): an N-gram language model trained on a sonnet or your own text,
and the word vectors it learns, projected, compared and moving over the epochs."""

import itertools

import numpy as np
import streamlit as st

from core import embeddings as emb
from core.projection import project
from core.training import OPTIMIZERS, history_frame
from ui.charts_embeddings import epoch_figure, loss_with_tutorial_figure, next_word_figure, word_figure
from ui.frame import page_frame
from ui.jobs import retrain_button, train_live

page_frame(
    "Word Embeddings",
    intro=("A language model that guesses the **next word** from the few words before it has to turn "
           "each word into a vector first: a row of an embedding table, learnt like any other weight. "
           "Nobody tells it what words mean, yet words used in similar places end up with similar "
           "vectors. Train it on Shakespeare's Sonnet 2 (as the tutorial does) or your own text, then "
           "explore the vectors."),
    formula=(r"P(w_t \mid w_{t-n},\dots,w_{t-1}) = \operatorname{softmax}\big(W_2\,"
             r"\mathrm{ReLU}(W_1\,[e_{w_{t-n}};\dots;e_{w_{t-1}}] + b_1) + b_2\big)"),
)
SOURCES = ("Sonnet 2 (tutorial)", "Paste text", "Upload a .txt file")


problems: list[str] = []  # an unreadable upload, reported in the main area after the controls


def corpus_text() -> str | None:
    """None = the sonnet."""
    source = st.radio("Text to learn from", SOURCES, key="source")
    if source == SOURCES[1]:
        text = st.text_area("Your text", emb.sonnet_text(), height=180, key="corpus_text",
                            max_chars=emb.MAX_TEXT_CHARS)
        return None if text == emb.sonnet_text() else text
    if source == SOURCES[2]:
        upload = st.file_uploader("UTF-8 plain text", type=["txt"], key="corpus_file")
        if upload is not None:
            try:
                return emb.decode_upload(upload.getvalue())
            except emb.CorpusError as exc:
                problems.append(f"**{upload.name} cannot be read.** {exc}")
                return None
        st.info("No file yet: showing the sonnet.")
    return None


def controls() -> emb.Config:
    with st.sidebar:
        text = corpus_text()
        st.subheader("Model")
        context = st.slider("Context size (words read)", 1, 4, 2, key="context")
        dim = st.slider("Embedding dimension", 2, 64, 10, key="dim")
        hidden = st.select_slider("Hidden width", [16, 32, 64, 128, 256], 128, key="hidden")
        st.subheader("Training")
        epochs = st.slider("Epochs", 10, 300, 100, 10, key="epochs")
        optimizer = st.selectbox("Optimizer", OPTIMIZERS, OPTIMIZERS.index("Adam"), key="optimizer",
                                 help="The tutorial used plain SGD, one trigram per step.")
        lr = st.select_slider("Learning rate", [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0], 0.01, key="lr")
        batch = st.select_slider("Batch size (n-grams per step)", [1, 4, 8, 16, 32, 64, 128], 32, key="batch")
        lowercase = st.checkbox("Ignore case", True, key="lowercase")
        seed = int(st.number_input("Seed", 0, 9999, 0, key="seed"))
    return emb.Config(text=text, lowercase=lowercase, context_size=context, embedding_dim=dim,
                      hidden=hidden, epochs=epochs, optimizer=optimizer, lr=lr, batch_size=batch, seed=seed)


@st.cache_data(show_spinner="Projecting the vectors…", max_entries=32)
def word_coords(_model, cfg: emb.Config, stamp: float, method: str, dims: int) -> np.ndarray:
    return project(emb.vectors(_model), method, dims, cfg.seed)


@st.fragment
def epochs_panel(model, found: str, neighbours: tuple[str, ...]) -> None:
    epochs, coords = emb.snapshot_projection(model, 2)  # (S,), (S, V, 2) in one fixed PCA basis
    epochs = [int(e) for e in epochs]
    if len(epochs) < 2:
        st.info("Only one snapshot was recorded (training stopped at once).")
        return
    epoch = st.select_slider("Epoch", epochs, epochs[-1], key="epoch")
    fig = epoch_figure(coords, epochs.index(epoch), model.vocab, model.counts, found, neighbours)
    st.plotly_chart(fig, width="stretch", key="epoch_chart")
    st.caption(f"Epoch {epoch}. One PCA basis fitted on all snapshots together, so what moves is the "
               "word, not the axes (the dotted line: the found word's path). Epoch 0 is the random "
               "start; most of the movement happens early, while the loss falls fastest. In one "
               "sonnet few words share contexts, so do not expect clear clusters: paste a few pages "
               "of prose to see words like the/a or he/she drift together.")


cfg = controls()
if problems:
    st.error(problems[0], icon=":material/description:")
    st.stop()
try:
    corpus = emb.prepare_corpus(cfg)
except emb.CorpusError as exc:
    st.error(f"**This text cannot be used.** {exc}", icon=":material/edit_note:")
    st.stop()


_draws = itertools.count()  # train_live may redraw the same preview twice: keys must differ


def live_preview(latest: dict) -> None:
    xy = latest.get("embedding_2d")
    if isinstance(xy, np.ndarray) and len(xy) == len(corpus.vocab):
        st.plotly_chart(word_figure(xy, corpus.vocab, corpus.counts), width="stretch",
                        key=f"live_map_{next(_draws)}")
        st.caption("The vectors right now (PCA of this epoch; axes may turn between frames).")


steps = -(-(len(corpus.tokens) - cfg.context_size) // cfg.batch_size) * cfg.epochs
if steps > 20_000:
    st.info(f"A long text: {steps:,} optimizer steps ({cfg.epochs} epochs × "
            f"{len(corpus.tokens) - cfg.context_size:,} n-grams / batch {cfg.batch_size}). Training may take "
            "minutes on a CPU: fewer epochs or a bigger batch is quicker, and **Stop** keeps what was learnt.",
            icon=":material/hourglass_top:")
job = train_live(emb, cfg, label="Training the N-gram model", chart_keys=("loss",),
                 render_preview=live_preview)
if job.error is not None or job.model is None:
    st.stop()
model, history = job.model, job.history
with st.sidebar:
    retrain_button(emb, cfg)

last = history[-1] if history else {}
cols = st.columns(5)
cols[0].metric("Words in the text", f"{len(corpus.tokens):,}")
cols[1].metric("Vocabulary", f"{len(corpus.vocab):,}",
               help="Rarer words become <unk>." if corpus.n_raw_words > len(corpus.vocab) else None)
cols[2].metric("Training n-grams", f"{len(corpus.tokens) - cfg.context_size:,}")
cols[3].metric("Final loss", f"{last.get('loss', float('nan')):.4f}", help="Mean negative log-likelihood")
cols[4].metric("Next-word accuracy", f"{last.get('accuracy', float('nan')):.1%}", help="On the training text")

tab_map, tab_epochs, tab_next, tab_analogy, tab_loss = st.tabs(
    [":material/scatter_plot: Word map", ":material/animation: Across epochs",
     ":material/keyboard_tab: Next word", ":material/calculate: Analogy", ":material/show_chart: Loss curve"])

with tab_map:
    c1, c2, c3, c4 = st.columns([1, 1, 2, 1])
    method = c1.radio("Projection", ["PCA", "t-SNE"], key="method", horizontal=True,
                      disabled=cfg.embedding_dim <= 2)
    dims = 3 if c2.radio("View", ["2-D", "3-D"], key="view", horizontal=True) == "3-D" else 2
    default = corpus.vocab.index("beauty") if "beauty" in corpus.vocab else 0
    found = c3.selectbox("Find a word", corpus.vocab, default, key="find")
    k = int(c4.number_input("Neighbours", 1, 30, 8, key="k"))
    table = emb.nearest_neighbours(model, found, k)
    left, right = st.columns([5, 2])
    xyz = word_coords(model, cfg, job.started, method, dims)
    left.plotly_chart(word_figure(xyz, corpus.vocab, corpus.counts, found, set(table["word"])),
                      width="stretch", key="word_map")
    how = ("the raw vectors (no projection needed)" if cfg.embedding_dim <= dims else
           f"{method} from {cfg.embedding_dim} dimensions")
    left.caption(f"Each point is a word, sized by how often it occurs; axes are {how}. Red: the word "
                 "you found; amber: its nearest neighbours, measured in the full space (a 2-D/3-D "
                 "projection can put close words apart, so trust the table). Drag to pan or rotate.")
    right.markdown(f"**Nearest to '{found}'**")
    right.dataframe(table, hide_index=True, key="neighbours",
                    column_config={"cosine similarity": st.column_config.NumberColumn(format="%.3f")})
    right.caption("Cosine similarity: 1 = same direction, 0 = unrelated, −1 = opposite.")

with tab_epochs:
    epochs_panel(model, found, tuple(table["word"]))

with tab_next:
    typed = st.text_input(f"Type at least {cfg.context_size} word(s)", "so gazed", key="context_text")
    try:
        pred = emb.predict_next(model, typed, k=8)
    except emb.VocabularyError as exc:
        st.warning(str(exc), icon=":material/search:")
    else:
        seen = emb.continuations(corpus, pred.context)
        st.plotly_chart(next_word_figure(pred.table), width="stretch", key="next_chart")
        best = pred.table.iloc[0]
        truth = ", ".join(f"'{w}' ({n}×)" for w, n in seen.most_common()) or "nothing: this context is new"
        st.markdown(f"After **{' '.join(pred.context)}** the model says **{best['word']}** "
                    f"({best['probability']:.1%}). In the text it is followed by: {truth}.")
        st.caption("The model only sees the last "
                   f"{cfg.context_size} word(s). On a text this small it memorises; for a new context "
                   "it falls back on words whose vectors resemble the ones it knows.")

with tab_analogy:
    a1, a2, a3 = st.columns(3)
    a = a1.text_input("a", "thou", key="an_a")
    b = a2.text_input("− b", "thy", key="an_b")
    c = a3.text_input("+ c", "my", key="an_c")
    try:
        st.dataframe(emb.analogy(model, a, b, c), hide_index=True, key="analogy")
    except emb.VocabularyError as exc:
        st.warning(str(exc), icon=":material/search:")
    st.caption("Words nearest to vec(a) − vec(b) + vec(c). With word2vec on billions of words, "
               "king − man + woman ≈ queen; on one sonnet the vectors are too few and too noisy for "
               "that, so treat the answers as a game — then try a longer text.")

with tab_loss:
    frame = history_frame(history)
    st.plotly_chart(loss_with_tutorial_figure(frame), width="stretch", key="loss_chart")
    if "accuracy" in frame:
        st.line_chart(frame[["accuracy"]], height=200, x_label="epoch", y_label="next-word accuracy")
    st.caption(f"Mean training loss per epoch ({job.source}, {job.seconds:.1f} s). The tutorial's "
               "one-trigram-at-a-time SGD reached 0.062 after 100 epochs; mini-batches with Adam get "
               "there in about 10. Accuracy: the share of next words in the text guessed right. It "
               "cannot reach 100 % when the same context is followed by different words.")
