"""Deep Dream (Mordvintsev, Olah & Tyka 2015; tutorial 7.2): make a CNN amplify what it sees.

Gradient *ascent* on the image, not the weights: the objective is the mean square (the norm, up to
a constant) of one layer's activation, or of one of its channels, so whatever that layer already
detects in the photo gets stronger with every step.

    x <- x + step * g / mean(|g|),   g = d/dx ||A_layer(x)||^2 / N

Three tricks from Google's reference notebook make the result look like a dream, not noise:

- octaves: start on a small copy of the photo (large patterns), then enlarge and continue,
  carrying only the added *detail* up, so structure appears at several scales;
- jitter: roll the image by a random shift before each step (and back after), so the dream does
  not lock onto the network's stride grid;
- a normalised step (divided by the mean absolute gradient), so one step size fits every layer.

Nothing is trained here (``TRAINABLE = False``); the model is a frozen core.vision.Backbone.
The dream is computed at ``longest_side`` and only its detail is enlarged onto the original photo,
so the result has the input's size and sharpness.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch.nn import functional as F

from core.images import as_rgb_uint8
from core.training import OnStep
from core.vision import Backbone

TRAINABLE = False


@dataclass(frozen=True)
class Config:
    model: str = "lite0"  # see core.pretrained.MODELS
    layer: str = "blocks.11"  # EfficientNet-Lite0's first 192-channel block: eyes and animal faces
    channel: int = -1  # -1: the whole layer; else one channel of it
    iterations: int = 10  # gradient steps per octave (Google's notebook: 10)
    step_size: float = 1.5  # mean change per step, in 0..255 pixel levels (notebook: 1.5)
    octaves: int = 4  # notebook: 4
    octave_scale: float = 1.4  # each octave is this much larger than the previous (notebook: 1.4)
    jitter: int = 32  # max random shift in pixels before each step (notebook: 32)
    longest_side: int = 512  # working size (longest side); default dream ~5-10 s on 2 CPU cores
    seed: int = 0
    version: int = 1

    @classmethod
    def tiny(cls) -> Config:
        return cls(iterations=3, octaves=2, longest_side=96, jitter=8)

    def describe(self) -> str:
        """A short, file-name-safe summary of the parameters."""
        channel = "all" if self.channel < 0 else str(self.channel)
        return (f"{self.model}_{self.layer}_ch{channel}_it{self.iterations}_step{self.step_size:g}"
                f"_oct{self.octaves}x{self.octave_scale:g}_jit{self.jitter}_px{self.longest_side}_seed{self.seed}")


@dataclass
class DreamResult:
    pixels: np.ndarray  # RGB uint8, the input's (H, W)
    history: list[dict[str, float]]
    stopped: bool
    seconds: float


# --- checks ------------------------------------------------------------------------------------


def check_config(cfg: Config, backbone: Backbone) -> None:
    """Raise ValueError with a readable message for settings that cannot work."""
    backbone.check_layer(cfg.layer)
    if cfg.iterations < 1 or cfg.octaves < 1:
        raise ValueError("Iterations and octaves must both be at least 1.")
    if cfg.octave_scale < 1.0:
        raise ValueError("The octave scale must be at least 1 (each octave is larger than the previous).")
    if cfg.step_size <= 0:
        raise ValueError("The step size must be positive: Deep Dream climbs the activation.")
    if cfg.longest_side < 16:
        raise ValueError("The working image must be at least 16 pixels on its longest side.")


def octave_sizes(height: int, width: int, cfg: Config) -> list[tuple[int, int]]:
    """(h, w) per octave, smallest first; the last is the working size (longest side = cfg.longest_side)."""
    scale = cfg.longest_side / max(height, width)
    base = (max(1, round(height * scale)), max(1, round(width * scale)))
    sizes = []
    for i in reversed(range(cfg.octaves)):
        f = cfg.octave_scale ** i
        sizes.append((max(8, round(base[0] / f)), max(8, round(base[1] / f))))
    return sizes


# --- the objective and one step ----------------------------------------------------------------


def objective(backbone: Backbone, x: torch.Tensor, layer: str, channel: int = -1) -> torch.Tensor:
    """Mean square of the layer's activation (or one channel): ||A||^2 / N, a scalar tensor."""
    act = backbone.activations(x, [layer])[layer]  # (1, C, h, w)
    if channel >= 0:
        if channel >= act.shape[1]:
            raise ValueError(f"Layer {layer} has {act.shape[1]} channels; channel {channel} does not exist.")
        act = act[:, channel]
    return act.float().pow(2).mean()


