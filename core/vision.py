"""A frozen vision CNN behind one small interface, for the CNN and Deep Dream pages.

:class:`Backbone` is pytorch-deepdream's idea: a frozen model on the app's device that lists its
``layer_names`` (every conv, activation, pooling layer and named block, in forward order) and
returns named intermediate activations. The pretrained networks wrapped in it are loaded by
core.pretrained.

Activations are captured with forward hooks registered for one call and removed afterwards. The
captured tensors go to a thread-local store, so two sessions sharing one cached model never see
each other's tensors, and the forward pass stops as soon as every requested layer has been seen
(asking for an early layer costs only the layers before it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from core.device import get_device
from core.training import freeze

ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.SiLU, nn.GELU, nn.Sigmoid, nn.Tanh, nn.LeakyReLU, nn.Hardswish)
POOLS = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)


class LayerError(ValueError):
    """A layer name the model does not have."""


# --- the wrapper -------------------------------------------------------------------------------

_CAPTURE = threading.local()  # .state = (outputs, shapes, wanted names, shapes only?) of this thread's forward


class _Enough(Exception):
    """Raised by a hook once every wanted layer is captured: the rest of the forward is skipped."""


@dataclass(frozen=True)
class LayerInfo:
    name: str
    kind: str  # "conv", "act", "pool" or "block" (a whole residual block: its output)
    module: str  # the module's class name
    kernel: int | None = None
    stride: int | None = None
    padding: int | str | None = None  # int (each side), "same" (TensorFlow SAME) or None
    dilation: int = 1
    fixed: int | None = None  # adaptive pooling: the output size, whatever the input


def _pair0(value) -> int:
    return int(value[0] if isinstance(value, (tuple, list)) else value)


class Backbone:
    """A frozen CNN on the app's device plus what the pages need to show what it sees.

    ``mean``/``std`` (in 0..1 pixel units, per channel) define the input scaling, so ``lite0``'s
    [-1, 1] is mean 0.5, std 0.5. ``blocks`` are module names whose output counts as a layer too.
    """

    def __init__(self, key: str, model: nn.Module, *, classes: list[str], input_size: int,
                 mean: tuple[float, ...], std: tuple[float, ...], blocks: Iterable[str] = (),
                 exclude: tuple[str, ...] = (), note: str = ""):
        self.key, self.classes, self.input_size, self.note = key, list(classes), input_size, note
        self.device = get_device()
        self.model = freeze(model.to(self.device))  # moved once; never trained by a page
        self.channels = len(mean)
        self.mean = torch.tensor(mean, device=self.device).view(1, -1, 1, 1)
        self.std = torch.tensor(std, device=self.device).view(1, -1, 1, 1)
        self.modules = dict(self.model.named_modules())
        block_names = set(blocks)
        self.layers: dict[str, LayerInfo] = {}
        for name, module in _forward_order(self.modules, block_names):
            if exclude and name.startswith(exclude):  # layers on flat vectors (the classifier)
                continue
            if name in block_names:
                self.layers[name] = LayerInfo(name, "block", type(module).__name__)
            elif isinstance(module, nn.Conv2d):
                # TF-style 'same' (EfficientNet's padded conv class, or torch's padding="same")
                same = type(module).__name__ == "Conv2dDynamicSamePadding" or module.padding == "same"
                padding = "same" if same else 0 if isinstance(module.padding, str) else _pair0(module.padding)
                self.layers[name] = LayerInfo(name, "conv", type(module).__name__, _pair0(module.kernel_size),
                                              _pair0(module.stride), padding, _pair0(module.dilation))
            elif isinstance(module, ACTIVATIONS):
                self.layers[name] = LayerInfo(name, "act", type(module).__name__)
            elif isinstance(module, POOLS):
                kernel = getattr(module, "kernel_size", None)
                if kernel is None:  # adaptive: fixed output size
                    self.layers[name] = LayerInfo(name, "pool", type(module).__name__,
                                                  fixed=_pair0(module.output_size))
                else:
                    self.layers[name] = LayerInfo(name, "pool", type(module).__name__, _pair0(kernel),
                                                  _pair0(module.stride), _pair0(module.padding))

    @property
    def layer_names(self) -> list[str]:
        """Every conv, activation, pooling layer and block, by dotted name, in forward order."""
        return list(self.layers)

    def check_layer(self, name: str) -> LayerInfo:
        if name not in self.layers:
            raise LayerError(f"{self.key} has no layer {name!r}. Its layers are: "
                             f"{', '.join(self.layer_names[:8])}, … ({len(self.layers)} in all)")
        return self.layers[name]

    # --- pixels <-> model input ---
    def preprocess(self, pixels: np.ndarray, size: int | tuple[int, int] | None = None) -> torch.Tensor:
        """RGB uint8 (H, W, 3) -> (1, C, h, w) on the device; ``size`` = (h, w), an int for a square,
        or None to keep the image's own size (the CNNs are fully convolutional)."""
        from PIL import Image

        img = Image.fromarray(np.ascontiguousarray(pixels))
        if size is not None:
            h, w = (size, size) if isinstance(size, int) else size
            img = img.resize((w, h), Image.Resampling.BILINEAR)
        if self.channels == 1:
            img = img.convert("L")
        arr = np.asarray(img, dtype=np.float32).reshape(img.height, img.width, -1) / 255.0
        x = torch.from_numpy(arr).permute(2, 0, 1).unsqueeze(0).to(self.device)
        return (x - self.mean) / self.std

    def deprocess(self, x: torch.Tensor) -> np.ndarray:
        """(1, C, h, w) model input -> RGB uint8 (h, w, 3)."""
        arr = (x.detach() * self.std + self.mean).clamp(0, 1)[0].permute(1, 2, 0).float().cpu().numpy()
        if arr.shape[2] == 1:
            arr = np.repeat(arr, 3, axis=2)
        return (arr * 255.0).round().astype(np.uint8)

    def input_range(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The valid (low, high) of model inputs per channel: pixels 0 and 1 after scaling."""
        return (0 - self.mean) / self.std, (1 - self.mean) / self.std

    # --- activations ---
    def activations(self, x: torch.Tensor, names: Iterable[str], *, shapes: bool = False) -> dict[str, torch.Tensor]:
        """Run ``x`` (1, C, h, w) until every layer in ``names`` has produced its output.

        Returns {name: output tensor}. Gradients flow if the caller enabled them (Deep Dream).
        With ``shapes=True`` returns {name: (input shape, output shape)} instead, for all ``names``.
        """
        wanted = list(dict.fromkeys(names))
        for name in wanted:
            self.check_layer(name)
        outputs: dict[str, torch.Tensor] = {}
        shape_log: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {}
        previous = getattr(_CAPTURE, "state", None)
        _CAPTURE.state = (outputs, shape_log, set(wanted), shapes)
        handles = [self.modules[name].register_forward_hook(_capture_hook(name)) for name in wanted]
        try:
            self.model(x)
        except _Enough:
            pass
        finally:
            for handle in handles:
                handle.remove()
            _CAPTURE.state = previous
        return shape_log if shapes else outputs

    @torch.no_grad()
    def predict(self, x: torch.Tensor, k: int = 5) -> list[tuple[str, float]]:
        """Top-k (class name, probability) for one preprocessed image."""
        probs = torch.softmax(self.model(x).float(), dim=1)[0]
        values, indices = probs.topk(min(k, probs.numel()))
        return [(self.classes[int(i)], float(v)) for v, i in zip(values, indices)]

    def first_conv(self) -> tuple[str, torch.Tensor]:
        """The first conv layer's name and weights (out, in, F, F), on the CPU."""
        for name, info in self.layers.items():
            if info.kind == "conv":
                return name, self.modules[name].weight.detach().float().cpu()
        raise LayerError(f"{self.key} has no conv layer")


def _forward_order(modules: dict[str, nn.Module], blocks: set[str]) -> list[tuple[str, nn.Module]]:
    """named_modules() lists a block before its children; a block's output comes after them."""
    ordered: list[tuple[str, nn.Module]] = []
    pending: list[str] = []  # blocks whose children are still being listed (innermost last)
    for name, module in modules.items():
        while pending and not name.startswith(pending[-1] + "."):
            done = pending.pop()
            ordered.append((done, modules[done]))
        if name in blocks:
            pending.append(name)
        else:
            ordered.append((name, module))
    ordered.extend((name, modules[name]) for name in reversed(pending))
    return ordered


def _capture_hook(name: str) -> Callable:
    def hook(module, inputs, output):
        state = getattr(_CAPTURE, "state", None)
        if state is None:  # a forward of another thread while our hooks were registered: not ours
            return
        outputs, shape_log, wanted, shapes_only = state
        if name not in wanted:
            return
        if shapes_only:
            shape_log[name] = (tuple(inputs[0].shape), tuple(output.shape))
        else:
            outputs[name] = output
        if len(shape_log if shapes_only else outputs) == len(wanted):
            raise _Enough
    return hook
