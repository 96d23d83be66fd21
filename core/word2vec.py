"""Word embeddings learnt by word2vec: skip-gram with negative sampling (Mikolov et al. 2013,
"Efficient Estimation of Word Representations in Vector Space" and "Distributed Representations
of Words and Phrases and their Compositionality").

The N-gram model of ``core.embeddings`` learns vectors only as a side effect of predicting the
next word through a softmax over the whole vocabulary. Skip-gram asks the vectors directly: for
each (centre word, nearby word) pair, the dot product of the centre's vector ``v`` and the
neighbour's context vector ``u`` should be high, and for K random "negative" words low:

    loss = -log sigmoid(u_ctx . v_centre) - sum_k log sigmoid(-u_neg_k . v_centre)

Three tricks from the papers make it work on a book in seconds:
- subsampling: very frequent words ("the", "of") are dropped at random, more often the more
  frequent they are, so training time goes to informative pairs;
- negatives are drawn from the unigram distribution raised to 3/4 (rare words a bit more often);
- a dynamic window: each centre looks 1..window words either side, so near words count more.

Words used in similar contexts end up with similar vectors. The helpers for the page (nearest
neighbours, analogies, 2-D/3-D maps, the epoch replay) are those of ``core.embeddings``: the model
has the same ``vocab`` / ``counts`` / ``lowercase`` / ``embed`` / ``snapshots`` face as its N-gram
model.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from threadpoolctl import threadpool_limits
from torch import nn

from core import embeddings
from core.device import get_device
from core.embeddings import CorpusError, VocabularyError, analogy, nearest_neighbours, tokenize, vectors, word_id
from core.projection import project
from core.training import OnStep, one_cpu_thread, run_steps

__all__ = ["BUNDLE_CONFIGS", "Config", "Corpus", "CorpusError", "SkipGram", "VocabularyError", "analogy",
           "book_text", "build_model", "coordinates", "corpus_text", "decode_upload", "nearest_neighbours",
           "prepare_corpus", "related_words_score", "snapshot_coordinates", "train", "vectors", "vocabulary",
           "word_id"]

ASSETS = Path(__file__).resolve().parent.parent / "assets"
BOOK_PATH = ASSETS / "pride_and_prejudice.txt"  # Jane Austen, 1813 (public domain): assets/README.md
BOOK_TITLE = "Pride and Prejudice (Jane Austen)"
CORPORA = ("sonnet", "book", "upload")
MAX_TEXT_CHARS = 1_000_000  # ~180k words: the bundled book is 685k characters
MIN_VOCAB = 3               # fewer distinct words than this leaves nothing to compare
SNAPSHOT_WORDS = 1_000      # the epoch replay records the most frequent words only (memory: S x 1000 x D)


# --- configuration -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Config:
    corpus: str = "book"        # "sonnet" (tutorial), "book" (Pride and Prejudice) or "upload"
    text: str | None = None     # the uploaded text itself when corpus="upload" (as embeddings.Config)
    lowercase: bool = True      # "When" and "when" are one word
    min_count: int = 5          # rarer words are dropped (word2vec default); use 1 for the sonnet
    dim: int = 50               # vector size (papers: 100-300 on billions of words)
    window: int = 2             # max words either side, each centre draws 1..window (papers: 5-10;
                                # on one book 2 gave the best related-word ranks: he~she, two~three)
    negatives: int = 5          # random "wrong" context words per pair (papers: 5-20 small data)
    subsample: float = 1e-3     # t in keep = (sqrt(f/t) + 1) t/f; 0 turns subsampling off
    epochs: int = 5             # passes over the text (word2vec default: 5)
    lr: float = 0.05            # Adam's start, decayed linearly to 0 as word2vec does
    batch_size: int = 4096      # (centre, context) pairs per step: large, so ~60 steps per epoch
    snapshots: int = 10         # vector snapshots recorded over training (+ the random start)
    seed: int = 0
    version: int = 2            # bump when the training code changes (the Config is the cache key)

    @classmethod
    def tiny(cls) -> Config:
        return cls(corpus="sonnet", min_count=1, dim=8, window=2, epochs=2, batch_size=64, snapshots=3)


# Read by core.make_checkpoints: the page's default (the whole book) trains in 2.5 s on a quiet core
# but 12-15 s on a busy one, too long for a first view, so its result is shipped (~0.5 MB).
BUNDLE_CONFIGS = (Config(),)


# --- text -> vocabulary -> (centre, context) pairs ---------------------------------------------------

def book_text() -> str:
    """The bundled book (assets/pride_and_prejudice.txt), ~122k words."""
    return BOOK_PATH.read_text(encoding="utf-8")


def corpus_text(cfg: Config) -> str:
    """The text ``cfg`` trains on; ValueError on an unknown corpus or a text without "upload"."""
    if cfg.corpus not in CORPORA:
        raise ValueError(f"Unknown corpus {cfg.corpus!r}; choose one of {', '.join(CORPORA)}")
    if (cfg.corpus == "upload") != (cfg.text is not None):
        raise ValueError('Config.text is the uploaded text: set it exactly when corpus="upload"')
    if cfg.corpus == "sonnet":
        return embeddings.sonnet_text()
    return book_text() if cfg.corpus == "book" else cfg.text


def decode_upload(data: bytes) -> str:
    """An uploaded .txt file's bytes -> text, or a CorpusError (limit: MAX_TEXT_CHARS)."""
    return embeddings.decode_upload(data, max_bytes=MAX_TEXT_CHARS * 2)


