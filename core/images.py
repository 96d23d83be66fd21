"""Images in and out: uploads turned into clean RGB arrays (or a clear error), and the arrays the
pages show (mosaics of tiles, crisp enlargements, PNG bytes).

Uploads: handles what real photos and hostile files throw at an app (each seen with Pillow 13):
EXIF rotation, grayscale/palette/alpha/CMYK/16-bit modes, animated GIFs (first frame), huge
images (refused before decoding above a hard limit, downscaled above a soft one), and files that
are not images, empty or truncated. Nothing is written to disk; nothing is unpickled.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# --- uploads ---------------------------------------------------------------------------------

# Refuse anything above this before decoding: 50 MP covers any camera photo, while a 20000x20000
# "decompression bomb" PNG (48 KB on disk, 1.2 GB decoded) is rejected from its header alone.
MAX_PIXELS = 50_000_000
# Larger images are downscaled on load to this longest side; the models work far below it.
MAX_SIDE = 2048
# Thinner strips are refused: downscaled for display they round to 0 px and st.image raises
# (a 3000x1 PNG crashed the vision pages), and no CNN sees anything in them anyway.
MAX_ASPECT = 25
FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF", "MPO")
EXTENSIONS = ("png", "jpg", "jpeg", "webp", "bmp", "tif", "tiff", "gif")
SAMPLE_NAMES = ("chelsea", "coffee", "astronaut", "rocket")


class ImageInputError(ValueError):
    """An upload that cannot be used, with a message meant for the person who uploaded it."""


@dataclass(frozen=True)
class LoadedImage:
    """An RGB image as uint8 (H, W, 3) plus what was done to it, for the page to mention."""

    pixels: np.ndarray
    notes: tuple[str, ...] = ()


def _to_rgb(img: Image.Image, notes: list[str]) -> Image.Image:
    """Any Pillow mode -> RGB, compositing transparency onto white."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # 16-bit/32-bit grayscale: convert("L") would clip at 255 and turn everything white,
        # so stretch the real value range to 0..255 first.
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        scaled = (arr - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(arr)
        notes.append(f"{img.mode} image rescaled from its {lo:g}–{hi:g} range to 8 bits")
        img = Image.fromarray(scaled.round().astype(np.uint8), "L")
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        notes.append("transparent areas filled with white")
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    if img.mode == "CMYK":
        notes.append("CMYK converted to RGB")
    if img.mode in ("1", "L"):
        notes.append("grayscale image shown as RGB")
    return img.convert("RGB")


def load_image(data: bytes, *, max_pixels: int = MAX_PIXELS, max_side: int = MAX_SIDE) -> LoadedImage:
    """Decode uploaded bytes into an RGB uint8 array, or raise ImageInputError saying why."""
    if not data:
        raise ImageInputError("The file is empty (0 bytes). Please choose an image file.")
    notes: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))  # reads the header only
    except Image.DecompressionBombError:
        raise ImageInputError(
            "This image declares an enormous size (a 'decompression bomb'); it was refused "
            "before decoding. Please upload a normal photo."
        ) from None
    except UnidentifiedImageError:
        raise ImageInputError(
            "This file is not an image Pillow can read. Upload a PNG, JPEG, WebP, BMP, TIFF or GIF."
        ) from None
    if img.format not in FORMATS:
        raise ImageInputError(f"{img.format} images are not supported; use PNG, JPEG, WebP, BMP, TIFF or GIF.")
    width, height = img.size
    if width * height > max_pixels:
        raise ImageInputError(
            f"This image is {width}×{height} = {width * height / 1e6:.0f} megapixels, over the "
            f"{max_pixels / 1e6:.0f} MP limit. Please downscale it first."
        )
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise ImageInputError(
            f"This image is {width}×{height} pixels, a strip more than {MAX_ASPECT} times longer than "
            "it is wide. Please crop it to a normal photo shape."
        )
    if getattr(img, "n_frames", 1) > 1:
        notes.append(f"animated image: using the first of {img.n_frames} frames")
        img.seek(0)
    try:
        if img.format == "JPEG" and max(width, height) > 2 * max_side:
            img.draft("RGB", (max_side, max_side))  # decode JPEG at reduced scale: much cheaper
        img.load()
        orientation = img.getexif().get(0x0112, 1)
        img = ImageOps.exif_transpose(img)
        if orientation not in (1, None):
            notes.append("rotated according to the camera's EXIF orientation")
        img = _to_rgb(img, notes)
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageInputError(
            f"The image could not be decoded; the file looks truncated or damaged ({exc})."
        ) from None
    if max(img.size) > max_side:
        notes.append(f"downscaled from {img.width}×{img.height} to fit {max_side} px")
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return LoadedImage(np.asarray(img, dtype=np.uint8).copy(), tuple(notes))


