"""What a trained CNN sees (tutorial 4.2-4.5): feature maps, filters, predictions, size arithmetic.

The page runs a pretrained backbone (core.pretrained) on a photo and shows, for any layer:

- the k most active channels of that layer (each channel is one filter's response map);
- one channel laid over the photo as a heatmap, to see *where* it fires;
- the layer's output size from the tutorial's formula (4.2.1), next to the real tensor shape:

      W_out = floor((W - F + 2P) / S) + 1      (W: input size, F: kernel, S: stride, P: padding)

  EfficientNet pads like TensorFlow ("SAME"): just enough, possibly one more pixel on one side,
  so that W_out = ceil(W / S); we show that total padding as 2P.

Nothing is trained here (``TRAINABLE = False``): the digits CNN is trained by core.digits, and the
ImageNet models come with their weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from core.images import mosaic
from core.vision import Backbone, LayerInfo

TRAINABLE = False
SCALES = ("per map", "shared")
# A first layer worth looking at per model: early enough that the maps still look like the photo.
DEFAULT_LAYERS = {"lite0": "blocks.2.expand.act", "digits": "layer2.2", "vgg16": "features.8"}


def default_layer(backbone: Backbone) -> str:
    name = DEFAULT_LAYERS.get(backbone.key)
    return name if name in backbone.layers else backbone.layer_names[0]


@dataclass(frozen=True)
class Config:
    model: str = "lite0"  # see core.pretrained.MODELS
    layer: str = "blocks.2.expand.act"  # an early layer: edges and colour blobs still readable
    top_k: int = 8  # how many of the most active channels to show
    scale: str = "per map"  # colour scale of the grid: each map its own range, or one for all
    input_size: int = 224  # the ImageNet models' training resolution (tutorial: Resize((224, 224)))
    seed: int = 0
    version: int = 1

    @classmethod
    def tiny(cls) -> Config:
        return cls(top_k=4, input_size=96)


# --- input and predictions ---------------------------------------------------------------------


def prepare_input(backbone: Backbone, pixels: np.ndarray, input_size: int = 224) -> torch.Tensor:
    """A photo (RGB uint8) -> the backbone's input: (1, 3, 224, 224) for ImageNet models, and an
    MNIST-style (1, 1, 28, 28) digit (inverted, cropped, centred by mass) for the digits CNN."""
    if backbone.key == "digits":
        from core.mnist import digit_from_image

        return digit_from_image(pixels).to(backbone.device)
    return backbone.preprocess(pixels, input_size)


def top_predictions(backbone: Backbone, x: torch.Tensor, k: int = 5) -> pd.DataFrame:
    """The k most probable classes: columns class, probability (descending)."""
    return pd.DataFrame(backbone.predict(x, k), columns=["class", "probability"])


# --- feature maps ------------------------------------------------------------------------------


@torch.no_grad()
def layer_maps(backbone: Backbone, x: torch.Tensor, layer: str) -> np.ndarray:
    """The layer's activation for one image as float32 (C, H, W); (C, 1, 1) after a global pool."""
    act = backbone.activations(x, [layer])[layer]
    if act.ndim == 2:  # (1, C) from a flattening layer: treat as C maps of 1x1
        act = act[..., None, None]
    return act[0].float().cpu().numpy()