@dataclass(frozen=True)
class Corpus:
    ids: np.ndarray           # (N,) the text as vocabulary ids, rare words removed
    vocab: tuple[str, ...]    # most frequent first (ties: first appearance)
    counts: np.ndarray        # (V,) occurrences of each vocab word
    n_words: int              # tokens in the text before rare words were removed
    n_raw_words: int          # distinct words before the min_count cut


@functools.lru_cache(maxsize=8)
def _prepare(text: str, lowercase: bool, min_count: int) -> Corpus:
    if not text.strip():
        raise CorpusError("The text is empty: paste or upload a few paragraphs, or pick the book.")
    if len(text) > MAX_TEXT_CHARS:
        raise CorpusError(f"The text has {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}. "
                          "Use a shorter excerpt.")
    tokens = tokenize(text, lowercase)
    if not tokens:
        raise CorpusError("No words found in the text (only punctuation, symbols or spaces).")
    freq = Counter(tokens)
    first: dict[str, int] = {}
    for i, w in enumerate(tokens):
        first.setdefault(w, i)
    ranked = sorted((w for w in freq if freq[w] >= min_count), key=lambda w: (-freq[w], first[w]))
    if len(ranked) < MIN_VOCAB:
        raise CorpusError(f"The text is too short: {len(tokens):,} words, of which only {len(ranked)} "
                          f"different word(s) occur at least {min_count} time(s); at least {MIN_VOCAB} "
                          "are needed. Use a longer text or lower the minimum count.")
    index = {w: i for i, w in enumerate(ranked)}
    ids = np.array([index[w] for w in tokens if w in index], dtype=np.int64)
    return Corpus(ids, tuple(ranked), np.array([freq[w] for w in ranked]), len(tokens), len(freq))


def prepare_corpus(cfg: Config) -> Corpus:
    """The tokenised corpus of ``cfg`` (cached); raises CorpusError on unusable text."""
    if cfg.min_count < 1:
        raise ValueError(f"min_count must be >= 1, got {cfg.min_count}")
    return _prepare(corpus_text(cfg), cfg.lowercase, cfg.min_count)


def keep_probability(counts: np.ndarray, t: float) -> np.ndarray:
    """(V,) chance each occurrence survives subsampling: (sqrt(f/t) + 1) t/f, capped at 1, with f
    the word's share of the text (the formula of the word2vec C code; the paper's is 1 - sqrt(t/f))."""
    if t <= 0:
        return np.ones(len(counts))
    f = counts / counts.sum()
    return np.minimum(1.0, (np.sqrt(f / t) + 1) * t / f)


def noise_table(counts: np.ndarray, size: int = 100_000) -> torch.Tensor:
    """word2vec's unigram table: word i fills a share count_i^0.75 / sum of the ``size`` slots, so a
    uniform random slot is a draw from P_n(w). 3-6x faster here than torch.multinomial; 1e5 slots
    (word2vec: 1e8) keep the table in cache and give the book's rarest words >= 10 slots (+-5%)."""
    weights = counts ** 0.75
    slots = np.maximum(1, np.round(weights / weights.sum() * size)).astype(np.int64)
    return torch.repeat_interleave(torch.arange(len(counts)), torch.from_numpy(slots))


def skipgram_pairs(ids: torch.Tensor, keep: torch.Tensor, window: int,
                   generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """One epoch of shuffled (centre, context) id pairs, each (P,), after subsampling ``ids`` (N,)
    and drawing a window 1..window per centre (vectorised over offsets, not a loop over words)."""
    kept = ids[torch.rand(len(ids), generator=generator) < keep[ids]]      # (N',)
    reach = torch.randint(1, window + 1, (len(kept),), generator=generator)  # (N',) each centre's window
    centres, contexts = [], []
    for o in range(1, min(window, len(kept) - 1) + 1):
        right = reach[:-o] >= o  # centre i sees i+o
        centres += [kept[:-o][right]]
        contexts += [kept[o:][right]]
        left = reach[o:] >= o    # centre i+o sees i
        centres += [kept[o:][left]]
        contexts += [kept[:-o][left]]
    if not centres:
        return torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.long)
    c, x = torch.cat(centres), torch.cat(contexts)
    order = torch.randperm(len(c), generator=generator)
    return c[order], x[order]


