"""Word embeddings learnt by an N-gram language model (tutorial 5.4, after Bengio et al. 2003,
"A Neural Probabilistic Language Model").

The model reads the ``context_size`` previous words, looks each one up in an embedding table,
concatenates the vectors and predicts the next word with a small MLP:

    (B, n) word ids -> (B, n, D) embeddings -> (B, n*D) -> Linear -> ReLU -> Linear -> (B, V) log-probs

Nothing asks the embeddings to mean anything; they only have to help predict the next word. Words
used in similar contexts end up with similar vectors, which the page shows by projecting them to
2-D/3-D, listing nearest neighbours by cosine similarity and doing a - b + c arithmetic.

Training records embedding snapshots (buffers on the model, so they survive the disk cache) at a
few epochs, so the page can show how the words move while the model learns.
"""

from __future__ import annotations

import difflib
import functools
import re
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from core.device import get_device, model_device
from core.projection import pca
from core.training import OnStep, fit, make_optimizer, one_cpu_thread, seed_everything

SONNET_PATH = Path(__file__).resolve().parent.parent / "assets" / "sonnet.txt"
MAX_TEXT_CHARS = 200_000  # ~35k words: a few minutes of training at most on 2 CPU cores
MIN_TOKENS = 8
MIN_DISTINCT = 3
UNK = "<unk>"


class CorpusError(ValueError):
    """The text cannot be used to train the model (empty, too short, too long, one word...)."""


class VocabularyError(ValueError):
    """A word the user typed is not in the model's vocabulary."""


# --- configuration -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Config:
    text: str | None = None      # the corpus; None = the tutorial's sonnet (assets/sonnet.txt)
    lowercase: bool = True       # "When" and "when" are one word (the tutorial kept them apart)
    context_size: int = 2        # words the model sees before the one it predicts (tutorial: 2)
    embedding_dim: int = 10      # tutorial EMBEDDING_DIM
    hidden: int = 128            # width of the hidden layer (tutorial: 128)
    epochs: int = 100            # tutorial: 100
    optimizer: str = "Adam"      # tutorial: SGD, one trigram per step; Adam on mini-batches is faster
    lr: float = 0.01             # tutorial: 1e-2 with SGD
    weight_decay: float = 1e-5   # tutorial: 1e-5
    batch_size: int = 32         # n-grams per optimizer step (tutorial: 1)
    max_vocab: int = 1000        # rarer words become <unk> (keeps the softmax and the plots small)
    snapshots: int = 20          # embedding snapshots recorded over training (+ the initial one)
    seed: int = 0
    version: int = 1             # bump when the training code changes (the Config is the cache key)

    @classmethod
    def tiny(cls) -> Config:
        return cls(embedding_dim=4, hidden=32, epochs=15, snapshots=3)


# --- text -> tokens -> n-grams -------------------------------------------------------------------

# Han and kana have no spaces between words: each character is one token.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"


@functools.lru_cache(maxsize=1)
def _token_pattern() -> re.Pattern:
    """Letters/digits of any script plus combining marks (Devanagari vowel signs, decomposed
    accents), with inner apostrophes and hyphens kept (beauty's, totter'd, all-eating)."""
    marks, start = [], None
    for cp in range(sys.maxunicode + 2):  # scanned once, lazily (~0.2 s)
        is_mark = cp <= sys.maxunicode and unicodedata.category(chr(cp)).startswith("M")
        if is_mark and start is None:
            start = cp
        elif not is_mark and start is not None:
            marks.append(f"{re.escape(chr(start))}-{re.escape(chr(cp - 1))}")
            start = None
    char = rf"(?:[^\W_{_CJK}]|[{''.join(marks)}])"
    return re.compile(rf"[{_CJK}]|{char}+(?:['\-]{char}+)*")


def tokenize(text: str, lowercase: bool = True) -> list[str]:
    """Words of ``text`` in order: punctuation dropped, Unicode normalised (NFC), curly quotes
    straightened, optionally lower-cased. "Thy youth's proud livery," -> [thy, youth's, proud, livery]."""
    text = unicodedata.normalize("NFC", text).replace("\u2019", "'").replace("\u2018", "'")
    if lowercase:
        text = text.lower()
    return _token_pattern().findall(text)