def ascent_step(backbone: Backbone, img: torch.Tensor, cfg: Config, generator: torch.Generator,
                low: torch.Tensor, high: torch.Tensor) -> float:
    """One jittered, normalised gradient-ascent step on ``img`` (1, C, h, w), in place; returns the objective."""
    ox, oy = (torch.randint(-cfg.jitter, cfg.jitter + 1, (2,), generator=generator).tolist()
              if cfg.jitter > 0 else (0, 0))
    shifted = torch.roll(img, shifts=(oy, ox), dims=(2, 3)).requires_grad_(True)
    loss = objective(backbone, shifted, cfg.layer, cfg.channel)
    (grad,) = torch.autograd.grad(loss, shifted)  # grads for the image only; weights are frozen
    grad = torch.roll(grad, shifts=(-oy, -ox), dims=(2, 3))
    # step in pixel levels: 1 level = 1/255 of the 0..1 range = 1/(255*std) in model units
    step = cfg.step_size / (255.0 * backbone.std)
    img.add_(step * grad / (grad.abs().mean() + 1e-8))
    torch.maximum(torch.minimum(img, high, out=img), low, out=img)  # stay a valid image
    return float(loss.detach())


# --- the dream ---------------------------------------------------------------------------------


def dream(backbone: Backbone, image: np.ndarray, cfg: Config = Config(), *, on_step: OnStep | None = None) -> DreamResult:
    """Dream into ``image`` (RGB/gray/RGBA, uint8 or 16-bit) and return it at the input's size.

    ``on_step(step, metrics)`` is called after every gradient step with ``objective``, ``octave``,
    ``total_steps``; after the last step of each octave also with ``preview`` (RGB uint8 of the
    octave's size). A truthy return stops after that step; the dream so far is returned.
    """
    start = time.perf_counter()
    check_config(cfg, backbone)
    pixels = as_rgb_uint8(image)
    height, width = pixels.shape[:2]
    generator = torch.Generator().manual_seed(cfg.seed)
    low, high = backbone.input_range()
    sizes = octave_sizes(height, width, cfg)
    work = backbone.preprocess(pixels, sizes[-1])  # (1, C, h, w) at the working size
    total = cfg.iterations * len(sizes)
    history: list[dict[str, float]] = []
    detail = torch.zeros_like(work[..., : sizes[0][0], : sizes[0][1]])
    stopped, step = False, 0
    for octave, size in enumerate(sizes, start=1):
        base = _resize(work, size)
        detail = _resize(detail, size)
        img = (base + detail).clamp_(low, high)
        for i in range(cfg.iterations):
            value = ascent_step(backbone, img, cfg, generator, low, high)
            step += 1
            record = {"step": float(step), "objective": value, "octave": float(octave)}
            history.append(record)
            metrics: dict[str, object] = {**record, "total_steps": float(total),
                                          "octaves": float(len(sizes)), "size": f"{size[1]}×{size[0]}"}
            if i == cfg.iterations - 1:
                metrics["preview"] = backbone.deprocess(img)
            if on_step is not None and on_step(step, metrics):
                stopped = True
                break
        detail = img - base
        if stopped:
            break
    # carry the dreamed detail up to the photo's own resolution
    full = backbone.preprocess(pixels)
    result = (full + _resize(detail, (height, width))).clamp_(low, high)
    return DreamResult(backbone.deprocess(result), history, stopped, time.perf_counter() - start)


def _resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False,
                         antialias=size[0] < x.shape[-2])


# --- helpers for the page ----------------------------------------------------------------------


@torch.no_grad()
def activation_norm(backbone: Backbone, pixels: np.ndarray, cfg: Config) -> float:
    """The objective's square root on ``pixels`` at the working size: did the dream raise it?"""
    x = backbone.preprocess(as_rgb_uint8(pixels), octave_sizes(*pixels.shape[:2], cfg)[-1])
    return float(objective(backbone, x, cfg.layer, cfg.channel).sqrt())


def png_metadata(cfg: Config, seconds: float | None = None) -> dict[str, str]:
    """PNG text chunks recording how the image was made."""
    text = {"Software": "Deep Learning Explorer: Deep Dream",
            "Parameters": ", ".join(f"{k}={v}" for k, v in asdict(cfg).items())}
    if seconds is not None:
        text["Seconds"] = f"{seconds:.1f}"
    return text


def dream_layers(backbone: Backbone) -> list[str]:
    """Layers worth dreaming on: blocks, conv and activation outputs (not the global pool)."""
    return [name for name, info in backbone.layers.items() if info.kind in ("block", "conv", "act")]