# --- model -------------------------------------------------------------------------------------------

class SkipGram(nn.Module):
    """Two tables: ``embed`` (V, D) holds the word vectors v we keep; ``context`` (V, D) the vectors
    u a word has when it is another word's neighbour (or a negative)."""

    def __init__(self, vocab: tuple[str, ...], counts: np.ndarray, dim: int, lowercase: bool = True,
                 snapshots: int = 0):
        super().__init__()
        self.vocab, self.counts, self.lowercase = vocab, counts, lowercase  # read by embeddings' helpers
        # Empty tables, filled by reset(): nn.Embedding's own init would draw from torch's global RNG,
        # and nn.utils.skip_init's meta-device init costs a 2.5 s import of torch._refs on first use.
        self.embed = nn.Embedding.from_pretrained(torch.empty(len(vocab), dim), freeze=False)
        self.context = nn.Embedding.from_pretrained(torch.empty(len(vocab), dim), freeze=False)
        # The word vectors of the SNAPSHOT_WORDS most frequent words at a few moments of training,
        # as core.embeddings' NGramLM keeps them (buffers: they travel with the checkpoint); the
        # epoch (fractional) of each, -1 = not taken (stopped early, or fewer steps than snapshots).
        self.register_buffer("snapshots", torch.zeros(snapshots + 1, min(len(vocab), SNAPSHOT_WORDS), dim))
        self.register_buffer("snapshot_epochs", -torch.ones(snapshots + 1))

    @torch.no_grad()
    def take_snapshot(self, i: int, epoch: float) -> None:
        self.snapshots[i] = self.embed.weight[: self.snapshots.shape[1]]
        self.snapshot_epochs[i] = epoch

    @torch.no_grad()
    def reset(self, generator: torch.Generator) -> None:
        """word2vec's start: small uniform word vectors, zero context vectors."""
        d = self.embed.embedding_dim
        self.embed.weight.copy_((torch.rand(self.embed.weight.shape, generator=generator) - 0.5) / d)
        self.context.weight.zero_()

    def forward(self, centre: torch.Tensor, context: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
        """Mean negative-sampling loss of centre (B,), context (B,) and negatives (B, K) ids."""
        v = self.embed(centre)                                  # (B, D)
        pos = (self.context(context) * v).sum(-1)              # (B,)   u_ctx . v
        # Broadcast multiply + sum, not bmm: on CPU bmm's backward of (B, K, D) @ (B, D, 1) was 5x slower.
        neg = (self.context(negatives) * v[:, None]).sum(-1)    # (B, K) u_neg . v
        return -(nn.functional.logsigmoid(pos) + nn.functional.logsigmoid(-neg).sum(-1)).mean()


def build_model(cfg: Config) -> SkipGram:
    for name in ("dim", "window", "negatives", "epochs", "batch_size"):
        if getattr(cfg, name) < 1:
            raise ValueError(f"{name} must be >= 1, got {getattr(cfg, name)}")
    corpus = prepare_corpus(cfg)
    if cfg.snapshots < 0:
        raise ValueError(f"snapshots must be >= 0, got {cfg.snapshots}")
    model = SkipGram(corpus.vocab, corpus.counts, cfg.dim, cfg.lowercase, cfg.snapshots)
    model.reset(torch.Generator().manual_seed(cfg.seed))
    return model


# --- training ------------------------------------------------------------------------------------

def train(cfg: Config, *, on_step: OnStep | None = None) -> tuple[SkipGram, list[dict[str, float]]]:
    """Adam on shuffled mini-batches of skip-gram pairs, lr decayed linearly to 0 (as word2vec).

    One step is one mini-batch. History (about 50 records): mean loss since the previous record,
    epoch (fractional) and lr. on_step also gets ``embedding_2d`` (V, 2), a PCA of the vectors.
    ``cfg.snapshots`` snapshots of the vectors are kept on the model, evenly spread over the steps.
    All randomness (initial vectors, subsampling, windows, order, negatives) comes from one
    torch.Generator seeded from cfg.seed; the global RNGs are never touched.
    """
    generator = torch.Generator().manual_seed(cfg.seed + 1)  # +1: not the stream of the initial vectors
    model = build_model(cfg)
    corpus = prepare_corpus(cfg)
    ids = torch.from_numpy(corpus.ids)
    keep = torch.from_numpy(keep_probability(corpus.counts, cfg.subsample)).float()
    noise = noise_table(corpus.counts)
    # Every epoch's pairs up front (a few MB), so the step count, lr schedule and progress bar are exact.
    epochs = [skipgram_pairs(ids, keep, cfg.window, generator) for _ in range(cfg.epochs)]
    batches = [(e, start) for e, (c, _) in enumerate(epochs) for start in range(0, len(c), cfg.batch_size)]
    if not batches:
        raise CorpusError("Too few words are left after subsampling to form a single (word, neighbour) "
                          "pair; use a longer text, or turn the subsampling of frequent words off (subsample=0).")
    total = len(batches)
    device = get_device()
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    report_every = max(1, total // 50)
    since_report: list[float] = []
    # snapshot i after step planned[i] (0 = the random start); fewer when there are fewer steps
    planned = {int(s): i for i, s in enumerate(np.unique(np.round(np.linspace(0, total, cfg.snapshots + 1))))}
    model.take_snapshot(0, 0.0)

    def one_step(step: int) -> dict[str, object]:
        lr = cfg.lr * max(1e-4, 1 - (step - 1) / total)
        for group in optimizer.param_groups:
            group["lr"] = lr
        e, start = batches[step - 1]
        centre, context = (t[start:start + cfg.batch_size] for t in epochs[e])  # (B,), (B,)
        negatives = noise[torch.randint(len(noise), (len(centre), cfg.negatives), generator=generator)]
        loss = model(centre.to(device), context.to(device), negatives.to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        epoch = e + (start + len(centre)) / len(epochs[e][0])
        if step in planned:
            model.take_snapshot(planned[step], epoch)
        since_report.append(float(loss.detach()))
        if step % report_every and step != total:
            return {"loss": since_report[-1]}  # checked for NaN by run_steps, not recorded
        metrics: dict[str, object] = {"loss": float(np.mean(since_report)), "lr": lr, "epoch": epoch}
        since_report.clear()
        if on_step is not None:
            metrics["embedding_2d"] = coordinates(model, dims=2)
        return metrics

    # numpy's BLAS on one thread too: the live preview's PCA (an SVD) took 0.44 s with OpenBLAS's 2
    # threads on a busy 2-core machine and 0.015 s with one, 24 s of a 35 s training of 50k words.
    with one_cpu_thread(device), threadpool_limits(1):
        result = run_steps(one_step, total, on_step=on_step, lr=cfg.lr, report_every=report_every)
    model.eval()
    return model, result.history


# --- helpers for the page (numpy / DataFrames) ------------------------------------------------------
# nearest_neighbours(model, word, k), analogy(model, a, b, c, k), word_id and vectors are
# core.embeddings' own, imported above: they read model.vocab / counts / lowercase / embed.

def vocabulary(model: SkipGram) -> pd.DataFrame:
    """The vocabulary, most frequent first: word, count."""
    return pd.DataFrame({"word": list(model.vocab), "count": model.counts})


def coordinates(model: SkipGram, dims: int = 2, method: str = "PCA", top: int | None = None) -> np.ndarray:
    """(V, dims) map of the vectors (or of the ``top`` most frequent words) by PCA or t-SNE: the
    projection every map of the app uses (core.projection)."""
    table = vectors(model)
    return project(table if top is None else table[:top], method=method, dims=dims)


def snapshot_coordinates(model: SkipGram, dims: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """The epochs of the snapshots taken (S,), fractional, and the snapshots' words (the most
    frequent SNAPSHOT_WORDS) projected with one PCA basis for all (S, W, dims): the replay of
    core.embeddings, whose whole-number epoch labels would merge 0.5 into 0."""
    _, coords = embeddings.snapshot_projection(model, dims)
    taken = model.snapshot_epochs.cpu().numpy()
    return taken[taken >= 0].astype(float), coords


def related_words_score(model: SkipGram, groups: list[list[str]], k: int = 10) -> dict[str, float]:
    """How strongly words of one group find each other: over every ordered pair (a, b) of words of
    a group, the rank of b among all other vocabulary words by cosine to a. Returns the fraction of
    pairs with rank <= k, the mean reciprocal rank, both as chance would give them (a random order
    of V - 1 candidates), and the number of pairs. Words not in the vocabulary are skipped."""
    table = vectors(model)
    table = table / np.maximum(np.linalg.norm(table, axis=1, keepdims=True), 1e-12)
    index = {w: i for i, w in enumerate(model.vocab)}
    ranks = []
    for group in groups:
        ids = [index[w] for w in group if w in index]
        for a in ids:
            sims = table @ table[a]
            sims[a] = -np.inf
            for b in ids:
                if b != a:
                    ranks.append(1 + int((sims > sims[b]).sum()))
    if not ranks:
        raise VocabularyError("None of the groups has two words in the vocabulary.")
    ranks_arr, others = np.array(ranks), len(model.vocab) - 1
    return {"top_k": float((ranks_arr <= k).mean()), "mrr": float((1 / ranks_arr).mean()),
            "chance_top_k": min(1.0, k / others), "chance_mrr": float((1 / np.arange(1, others + 1)).mean()),
            "pairs": float(len(ranks))}