def sonnet_text() -> str:
    """Shakespeare's Sonnet 2, the tutorial's corpus."""
    return SONNET_PATH.read_text(encoding="utf-8")


def decode_upload(data: bytes, max_bytes: int = MAX_TEXT_CHARS * 2) -> str:
    """An uploaded .txt file's bytes -> text, or a CorpusError a student understands."""
    if len(data) == 0:
        raise CorpusError("The uploaded file is empty.")
    if len(data) > max_bytes:
        raise CorpusError(f"The file is {len(data) / 1e3:,.0f} kB; the limit is {max_bytes / 1e3:,.0f} kB. "
                          "Upload a shorter text (a few pages is plenty for this small model).")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"The file is not UTF-8 text (byte {exc.start} cannot be decoded). "
                          "Save it as UTF-8 plain text (.txt) and upload it again.") from None


@dataclass(frozen=True)
class Corpus:
    tokens: tuple[str, ...]   # the text's words, rare ones replaced by <unk>
    vocab: tuple[str, ...]    # most frequent first (ties: first appearance)
    counts: np.ndarray        # (V,) occurrences of each vocab word
    n_raw_words: int          # distinct words before the vocabulary cap

    @property
    def index(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.vocab)}


@functools.lru_cache(maxsize=16)
def _prepare(text: str, lowercase: bool, max_vocab: int) -> Corpus:
    if not text.strip():
        raise CorpusError("The text is empty: paste a few sentences or pick the sonnet.")
    if len(text) > MAX_TEXT_CHARS:
        raise CorpusError(f"The text has {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}. "
                          "Use a shorter excerpt.")
    tokens = tokenize(text, lowercase)
    if not tokens:
        raise CorpusError("No words found in the text (only punctuation, digits-free symbols or spaces).")
    freq = Counter(tokens)
    if len(freq) < MIN_DISTINCT:
        only = ", ".join(f"'{w}'" for w in freq)
        raise CorpusError(f"The text has only {len(freq)} different word(s) ({only}); "
                          f"the model needs at least {MIN_DISTINCT} to have something to predict.")
    if len(tokens) < MIN_TOKENS:
        raise CorpusError(f"The text is too short: {len(tokens)} words after tokenisation; "
                          f"at least {MIN_TOKENS} are needed (a sentence or two).")
    first = {}
    for i, w in enumerate(tokens):
        first.setdefault(w, i)
    ranked = sorted(freq, key=lambda w: (-freq[w], first[w]))
    keep = set(ranked[: max_vocab - 1]) if len(ranked) > max_vocab else set(ranked)
    if len(keep) < len(ranked):
        tokens = [w if w in keep else UNK for w in tokens]
        freq = Counter(tokens)
        ranked = sorted(freq, key=lambda w: (-freq[w], first.get(w, len(first))))
    return Corpus(tuple(tokens), tuple(ranked), np.array([freq[w] for w in ranked]), len(first))


def prepare_corpus(cfg: Config) -> Corpus:
    """The tokenised corpus of ``cfg`` (cached); raises CorpusError on unusable text."""
    text = sonnet_text() if cfg.text is None else cfg.text
    corpus = _prepare(text, cfg.lowercase, cfg.max_vocab)
    if len(corpus.tokens) <= cfg.context_size:
        raise CorpusError(f"The text has {len(corpus.tokens)} words: not enough for a context of "
                          f"{cfg.context_size} plus a word to predict.")
    return corpus