# --- arrays in, arrays out ------------------------------------------------------------------


def sample_image(name: str) -> np.ndarray:
    """One of scikit-image's bundled photos as RGB uint8 (H, W, 3); no download."""
    if name not in SAMPLE_NAMES:
        raise ValueError(f"Unknown sample {name!r}; choose one of {', '.join(SAMPLE_NAMES)}")
    from skimage import data as skdata  # imported here: scikit-image is slow to import

    pixels = getattr(skdata, name)()
    if pixels.ndim == 2:
        pixels = np.stack([pixels] * 3, axis=-1)
    return np.ascontiguousarray(pixels[..., :3], dtype=np.uint8)


def resize_longest(pixels: np.ndarray, longest: int) -> np.ndarray:
    """Resize an RGB uint8 array so its longest side is ``longest`` (keeps aspect ratio)."""
    h, w = pixels.shape[:2]
    scale = longest / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.LANCZOS), dtype=np.uint8)


def to_png_bytes(pixels: np.ndarray, text: dict[str, str] | None = None) -> bytes:
    """Encode an RGB uint8 array as PNG, with optional tEXt metadata (e.g. the parameters used)."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def as_rgb_uint8(image: np.ndarray) -> np.ndarray:
    """Gray (H, W), RGBA, 16-bit or float arrays -> RGB uint8 (H, W, 3), as load_image does for files."""
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4) or min(arr.shape[:2]) < 1:
        raise ValueError(f"Expected an image array (H, W), (H, W, 3) or (H, W, 4), got shape {arr.shape}")
    if arr.shape[2] == 4:  # composite onto white, as load_image does
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


def upscale(image: np.ndarray, factor: int = 2) -> np.ndarray:
    """Nearest-neighbour enlargement of a uint8 image (H, W) -> (H*f, W*f), so browsers show crisp
    pixels instead of blurring a 28x28 digit."""
    return np.kron(image, np.ones((factor, factor), dtype=image.dtype))


def mosaic(tiles: np.ndarray, ncols: int = 8, pad: int = 2, pad_value: int = 64,
           scale_each: bool = False) -> np.ndarray:
    """Tiles (N, H, W) gray or (N, H, W, 3) RGB -> one uint8 mosaic, (R, C) or (R, C, 3), with
    ``ncols`` tiles per row and ``pad`` pixels of ``pad_value`` (0..255) around every tile.

    uint8 tiles are placed as they are. With ``scale_each`` each tile is first stretched from its
    own min..max to 0..255 (conv filters, whose weights have no fixed range). Built on
    torchvision's make_grid, so its rules apply: fewer than ``ncols`` tiles make a single, shorter
    row, and a single tile comes back as it is, without a border.
    """
    import torch  # imported here: uploads need neither torch nor torchvision (slow to import)
    from torchvision.utils import make_grid

    arr = np.asarray(tiles)
    gray = arr.ndim == 3
    x = torch.from_numpy(np.ascontiguousarray(arr[..., None] if gray else arr)).permute(0, 3, 1, 2)  # (N, C, H, W)
    if scale_each:
        grid = make_grid(x.float(), nrow=ncols, padding=pad, normalize=True, scale_each=True,
                         pad_value=pad_value / 255)  # (3, R, C) in 0..1
        grid = (grid * 255).round().to(torch.uint8)
    else:
        grid = make_grid(x, nrow=ncols, padding=pad, pad_value=pad_value)  # (3, R, C): gray is copied to 3
    out = grid.permute(1, 2, 0).numpy()
    return np.ascontiguousarray(out[..., 0] if gray else out)
