"""Shared inputs of the vision pages: one image picker (sample photo or upload) and one model picker.

The image widget never lets a bad file break the page: core.images.load_image refuses it with a
message, which is shown, and the page carries on with the sample photo.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import streamlit as st

from core.images import EXTENSIONS, SAMPLE_NAMES, ImageInputError, LoadedImage, load_image, sample_image
from ui.frame import show_error

SAMPLE_CAPTIONS = {
    "chelsea": "Chelsea the cat",
    "coffee": "a cup of coffee",
    "astronaut": "astronaut Eileen Collins",
    "rocket": "a rocket on the launch pad",
}


@dataclass(frozen=True)
class PickedImage:
    pixels: np.ndarray  # RGB uint8 (H, W, 3)
    label: str  # "sample: chelsea" or the uploaded file's name
    digest: str  # content hash: the cache key for anything computed from the image
    uploaded: bool
    notes: tuple[str, ...] = ()


@st.cache_data(show_spinner=False, max_entries=16)
def _sample(name: str) -> np.ndarray:
    return sample_image(name)


@st.cache_data(show_spinner="Decoding the image…", max_entries=8)
def _decode(data: bytes) -> LoadedImage:
    return load_image(data)  # ImageInputError is not cached: a bad file is re-checked, cheaply


@st.cache_data(show_spinner=False, max_entries=32)
def _digest(pixels: np.ndarray) -> str:
    from core.images import image_hash

    return image_hash(pixels)


def image_input(key: str, *, default: str = "chelsea", container=None) -> PickedImage:
    """Sample selectbox + uploader (in the sidebar by default). A valid upload replaces the sample;
    a bad one shows an error and the sample is used."""
    box = container if container is not None else st.sidebar
    with box:
        st.subheader("Image")
        name = st.selectbox("Sample photo", SAMPLE_NAMES, index=SAMPLE_NAMES.index(default),
                            format_func=lambda n: f"{n} ({SAMPLE_CAPTIONS.get(n, n)})", key=f"{key}_sample",
                            help="Photos bundled with scikit-image; nothing is downloaded.")
        upload = st.file_uploader("…or upload your own photo", type=list(EXTENSIONS), key=f"{key}_upload",
                                  help="PNG, JPEG, WebP, BMP, TIFF or GIF (first frame). Large photos are "
                                       "downscaled; the file stays in this session only.")
        if upload is not None:
            try:
                loaded = _decode(upload.getvalue())
            except ImageInputError as exc:
                show_error(f"{exc} Showing the sample photo instead.", f"{upload.name} can't be used", icon="🖼️")
            else:
                for note in loaded.notes:
                    st.caption(f"ℹ️ {note}")
                return PickedImage(loaded.pixels, upload.name, _digest(loaded.pixels), True, loaded.notes)
    pixels = _sample(name)
    return PickedImage(pixels, f"sample: {name}", _digest(pixels), False)


# --- models ------------------------------------------------------------------------------------


@st.cache_resource(show_spinner="Loading EfficientNet-Lite0…")
def lite0():
    from core import pretrained

    return pretrained.load_lite0()


@st.cache_resource(show_spinner=False)
def _vgg16_loaded():
    """VGG16 once its weights are on disk (no download here: see vgg16_download)."""
    from core import pretrained

    return pretrained.load_vgg16()


def _download_vgg16(progress: Callable[[int, int], object]) -> None:
    from core import pretrained

    pretrained.download_vgg16(progress)


def model_picker(key: str, options: tuple[str, ...] = ("lite0", "digits", "vgg16")):
    """A model selectbox in the sidebar; returns a ready core.vision.Backbone.

    VGG16 is opt-in: until its weights are on disk, choosing it shows a download button; offline or
    on failure a clear message is shown and the bundled EfficientNet-Lite0 is used instead.
    """
    from core import pretrained

    with st.sidebar:
        st.subheader("Model")
        choice = st.selectbox("Network", options, format_func=pretrained.MODEL_LABELS.get, key=f"{key}_model")
    if choice == "digits":
        return _digits_backbone(key)
    if choice == "vgg16":
        backbone = _vgg16_flow(key)
        if backbone is not None:
            return backbone
    return lite0()


def _digits_backbone(key: str):
    from core import digits, pretrained
    from ui.jobs import report, train_live

    cfg = digits.Config()  # shipped as a checkpoint (assets/checkpoints), else trained once (~10 s)
    job = train_live(digits, cfg, label=f"Training the digits CNN ({cfg.epochs} epochs on 4,000 MNIST digits)",
                     chart_keys=("loss", "test_loss"), key=f"{key}_digits")
    if not report(job):
        st.info("Using EfficientNet-Lite0 instead.")
        return lite0()
    accuracy = job.history[-1].get("test_acc") if job.history else None
    return pretrained.wrap_digits(job.model, accuracy)


def _vgg16_flow(key: str):
    from core import pretrained

    if pretrained.vgg16_available():
        try:
            return _vgg16_loaded()
        except pretrained.ModelUnavailable as exc:
            show_error(exc, "VGG16 is not available", icon=":material/wifi_off:")
            return None
    failed = st.session_state.get(f"{key}_vgg_error")
    st.info("VGG16 (the tutorial's Deep Dream network) needs a one-time **528 MB** download of "
            "torchvision's ImageNet weights. Until then the page shows EfficientNet-Lite0.", icon="⬇️")
    if st.button("Download VGG16 weights (528 MB)", key=f"{key}_vgg_download"):
        bar = st.progress(0.0, text="Connecting…")

        def progress(done: int, total: int) -> None:
            bar.progress(min(done / max(total, 1), 1.0), text=f"{done / 1e6:.0f} / {total / 1e6:.0f} MB")

        try:
            _download_vgg16(progress)
        except pretrained.ModelUnavailable as exc:
            bar.empty()
            st.session_state[f"{key}_vgg_error"] = str(exc)
            failed = str(exc)
        else:
            st.session_state.pop(f"{key}_vgg_error", None)
            st.rerun()
    if failed:
        show_error(failed, "Download failed", icon=":material/wifi_off:")
    return None
