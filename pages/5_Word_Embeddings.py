"""Word embeddings (tutorial 5.4): an N-gram language model trained on a sonnet or your own text,
and the word vectors it learns, projected, compared and moving over the epochs."""

import itertools

import numpy as np
import streamlit as st

from core import embeddings as emb
from core.training import OPTIMIZERS
from ui.charts_embeddings import word_figure
from ui.frame import page_frame, show_error
from ui.jobs import result_or_stop, retrain_button, train_live
from ui.panels_embeddings import analogy_tab, corpus_text, epochs_panel, loss_tab, next_word_tab, word_map_tab

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


def controls() -> tuple[emb.Config, tuple[str, emb.CorpusError] | None]:
    """The Config, and an unreadable upload (name, error) to report in the main area, if any."""
    with st.sidebar:
        text, problem = corpus_text()
        st.subheader("Model")
        context = st.slider("Context size (words read)", 1, 4, 2, key="emb_context")
        dim = st.slider("Embedding dimension", 2, 64, 10, key="emb_dim")
        hidden = st.select_slider("Hidden width", [16, 32, 64, 128, 256], 128, key="emb_hidden")
        st.subheader("Training")
        epochs = st.slider("Epochs", 10, 300, 100, 10, key="emb_epochs")
        optimizer = st.selectbox("Optimizer", OPTIMIZERS, OPTIMIZERS.index("Adam"), key="emb_optimizer",
                                 help="The tutorial used plain SGD, one trigram per step.")
        lr = st.select_slider("Learning rate", [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0], 0.01, key="emb_lr")
        batch = st.select_slider("Batch size (n-grams per step)", [1, 4, 8, 16, 32, 64, 128], 32, key="emb_batch")
        lowercase = st.checkbox("Ignore case", True, key="emb_lowercase")
        seed = int(st.number_input("Seed", 0, 9999, 0, key="emb_seed"))
    cfg = emb.Config(text=text, lowercase=lowercase, context_size=context, embedding_dim=dim,
                     hidden=hidden, epochs=epochs, optimizer=optimizer, lr=lr, batch_size=batch, seed=seed)
    return cfg, problem


cfg, problem = controls()
if problem is not None:
    name, exc = problem
    show_error(exc, f"{name} cannot be read", icon=":material/description:")
    st.stop()
try:
    corpus = emb.prepare_corpus(cfg)
except emb.CorpusError as exc:
    show_error(exc, "This text cannot be used", icon=":material/edit_note:")
    st.stop()


_draws = itertools.count()  # train_live may redraw the same preview twice: keys must differ


def live_preview(latest: dict) -> None:
    xy = latest.get("embedding_2d")
    if isinstance(xy, np.ndarray) and len(xy) == len(corpus.vocab):
        st.plotly_chart(word_figure(xy, corpus.vocab, corpus.counts), width="stretch",
                        key=f"emb_live_map_{next(_draws)}")
        st.caption("The vectors right now (PCA of this epoch; axes may turn between frames).")


steps = -(-(len(corpus.tokens) - cfg.context_size) // cfg.batch_size) * cfg.epochs
if steps > 20_000:
    st.info(f"A long text: {steps:,} optimizer steps ({cfg.epochs} epochs × "
            f"{len(corpus.tokens) - cfg.context_size:,} n-grams / batch {cfg.batch_size}). Training may take "
            "minutes on a CPU: fewer epochs or a bigger batch is quicker, and **Stop** keeps what was learnt.",
            icon=":material/hourglass_top:")
job = train_live(emb, cfg, label="Training the N-gram model", chart_keys=("loss",),
                 render_preview=live_preview, key="emb")
model, history = result_or_stop(job), job.history
with st.sidebar:
    retrain_button(emb, cfg, key="emb_retrain")

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
    found, neighbours = word_map_tab(model, cfg, corpus)
with tab_epochs:
    epochs_panel(model, found, tuple(neighbours["word"]))
with tab_next:
    next_word_tab(model, cfg, corpus)
with tab_analogy:
    analogy_tab(model)
with tab_loss:
    loss_tab(history, job.source, job.seconds)
