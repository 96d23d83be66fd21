"""Seeing high-dimensional vectors in 2-D or 3-D: PCA (the directions along which the points vary
most) and t-SNE (neighbourhoods kept, distances not; van der Maaten & Hinton 2008).

Used for word embeddings (core.embeddings) and for the conv autoencoder's 32-number codes
(core.autoencoder). numpy in, numpy out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PCA:
    """``points = (x - mean) @ axes.T``; back again: ``x ~ points @ axes + mean``."""

    mean: np.ndarray    # (D,); zeros when nothing was projected (D <= dims)
    axes: np.ndarray    # (dims, D) orthonormal rows, signs fixed so plots do not flip
    points: np.ndarray  # (N, dims) the input in the new axes
    explained: float    # share of the variance the axes keep (1.0 when D <= dims)


def pca(points: np.ndarray, dims: int = 2) -> PCA:
    """The top ``dims`` principal directions of ``points`` (N, D).

    When D <= dims the raw coordinates are kept (zero-padded to ``dims``): nothing to project.
    Each axis's sign is chosen so its largest component is positive, so refitting on similar data
    (another epoch, a retrained model) does not mirror the picture.
    """
    n, d = points.shape
    mean = points.mean(0)
    if d <= dims:
        axes = np.eye(dims, d)
        return PCA(mean * 0, axes, points @ axes.T, 1.0)
    _, s, vt = np.linalg.svd(points - mean, full_matrices=False)  # rows of vt: principal directions
    axes = vt[:dims]
    axes = axes * np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(1)])[:, None]
    if len(axes) < dims:  # fewer points than dims
        axes = np.vstack([axes, np.zeros((dims - len(axes), d))])
    explained = float((s[:dims] ** 2).sum() / max((s**2).sum(), 1e-12))
    return PCA(mean, axes, (points - mean) @ axes.T, explained)


def project(points: np.ndarray, method: str = "PCA", dims: int = 2, seed: int = 0) -> np.ndarray:
    """(V, D) -> (V, dims) by PCA or t-SNE (scikit-learn); raw coordinates when D <= dims."""
    if dims not in (2, 3):
        raise ValueError(f"dims must be 2 or 3, got {dims}")
    if points.shape[1] <= dims or method == "PCA":
        return pca(points, dims).points
    if method != "t-SNE":
        raise ValueError(f"Unknown projection {method!r}; choose PCA or t-SNE")
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    perplexity = float(min(30.0, max(2.0, (len(points) - 1) / 3)))
    if len(points) <= perplexity + 1:
        return pca(points, dims).points
    tsne = TSNE(n_components=dims, perplexity=perplexity, init="pca", random_state=seed, metric="cosine")
    # One OpenMP thread: on a busy 2-core machine, 2 threads made 86 words take 37 s instead of 1 s.
    with threadpool_limits(1):
        return tsne.fit_transform(points.astype(np.float64))