def top_channels(maps: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the k channels with the highest mean activation, and those means (descending)."""
    if maps.ndim != 3:
        raise ValueError(f"Expected feature maps (C, H, W), got shape {maps.shape}")
    means = maps.reshape(maps.shape[0], -1).mean(axis=1)  # (C,)
    k = max(1, min(k, len(means)))
    order = np.argsort(-means, kind="stable")[:k]
    return order, means[order]


def grid_values(maps: np.ndarray, channels: np.ndarray, scale: str) -> tuple[np.ndarray, float, float]:
    """The chosen maps (k, H, W) ready to plot, plus the colour range.

    'per map': each map stretched to its own 0..1 (shows the pattern of weak channels too);
    'shared': raw values, one range for all (shows which channels are strongest).
    """
    chosen = maps[channels].astype(np.float32)
    if scale == "per map":
        lo = chosen.min(axis=(1, 2), keepdims=True)
        hi = chosen.max(axis=(1, 2), keepdims=True)
        return (chosen - lo) / np.maximum(hi - lo, 1e-8), 0.0, 1.0
    if scale == "shared":
        return chosen, float(chosen.min()), float(max(chosen.max(), chosen.min() + 1e-8))
    raise ValueError(f"Unknown colour scale {scale!r}; choose one of {', '.join(SCALES)}")


# A perceptually even colour map (magma-like), as anchor colours interpolated in RGB.
_ANCHORS = np.array([[0, 0, 4], [40, 11, 84], [101, 21, 110], [159, 42, 99], [212, 72, 66],
                     [245, 125, 21], [250, 193, 39], [252, 255, 164]], dtype=np.float32)


def colormap(values: np.ndarray) -> np.ndarray:
    """Values in 0..1 (any shape) -> RGB uint8 (..., 3)."""
    v = np.clip(values, 0, 1) * (len(_ANCHORS) - 1)
    i = np.minimum(v.astype(int), len(_ANCHORS) - 2)
    t = (v - i)[..., None]
    return ((1 - t) * _ANCHORS[i] + t * _ANCHORS[i + 1]).round().astype(np.uint8)


def overlay(pixels: np.ndarray, fmap: np.ndarray, alpha: float = 0.6) -> np.ndarray:
    """One feature map (H', W') stretched to 0..1, enlarged to the photo and blended onto it where it
    fires: the heat colour's opacity is ``alpha`` times the activation, so quiet areas show the photo."""
    from PIL import Image

    fmap = np.asarray(fmap, dtype=np.float32)
    lo, hi = float(fmap.min()), float(fmap.max())
    norm = (fmap - lo) / (hi - lo) if hi > lo else np.zeros_like(fmap)
    big = np.asarray(Image.fromarray(norm, mode="F").resize((pixels.shape[1], pixels.shape[0]),
                                                             Image.Resampling.BILINEAR), dtype=np.float32)
    big = np.clip(big, 0, 1)
    weight = alpha * big[..., None]  # (H, W, 1)
    blended = (1 - weight) * pixels.astype(np.float32) + weight * colormap(big).astype(np.float32)
    return blended.round().astype(np.uint8)


def filter_tiles(weight: torch.Tensor, tile: int = 24, pad: int = 2, ncols: int = 8) -> np.ndarray:
    """First-layer filters (N, C, F, F) -> one RGB uint8 mosaic on white; each filter stretched to
    0..255 on its own, enlarged to ``tile`` px (nearest, so single weights stay visible)."""
    w = weight.detach().float().cpu().numpy()
    if w.shape[1] == 1:
        w = np.repeat(w, 3, axis=1)
    w = w[:, :3].transpose(0, 2, 3, 1)  # (N, F, F, 3)
    rep = max(1, tile // w.shape[1])
    w = w.repeat(rep, axis=1).repeat(rep, axis=2)  # (N, tile, tile, 3)
    return mosaic(w, ncols=ncols, pad=pad, pad_value=255, scale_each=True)


# --- size arithmetic (tutorial 4.2.1) ----------------------------------------------------------


def same_padding_total(size: int, kernel: int, stride: int, dilation: int = 1) -> int:
    """TensorFlow 'SAME' padding (both sides together) so that the output is ceil(size / stride)."""
    out = math.ceil(size / stride)
    return max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)


def _block_stride(backbone: Backbone, name: str) -> int:
    return math.prod(info.stride or 1 for n, info in backbone.layers.items()
                     if n.startswith(name + ".") and info.kind == "conv")


def expected_size(backbone: Backbone, info: LayerInfo, size: int) -> tuple[int, str]:
    """Output size along one axis of input ``size`` and the formula with the numbers filled in."""
    if info.kind == "act":
        return size, f"{size} (element-wise: size unchanged)"
    if info.kind == "block":
        stride = _block_stride(backbone, info.name)
        out = math.ceil(size / stride)
        return out, f"⌈{size} / {stride}⌉ = {out} (block: its convs' strides, 'same' padding)"
    if info.fixed is not None:  # adaptive pooling: the output size is fixed
        return info.fixed, f"{info.fixed} (adaptive pooling: fixed output size)"
    f, s, d = info.kernel, info.stride or 1, info.dilation
    two_p = same_padding_total(size, f, s, d) if info.padding == "same" else 2 * int(info.padding or 0)
    f_eff = d * (f - 1) + 1  # a dilated kernel spans d(F-1)+1 pixels
    out = (size - f_eff + two_p) // s + 1
    f_text = str(f) if d == 1 else f"{f_eff}"
    return out, f"⌊({size} − {f_text} + {two_p}) / {s}⌋ + 1 = {out}"


def _text(value) -> str:
    return "–" if value is None else str(value)


def size_table(backbone: Backbone, x: torch.Tensor, layers: list[str] | None = None) -> pd.DataFrame:
    """One row per layer: the formula's prediction of the output height and width, the real shape,
    and whether they agree. Shapes come from one forward pass with hooks."""
    names = layers or backbone.layer_names
    shapes = backbone.activations(x, names, shapes=True)
    rows = []
    for name in names:
        info = backbone.layers[name]
        in_shape, out_shape = shapes[name]
        (h_out, h_text), (w_out, w_text) = (expected_size(backbone, info, in_shape[2]),
                                            expected_size(backbone, info, in_shape[3]))
        real = tuple(out_shape[1:]) if len(out_shape) == 4 else (out_shape[1], 1, 1)
        rows.append({
            "layer": name, "kind": info.kind, "module": info.module,
            "input": "×".join(map(str, in_shape[1:])),
            "F": _text(info.kernel), "S": _text(info.stride),
            "P": "same" if info.padding == "same" else _text(info.padding),
            "height": h_text, "width": w_text if w_text != h_text else "same as height",
            "predicted": f"{h_out}×{w_out}", "actual": "×".join(map(str, real)),
            "match": (h_out, w_out) == tuple(real[1:]),
        })
    return pd.DataFrame(rows)