def ngrams(corpus: Corpus, context_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every (context, next word) pair: x (N, context_size) and y (N,) word ids, N = len - n."""
    ids = torch.tensor([corpus.index[w] for w in corpus.tokens])
    x = ids.unfold(0, context_size, 1)[:-1]  # (N, n) sliding windows
    y = ids[context_size:]
    return x.contiguous(), y


# --- model -------------------------------------------------------------------------------------------

class NGramLM(nn.Module):
    """Embedding -> Linear -> ReLU -> Linear -> log-softmax over the vocabulary."""

    def __init__(self, vocab: tuple[str, ...], counts: np.ndarray, context_size: int, dim: int,
                 hidden: int, snapshot_epochs: np.ndarray, lowercase: bool = True):
        super().__init__()
        self.vocab, self.counts, self.context_size = vocab, counts, context_size
        self.lowercase = lowercase  # queries are normalised like the corpus
        self.embed = nn.Embedding(len(vocab), dim)
        self.classify = nn.Sequential(nn.Linear(context_size * dim, hidden), nn.ReLU(),
                                      nn.Linear(hidden, len(vocab)))
        # Embedding tables at planned epochs; -1 marks a snapshot not taken (stopped early).
        self.register_buffer("snapshots", torch.zeros(len(snapshot_epochs), len(vocab), dim))
        self.register_buffer("snapshot_epochs", -torch.ones(len(snapshot_epochs)))
        self.planned_epochs = [int(e) for e in snapshot_epochs]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e = self.embed(x)                      # (B, n, D)
        h = self.classify(e.flatten(1))        # (B, n*D) -> (B, V)
        return torch.log_softmax(h, dim=-1)    # log P(next word | context)

    @torch.no_grad()
    def take_snapshot(self, epoch: int) -> None:
        if epoch in self.planned_epochs:
            i = self.planned_epochs.index(epoch)
            self.snapshots[i] = self.embed.weight
            self.snapshot_epochs[i] = float(epoch)


def planned_snapshots(cfg: Config) -> np.ndarray:
    """Epochs at which the embeddings are recorded: 0 (random start) to cfg.epochs, evenly."""
    count = max(1, min(cfg.snapshots, cfg.epochs))
    return np.unique(np.round(np.linspace(0, cfg.epochs, count + 1)).astype(int))


def build_model(cfg: Config) -> NGramLM:
    if not 1 <= cfg.context_size <= 8:
        raise ValueError(f"context_size must be 1-8, got {cfg.context_size}")
    corpus = prepare_corpus(cfg)
    return NGramLM(corpus.vocab, corpus.counts, cfg.context_size, cfg.embedding_dim, cfg.hidden,
                   planned_snapshots(cfg), cfg.lowercase)


# --- training ------------------------------------------------------------------------------------

def _nll(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    x, y = batch
    return nn.functional.nll_loss(model(x), y)


def train(cfg: Config, *, on_step: OnStep | None = None) -> tuple[NGramLM, list[dict[str, float]]]:
    """Mini-batch training on every n-gram of the text; history: loss and top-1 accuracy per epoch.

    on_step also receives a preview: ``embedding_2d`` (V, 2) PCA of the current embeddings.
    """
    generator = seed_everything(cfg.seed)
    device = get_device()
    model = build_model(cfg).to(device)
    x, y = (t.to(device) for t in ngrams(prepare_corpus(cfg), cfg.context_size))
    optimizer = make_optimizer(cfg.optimizer, model.parameters(), cfg.lr, weight_decay=cfg.weight_decay)
    model.take_snapshot(0)

    def accuracy(m: nn.Module) -> dict[str, float]:
        hits = sum(int((m(x[i:i + 4096]).argmax(-1) == y[i:i + 4096]).sum()) for i in range(0, len(y), 4096))
        return {"accuracy": hits / len(y)}

    def report(step: int, metrics: dict) -> bool | None:
        model.take_snapshot(step)
        if on_step is None:
            return None
        preview = {"embedding_2d": pca(model.embed.weight.detach().cpu().numpy()).points}
        return on_step(step, {**metrics, **preview})

    with one_cpu_thread(device):
        result = fit(model, _nll, (x, y), optimizer, epochs=cfg.epochs, generator=generator,
                     batch_size=cfg.batch_size, on_step=report, evaluate=accuracy)
    return model, result.history


# --- helpers for the page (numpy / DataFrames) ------------------------------------------------------

def vectors(model: NGramLM) -> np.ndarray:
    """(V, D) embedding table as numpy."""
    return model.embed.weight.detach().float().cpu().numpy()


def snapshot_projection(model: NGramLM, dims: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Recorded epochs (S,) and every snapshot projected with ONE PCA basis (S, V, dims), fitted on
    all snapshots together, so a word's movement between epochs is real movement, not a new axis."""
    taken = model.snapshot_epochs.cpu().numpy() >= 0
    snaps = model.snapshots.detach().float().cpu().numpy()[taken]  # (S, V, D)
    s, v, d = snaps.shape
    basis = pca(snaps.reshape(s * v, d), dims)
    coords = (snaps - basis.mean) @ basis.axes.T  # (S, V, dims)
    return model.snapshot_epochs.cpu().numpy()[taken].astype(int), coords


def word_id(model: NGramLM, word: str) -> int:
    """The vocabulary index of ``word`` (normalised like the corpus), or a VocabularyError with hints."""
    if word.strip() in model.vocab:  # exact entries first (also "<unk>")
        return model.vocab.index(word.strip())
    tokens = tokenize(word, model.lowercase)
    key = tokens[0] if len(tokens) == 1 else word.strip()
    if key in model.vocab:
        return model.vocab.index(key)
    hints = difflib.get_close_matches(key, model.vocab, n=3)
    hint = f" Did you mean {', '.join(repr(h) for h in hints)}?" if hints else ""
    raise VocabularyError(f"'{word}' is not in the vocabulary ({len(model.vocab)} words).{hint}")


def _cosine_to_all(table: np.ndarray, query: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(table, axis=1) * np.linalg.norm(query)
    return table @ query / np.maximum(norms, 1e-12)


def nearest_neighbours(model: NGramLM, word: str, k: int = 8) -> pd.DataFrame:
    """The k words whose vectors point most nearly the same way as ``word``'s (itself excluded)."""
    table, i = vectors(model), word_id(model, word)
    sims = _cosine_to_all(table, table[i])
    sims[i] = -np.inf
    order = np.argsort(-sims, kind="stable")[: min(k, len(sims) - 1)]
    return pd.DataFrame({"word": [model.vocab[j] for j in order], "cosine similarity": sims[order],
                         "count": model.counts[order]})


def analogy(model: NGramLM, a: str, b: str, c: str, k: int = 5) -> pd.DataFrame:
    """Words nearest to vec(a) - vec(b) + vec(c) by cosine, a, b and c excluded (king - man + woman)."""
    table = vectors(model)
    ids = [word_id(model, w) for w in (a, b, c)]
    sims = _cosine_to_all(table, table[ids[0]] - table[ids[1]] + table[ids[2]])
    sims[ids] = -np.inf
    order = np.argsort(-sims, kind="stable")[: max(0, min(k, len(sims) - 3))]
    return pd.DataFrame({"word": [model.vocab[j] for j in order], "cosine similarity": sims[order]})


@dataclass(frozen=True)
class Prediction:
    context: tuple[str, ...]  # the words actually used (the last context_size typed)
    table: pd.DataFrame       # word, probability; most likely first


@torch.no_grad()
def predict_next(model: NGramLM, context: str, k: int = 5) -> Prediction:
    """The model's top-k next words after the typed ``context`` (its last context_size words)."""
    words = tokenize(context, model.lowercase)
    n = model.context_size
    if len(words) < n:
        raise VocabularyError(f"Type at least {n} word(s): the model reads the last {n} words "
                              f"to predict the next (got {len(words)}).")
    words = words[-n:]
    ids = torch.tensor([[word_id(model, w) for w in words]], device=model_device(model))
    probs = model(ids).exp()[0].cpu().numpy()
    order = np.argsort(-probs, kind="stable")[:k]
    return Prediction(tuple(words), pd.DataFrame({"word": [model.vocab[j] for j in order],
                                                  "probability": probs[order]}))


def continuations(corpus: Corpus, context: tuple[str, ...]) -> Counter:
    """What actually follows ``context`` in the text (to compare with the model's guess)."""
    n, toks = len(context), corpus.tokens
    return Counter(toks[i + n] for i in range(len(toks) - n) if toks[i:i + n] == context)
