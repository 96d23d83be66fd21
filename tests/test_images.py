"""core.images.load_image against real photos' quirks and hostile files. Every file is made here.

The byte builders are shared with the page tests (bad uploads must show an error on the page)."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from core.images import MAX_SIDE, ImageInputError, load_image, to_png_bytes

# --- builders ------------------------------------------------------------------------------------


def encode(img: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def bomb_png(side: int = 20000) -> bytes:
    """A real, valid 1-bit PNG of side x side black pixels: ~48 KB on disk, 400 MP decoded."""
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + packed bits
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1 bit, grayscale
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def photo(width: int = 64, height: int = 48) -> np.ndarray:
    """A smooth colour gradient (RGB uint8), so lossy formats stay close to it."""
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x * 255 // max(width - 1, 1), y * 255 // max(height - 1, 1),
                     np.full_like(x, 128)], axis=-1).astype(np.uint8)


def text_as_png() -> bytes:
    return b"This is a shopping list, not a picture.\nmilk\neggs\n"


def truncated_png() -> bytes:
    data = to_png_bytes(np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8))
    return data[: len(data) // 2]


BAD_FILES = {  # name -> (bytes, a word the error message must contain)
    "notes.png": (text_as_png(), "not an image"),
    "empty.png": (b"", "empty"),
    "truncated.png": (truncated_png(), "truncated"),
    "bomb.png": (bomb_png(), "decompression bomb"),
}

# --- hostile files -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_files_are_refused_with_a_clear_message(name):
    data, word = BAD_FILES[name]
    with pytest.raises(ImageInputError, match=word):
        load_image(data)


def test_bomb_is_small_on_disk_but_huge_declared():
    data = bomb_png()
    assert len(data) < 100_000
    width, height = struct.unpack(">II", data[16:24])  # the IHDR fields: what a decoder would allocate
    assert width * height == 400_000_000


def test_over_the_pixel_limit_is_refused_before_decoding():
    with pytest.raises(ImageInputError, match="megapixels"):
        load_image(bomb_png(8000))  # 64 MP: under Pillow's own bomb limit, over ours


def test_large_image_is_downscaled_with_a_note():
    img = Image.new("RGB", (MAX_SIDE * 2, 600), (10, 200, 30))
    loaded = load_image(encode(img, "PNG"))
    assert max(loaded.pixels.shape[:2]) == MAX_SIDE
    assert loaded.pixels.shape[:2] == (300, MAX_SIDE)  # aspect ratio kept
    assert any("downscaled" in note for note in loaded.notes)


# --- modes and formats ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF"])
def test_every_accepted_format_decodes_to_rgb(fmt):
    pixels = photo()
    loaded = load_image(encode(Image.fromarray(pixels), fmt))
    assert loaded.pixels.dtype == np.uint8 and loaded.pixels.shape == pixels.shape
    tolerance = 40 if fmt in ("JPEG", "WEBP", "GIF") else 0  # lossy / 256-colour formats
    assert np.abs(loaded.pixels.astype(int) - pixels).mean() <= max(tolerance / 4, 0.01)


def test_16bit_png_uses_its_real_range_instead_of_turning_white():
    gradient = np.linspace(0, 4000, 64 * 32).reshape(32, 64).astype(np.uint16)  # a dark 16-bit scan
    loaded = load_image(encode(Image.fromarray(gradient), "PNG"))
    gray = loaded.pixels[..., 0].astype(int)
    assert loaded.pixels.shape == (32, 64, 3)
    assert gray.min() <= 2 and gray.max() >= 253, "the value range must be stretched to 0..255"
    assert np.all(np.diff(gray.ravel()) >= 0), "order of values preserved"
    assert any("rescaled" in note for note in loaded.notes)


def test_cmyk_jpeg_comes_out_as_rgb():
    cmyk = Image.new("CMYK", (32, 24), (0, 255, 255, 0))  # pure red in CMYK
    loaded = load_image(encode(cmyk, "JPEG", quality=95))
    r, g, b = loaded.pixels.reshape(-1, 3).mean(axis=0)
    assert r > 200 and g < 60 and b < 60
    assert any("CMYK" in note for note in loaded.notes)


def test_rgba_transparency_becomes_white():
    rgba = np.zeros((20, 20, 4), dtype=np.uint8)
    rgba[..., 2] = 255  # blue...
    rgba[:, :10, 3] = 255  # ...opaque on the left, fully transparent on the right
    loaded = load_image(encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert tuple(loaded.pixels[5, 2]) == (0, 0, 255)
    assert tuple(loaded.pixels[5, 15]) == (255, 255, 255)


def test_palette_png_keeps_its_colours():
    img = Image.new("P", (16, 8))
    img.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    img.paste(1, (8, 0, 16, 8))
    loaded = load_image(encode(img, "PNG"))
    assert tuple(loaded.pixels[0, 0]) == (255, 0, 0) and tuple(loaded.pixels[0, 12]) == (0, 255, 0)


def test_animated_gif_uses_the_first_frame():
    frames = [Image.new("RGB", (16, 16), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    loaded = load_image(data)
    assert tuple(loaded.pixels[8, 8]) == (255, 0, 0)
    assert any("first of 3 frames" in note for note in loaded.notes)


def test_exif_rotation_is_applied():
    # Stored 40 wide x 20 tall, red left / blue right, with EXIF "rotate 90° clockwise to view" (6).
    stored = np.zeros((20, 40, 3), dtype=np.uint8)
    stored[:, :20] = (255, 0, 0)
    stored[:, 20:] = (0, 0, 255)
    img = Image.fromarray(stored)
    exif = img.getexif()
    exif[0x0112] = 6
    loaded = load_image(encode(img, "JPEG", quality=95, exif=exif.tobytes()))
    assert loaded.pixels.shape == (40, 20, 3), "portrait after rotation"
    top, bottom = loaded.pixels[5, 10].astype(int), loaded.pixels[35, 10].astype(int)
    assert top[0] > 200 and top[2] < 60, "the stored left (red) is on top after a clockwise turn"
    assert bottom[2] > 200 and bottom[0] < 60
    assert any("EXIF" in note for note in loaded.notes)


def test_grayscale_jpeg_becomes_three_equal_channels():
    gray = Image.fromarray(photo()[..., 0], "L")
    loaded = load_image(encode(gray, "JPEG", quality=95))
    assert loaded.pixels.shape[2] == 3
    assert np.array_equal(loaded.pixels[..., 0], loaded.pixels[..., 1])


def test_png_text_metadata_round_trips():
    data = to_png_bytes(photo(), {"Parameters": "layer=blocks.11, octaves=4"})
    assert Image.open(io.BytesIO(data)).text["Parameters"] == "layer=blocks.11, octaves=4"
