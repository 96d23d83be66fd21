"""Word embeddings (tutorial 5.4): the tutorial's N-gram language model or word2vec (skip-gram with
negative sampling), trained on a sonnet, a whole novel or your own text, and the word vectors they
learn, projected, compared and moving over the epochs."""

import itertools

import numpy as np
import streamlit as st

from core import embeddings as emb, word2vec as w2v
from ui import panels_embeddings as panels
from ui.charts_embeddings import word_figure
from ui.frame import page_frame, show_error
from ui.jobs import result_or_stop, retrain_button, train_live

page_frame(
    "Word Embeddings",
    intro=("Nobody tells a network what words mean, yet it can learn a vector for each word (a row of an "
           "embedding table, learnt like any other weight) in which words used in similar places end up "
           "close. The tutorial's **N-gram language model** learns them on the way to guessing the next "
           "word from the few before it. **word2vec** learns nothing else: for every word it pulls the "
           "vectors of the words around it closer and pushes a few random words away. One sonnet is too "
           "little text for that to show; on a whole novel it does: *he* lands next to *she*, *two* next "
           "to *three*, *said* next to *replied*."),
)
FORMULAS = {
    emb: r"P(w_t \mid w_{t-n},\dots,w_{t-1}) = \operatorname{softmax}\big(W_2\,"
         r"\mathrm{ReLU}(W_1\,[e_{w_{t-n}};\dots;e_{w_{t-1}}] + b_1) + b_2\big)",
    w2v: r"\mathcal{L}(w, c) = -\log\sigma(u_c^{\top} v_w) - \sum_{k=1}^{K} \log\sigma(-u_{n_k}^{\top} v_w),"
         r"\qquad n_k \sim P(w)^{3/4}",
}


def controls():
    """The model's Config and the text it learns from (sidebar)."""
    with st.sidebar:
        st.button("Use the tutorial's settings", key="emb_tutorial", on_click=panels.use_tutorial_settings,
                  help="The N-gram model on Sonnet 2, as in the tutorial: context 2, 10 dimensions, hidden 128, "
                       "100 epochs of plain SGD (lr 0.01), one trigram per step, case kept.")
        model = st.radio("Model", panels.MODELS, panels.MODELS.index(panels.WORD2VEC), key="emb_model",
                         help="word2vec is built to learn word vectors and reads a whole book in seconds; "
                              "the N-gram model is the tutorial's and can also predict the next word.")
        text = panels.text_source(model)
        st.subheader("Model")
        cfg = panels.word2vec_controls(text) if model == panels.WORD2VEC else panels.ngram_controls(text)
    return cfg, text


cfg, text = controls()
topic = w2v if isinstance(cfg, w2v.Config) else emb
st.latex(FORMULAS[topic])
if text.problem is not None:
    name, exc = text.problem
    show_error(exc, f"{name} cannot be read", icon=":material/description:")
    st.stop()
if text.note:
    st.info(text.note, icon=":material/menu_book:")
try:
    corpus = topic.prepare_corpus(cfg)
except emb.CorpusError as exc:
    show_error(exc, "This text cannot be used", icon=":material/edit_note:")
    st.stop()


_draws = itertools.count()  # train_live may redraw the same preview twice: keys must differ


def live_preview(latest: dict) -> None:
    xy = latest.get("embedding_2d")
    if isinstance(xy, np.ndarray) and len(xy) == len(corpus.vocab):
        st.plotly_chart(word_figure(xy, corpus.vocab, corpus.counts), width="stretch",
                        key=f"emb_live_map_{next(_draws)}")
        st.caption("The vectors right now (PCA; axes may turn between frames).")


if topic is emb:
    steps = -(-(len(corpus.tokens) - cfg.context_size) // cfg.batch_size) * cfg.epochs
    if steps > 20_000:
        st.info(f"A long text: {steps:,} optimizer steps ({cfg.epochs} epochs × "
                f"{len(corpus.tokens) - cfg.context_size:,} n-grams / batch {cfg.batch_size}). Training may take "
                "minutes on a CPU: fewer epochs or a bigger batch is quicker, and **Stop** keeps what was learnt.",
                icon=":material/hourglass_top:")
label = "Training word2vec" if topic is w2v else "Training the N-gram model"
job = train_live(topic, cfg, label=label, chart_keys=("loss",), render_preview=live_preview, key="emb")
if isinstance(job.error, emb.CorpusError):  # e.g. a short text that subsampling empties
    show_error(job.error, "This text cannot be used", icon=":material/edit_note:")
    st.stop()
model, history = result_or_stop(job), job.history
with st.sidebar:
    retrain_button(topic, cfg, key="emb_retrain")

panels.metrics_row(cfg, corpus, history)
tab_map, tab_epochs, tab_next, tab_analogy, tab_loss = st.tabs(
    [":material/scatter_plot: Word map", ":material/animation: Across epochs",
     ":material/keyboard_tab: Next word", ":material/calculate: Analogy", ":material/show_chart: Loss curve"])
with tab_map:
    dim = cfg.dim if topic is w2v else cfg.embedding_dim
    found, neighbours, on_map = panels.word_map_tab(model, dim, cfg.seed, text.source)
with tab_epochs:
    panels.epochs_panel(model, found, tuple(neighbours["word"]), on_map)
with tab_next:
    panels.next_word_tab(model, cfg, corpus, text.source)
with tab_analogy:
    panels.analogy_tab(model, text.source)
with tab_loss:
    panels.loss_tab(history, job.source, job.seconds)
