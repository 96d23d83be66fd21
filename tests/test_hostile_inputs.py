"""Hostile input, everywhere input enters: one parametrised AppTest matrix over every upload, text
input and extreme slider of every page.

Each case feeds one bad (or merely unusual) value, runs the page and requires:
- no traceback (``at.exception`` empty);
- either a clear message (``st.error``/``st.warning`` with words a student understands) or a
  correct result that visibly used the input (its file name or a note about it on the page);
- the page keeps working: valid input afterwards gives a normal page with no error.

A coverage test opens every page (in every data-source state) and fails if an upload or text
widget exists that the matrix does not cover, so a new input cannot slip past.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
from PIL import Image

from tests.conftest import ROOT, open_page

# --- payloads ------------------------------------------------------------------------------------


def _png(img: Image.Image, **kw) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format="PNG", **kw)
    return buffer.getvalue()


def _jpeg(img: Image.Image, **kw) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format="JPEG", quality=90, **kw)
    return buffer.getvalue()


def photo(size: int = 160) -> Image.Image:
    """A real photo (scikit-image's coffee cup), no download."""
    from skimage import data

    img = Image.fromarray(data.coffee())
    img.thumbnail((size, size))
    return img


def digit_drawing(size: int = 200, dark_on_light: bool = True) -> Image.Image:
    """A real MNIST '3' scaled up, as if photographed on paper."""
    from core.mnist import load_digits

    d = load_digits(0, 0.2)
    x = d.test_x[d.test_y == 3][0, 0].numpy()  # (28, 28) in [-1, 1], light digit on dark
    pixels = ((x + 1) * 127.5).clip(0, 255).astype(np.uint8)
    if dark_on_light:
        pixels = 255 - pixels
    return Image.fromarray(pixels, "L").resize((size, size), Image.Resampling.BILINEAR).convert("RGB")


def bomb_png(width: int = 20000, height: int = 20000) -> bytes:
    """A valid 1-bit PNG declaring width x height pixels (400 MP), ~50 kB on disk."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    row = b"\x00" + b"\x00" * ((width + 7) // 8)  # filter byte + 1-bit pixels
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def png16() -> bytes:
    gray = np.asarray(photo().convert("L"), dtype=np.uint16) * 257  # real 16-bit range
    return _png(Image.fromarray(gray.astype(np.uint16)))  # uint16 -> mode I;16


def cmyk_jpeg() -> bytes:
    return _jpeg(photo().convert("CMYK"))


def animated_gif() -> bytes:
    base = photo()
    frames = [base, base.rotate(90), base.rotate(180)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buffer.getvalue()


def exif_rotated_jpeg(img: Image.Image | None = None) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    return _jpeg((img or photo()).rotate(90, expand=True), exif=exif.tobytes())


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 3]


@dataclass(frozen=True)
class Payload:
    name: str  # file name (uploads) or a label (text)
    make: Callable[[], object]
    expect: str  # "message": an error/warning must explain; "used": a correct result using it
    words: tuple[str, ...] = ()  # for "message": one of these must appear (case-insensitive)
    shows: tuple[str, ...] = ()  # for "used" on the photo pages: all of these appear on the page


IMAGE_PAYLOADS = {
    "text-renamed-png": Payload("notes.png", lambda: b"Dear diary, this is not an image.\n" * 40, "message",
                                ("not an image", "cannot", "can't")),
    "zero-bytes": Payload("empty.png", lambda: b"", "message", ("empty", "0 bytes")),
    "truncated-png": Payload("cut.png", lambda: truncated(_png(photo(400))), "message",
                             ("truncated", "damaged", "decoded")),
    "decompression-bomb": Payload("bomb.png", bomb_png, "message", ("megapixel", "bomb", "enormous")),
    "16-bit-png": Payload("deep16.png", png16, "used", shows=("rescaled",)),
    "cmyk-jpeg": Payload("print_cmyk.jpg", cmyk_jpeg, "used", shows=("CMYK",)),
    "animated-gif": Payload("spin.gif", animated_gif, "used", shows=("first of 3 frames",)),
    # stored 107x160 with "rotate 90°": shown upright, 160 wide and 107 high, like the original
    "exif-rotated-jpeg": Payload("phone.jpg", exif_rotated_jpeg, "used", shows=("160×107", "EXIF")),
    "rgba-png": Payload("alpha.png", lambda: _png(photo().convert("RGBA")), "used", shows=("transparent",)),
    "1x1-png": Payload("dot.png", lambda: _png(Image.new("RGB", (1, 1), (200, 30, 30))), "used"),
    "1x3000-strip": Payload("strip.png", lambda: _png(Image.new("L", (3000, 1), 128)), "message",
                            ("strip", "crop")),
    "panorama-20-to-1": Payload("panorama.jpg", lambda: _jpeg(photo(400).resize((2000, 100))), "used"),
}
DIGIT_PAYLOADS = {
    **{k: v for k, v in IMAGE_PAYLOADS.items() if v.expect == "message"},
    "16-bit-png": Payload("digit16.png", lambda: _png(Image.fromarray(
        np.asarray(digit_drawing().convert("L"), dtype=np.uint16) * 257)), "used"),
    "cmyk-jpeg": Payload("digit_cmyk.jpg", lambda: _jpeg(digit_drawing().convert("CMYK")), "used"),
    "exif-rotated-jpeg": Payload("digit_phone.jpg", lambda: exif_rotated_jpeg(digit_drawing()), "used"),
    "light-on-dark": Payload("digit_dark.png", lambda: _png(digit_drawing(dark_on_light=False)), "used"),
    "blank-page": Payload("blank.png", lambda: _png(Image.new("RGB", (300, 300), "white")), "message",
                          ("no digit", "blank", "empty", "nothing", "cannot", "can't", "uniform")),
    "1x1-png": Payload("dot.png", lambda: _png(Image.new("RGB", (1, 1), (0, 0, 0))), "any"),
}
CSV_PAYLOADS = {
    "text-column": Payload("words.csv", lambda: b"x,y\none,two\nthree,four\nfive,six\n", "message",
                           ("numeric", "number", "numbers", "text")),
    "blanks": Payload("blanks.csv", lambda: b"x,y\n,\n,\n,\n", "message",
                      ("empty", "no ", "number", "numeric", "rows", "blank", "missing")),
    "single-row": Payload("one.csv", lambda: b"x,y\n1,2\n", "message", ("row", "points", "few", "values", "short")),
    "zero-bytes": Payload("empty.csv", lambda: b"", "message", ("empty", "no data", "no columns")),
    "header-only": Payload("header.csv", lambda: b"x,y\n", "message", ("row", "empty", "no ")),
    "binary-garbage": Payload("garbage.csv", lambda: bytes(range(256)) * 8, "message", ()),
    "latin-1": Payload("latin.csv", lambda: "temp\u00e9rature,valeur\n1,2\n2,3\n3,5\n".encode("latin-1"), "any"),
    "inf-and-nan": Payload("inf.csv", lambda: b"x,y\n1,inf\n2,nan\n3,-inf\n4,1e308\n", "message", ()),
    "one-column": Payload("col.csv", lambda: b"y\n1\n2\n3\n", "any"),
}
TEXTFILE_PAYLOADS = {
    "zero-bytes": Payload("empty.txt", lambda: b"", "message", ("empty",)),
    "not-utf8": Payload("latin.txt", lambda: "caf\u00e9 cr\u00e8me br\u00fbl\u00e9e ".encode("latin-1") * 50, "message",
                        ("utf-8",)),
    "binary": Payload("binary.txt", lambda: bytes(range(256)) * 20, "message", ()),
    "one-word": Payload("one.txt", lambda: b"hello", "message", ("short", "word", "few")),
    "non-ascii": Payload("poem.txt", lambda: ("Über den Wolken muss die Freiheit wohl grenzenlos sein. "
                                              "東京 の 空 は 青い 。 Ça va très bien, naïve café. " * 8).encode(),
                         "any"),
    "too-long": Payload("long.txt", lambda: ("lorem ipsum dolor sit amet " * 20000).encode(), "message",
                        ("limit", "kB", "long", "characters")),
}
LONG_TEXT = "the quick brown fox jumps over the lazy dog " * 6000  # 264k characters
# 300k characters and no space: one enormous "word". (A long text of *many* words is a valid corpus:
# the text area caps it at core.embeddings.MAX_TEXT_CHARS and trains, for minutes, with a Stop button,
# too slow for this suite; the cap itself is checked by the corpus-file "too-long" case.)
LONG_WORD = "supercalifragilistic" * 15000
TEXT_PAYLOADS = {
    "empty": Payload("", lambda: "", "message", ("empty", "type", "word", "least")),
    "one-word": Payload("one word", lambda: "hello", "message", ("short", "word", "least", "vocabulary")),
    "very-long": Payload("very long", lambda: LONG_TEXT, "message", ("limit", "characters", "long", "vocabulary", "least")),
    "very-long-word": Payload("very long word", lambda: LONG_WORD, "message",
                              ("limit", "characters", "long", "vocabulary", "least", "word")),
    "non-ascii": Payload("non-ASCII", lambda: "naïve café 東京 😀 Ünïcödé straße", "any"),
    "html-script": Payload("html", lambda: "<script>alert('x')</script> <b>bold</b> **md** [a](javascript:alert(1))",
                           "any"),
}

# --- the pages' inputs ---------------------------------------------------------------------------

P_REG, P_DB, P_CNN, P_LSTM = ("pages/1_Regression.py", "pages/2_Decision_Boundary.py",
                              "pages/3_CNN_Feature_Maps.py", "pages/4_LSTM_Forecasting.py")
P_EMB, P_AE, P_GAN, P_DD = ("pages/5_Word_Embeddings.py", "pages/6_Autoencoder.py", "pages/7_GAN.py",
                            "pages/8_Deep_Dream.py")
EMB_SOURCES = ("Sonnet 2 (tutorial)", "Paste text", "Upload a .txt file")


@dataclass(frozen=True)
class Target:
    page: str
    kind: str  # file_uploader | text_input | text_area
    key: str
    payloads: dict
    setup: tuple[tuple[str, str, object], ...] = ()  # (accessor, key, value) applied first
    valid: Payload | None = None  # what "the page keeps working" is checked with
    used: Callable | None = field(default=None, compare=False)  # extra check that the input was used


GOOD_PHOTO = Payload("good_photo.jpg", lambda: _jpeg(photo(320)), "used")
GOOD_DIGIT = Payload("good_digit.png", lambda: _png(digit_drawing()), "used")
GOOD_CSV = Payload("good.csv", lambda: ("x,y\n" + "".join(f"{i / 10},{(i / 10) ** 2 + 1}\n" for i in range(40))).encode(),
                   "used")
GOOD_SERIES = Payload("good_series.csv", lambda: ("month,value\n" + "".join(
    f"2000-{1 + i % 12:02d}-01,{100 + 10 * np.sin(i / 2):.3f}\n".replace("2000", str(2000 + i // 12))
    for i in range(72))).encode(), "used")
GOOD_TEXTFILE = Payload("good.txt", lambda: ("the cat sat on the mat and the dog sat on the log " * 12).encode(), "used")
GOOD_CORPUS = Payload("good corpus", lambda: "the cat sat on the mat and the dog sat on the log " * 12, "used")
GOOD_CONTEXT = Payload("good context", lambda: "so gazed", "used")
GOOD_WORD = Payload("good word", lambda: "thou", "used")

TARGETS = {
    "cnn-photo": Target(P_CNN, "file_uploader", "cnn_upload", IMAGE_PAYLOADS, valid=GOOD_PHOTO),
    "dream-photo": Target(P_DD, "file_uploader", "dd_upload", IMAGE_PAYLOADS, valid=GOOD_PHOTO),
    "ae-digit": Target(P_AE, "file_uploader", "ae_upload", DIGIT_PAYLOADS, valid=GOOD_DIGIT),
    "regression-csv": Target(P_REG, "file_uploader", "reg_csv", CSV_PAYLOADS,
                             setup=(("radio", "reg_dataset", "custom"),), valid=GOOD_CSV),
    "lstm-csv": Target(P_LSTM, "file_uploader", "lstm_csv", CSV_PAYLOADS,
                       setup=(("radio", "lstm_source", "custom"),), valid=GOOD_SERIES),
    "corpus-file": Target(P_EMB, "file_uploader", "emb_corpus_file", TEXTFILE_PAYLOADS,
                          setup=(("radio", "emb_source", EMB_SOURCES[2]),), valid=GOOD_TEXTFILE),
    "corpus-text": Target(P_EMB, "text_area", "emb_corpus_text", {k: v for k, v in TEXT_PAYLOADS.items() if k != "very-long"},
                          setup=(("radio", "emb_source", EMB_SOURCES[1]),), valid=GOOD_CORPUS),
    "next-word-context": Target(P_EMB, "text_input", "emb_context_text", TEXT_PAYLOADS, valid=GOOD_CONTEXT),
    "analogy-a": Target(P_EMB, "text_input", "emb_an_a", TEXT_PAYLOADS, valid=GOOD_WORD),
    "analogy-b": Target(P_EMB, "text_input", "emb_an_b", TEXT_PAYLOADS, valid=GOOD_WORD),
    "analogy-c": Target(P_EMB, "text_input", "emb_an_c", TEXT_PAYLOADS, valid=GOOD_WORD),
}
# Texts that short inputs legitimately accept (a one-word context is enough for a context size 1..)
# are "any": no traceback, and the page still works afterwards.
TEXT_ANY_FOR = {"next-word-context": {"one-word", "empty"}, "analogy-a": {"one-word"},
                "analogy-b": {"one-word"}, "analogy-c": {"one-word"}}

# The data-source states in which each page shows its inputs (for the coverage test).
PAGE_STATES: dict[str, list[tuple[tuple[str, str, object], ...]]] = {
    P_REG: [(), (("radio", "reg_dataset", "custom"),)],
    P_DB: [()],
    P_CNN: [()],
    P_LSTM: [(), (("radio", "lstm_source", "custom"),)],
    P_EMB: [(), (("radio", "emb_source", EMB_SOURCES[1]),), (("radio", "emb_source", EMB_SOURCES[2]),),
            (("radio", "emb_model", "word2vec (skip-gram, negative sampling)"),)],  # opened on the N-gram
    P_AE: [()],
    P_GAN: [()],
    P_DD: [()],
}
INPUT_KINDS = ("file_uploader", "text_input", "text_area", "chat_input", "camera_input")


# --- helpers -------------------------------------------------------------------------------------


def widget(at, kind: str, key: str):
    """The widget of this kind with this key (a trailing "*" matches a key prefix)."""
    for w in at.get(kind):
        wkey = getattr(w, "key", None) or ""
        if wkey == key or (key.endswith("*") and wkey.startswith(key[:-1])):
            return w
    return None


def apply_setup(at, setup) -> None:
    for kind, key, value in setup:
        w = widget(at, kind, key)
        assert w is not None, f"setup widget {kind} {key!r} not on the page"
        w.set_value(value)
        at.run()
        assert not at.exception, [e.value for e in at.exception]


def feed(at, target: Target, payload: Payload) -> None:
    w = widget(at, target.kind, target.key)
    assert w is not None, f"{target.kind} {target.key!r} not on {target.page} (did the page change?)"
    value = payload.make()
    if target.kind == "file_uploader":
        w.set_value((payload.name, value, "application/octet-stream"))
    else:
        w.set_value(value)
    at.run()


def messages(at) -> list[str]:
    return [str(e.value) for e in at.error] + [str(e.value) for e in at.warning]


def page_text(at) -> str:
    """Everything a reader sees as text, image captions included."""
    parts = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "title", "header", "subheader",
                 "metric", "latex", "code"):
        for el in at.get(kind):
            parts.append(str(getattr(el, "value", "")))
            parts.append(str(getattr(el, "label", "")))
    for node in at.get("image"):  # st.image: captions live in the ImageList proto
        for img in getattr(node.proto, "imgs", []) or []:
            parts.append(img.caption)
    return "\n".join(parts)


def exceptions(at) -> list[str]:
    return [f"{e.value}\n{''.join(getattr(e, 'stack_trace', []) or [])}"[:2000] for e in at.exception]


def check_used(target: Target, payload: Payload, at) -> None:
    """The page visibly used the input: its file name on the page (image captions show it), or
    the input's words (texts). Uploads of digits show the marker panel."""
    text = page_text(at)
    if target.key == "ae_upload":
        assert "Your upload" in text or "Code:" in text, "the autoencoder page did not show the uploaded digit"
    elif target.kind == "file_uploader" and target.key in ("cnn_upload", "dd_upload"):
        assert payload.name in text, f"{payload.name} not shown: the page kept the sample"
        for words in payload.shows:
            if "×" in words and target.key == "dd_upload":
                continue  # Deep Dream shows the size under the dream: checked after dreaming
            assert words in text, f"{payload.name}: expected {words!r} on the page"
    elif target.key in ("reg_csv", "lstm_csv", "emb_corpus_file", "emb_corpus_text"):
        pass  # checked through "no error" plus the page's own charts below


CASES = [
    pytest.param(name, pname, id=f"{name}:{pname}")
    for name, target in TARGETS.items()
    for pname in target.payloads
]


# --- the matrix ----------------------------------------------------------------------------------


@pytest.mark.parametrize("target_name, payload_name", CASES)
def test_hostile_input(target_name, payload_name):
    target = TARGETS[target_name]
    payload = target.payloads[payload_name]
    assert (ROOT / target.page).is_file(), f"{target.page} is missing"
    at = open_page(target.page)
    assert not at.exception, exceptions(at)
    apply_setup(at, target.setup)

    feed(at, target, payload)
    assert not at.exception, f"traceback for {payload_name}: {exceptions(at)}"
    expect = payload.expect
    if target.kind != "file_uploader" and payload_name in TEXT_ANY_FOR.get(target_name, ()):
        expect = "any"
    shown = messages(at)
    if expect == "message":
        assert shown, f"{payload_name}: no message for the user (page text: {page_text(at)[:300]!r})"
        if payload.words:
            joined = " ".join(shown).lower()
            assert any(w.lower() in joined for w in payload.words), f"{payload_name}: unclear message {shown}"
    elif expect == "used":
        assert not at.error, f"{payload_name} should work: {[e.value for e in at.error]}"
        check_used(target, payload, at)
        if target.key == "dd_upload":  # accepted photos must also dream without a traceback
            widget(at, "button", "dd_run").click()
            at.run()
            assert not at.exception, f"dreaming on {payload_name}: {exceptions(at)}"
            for words in payload.shows:
                if "×" in words:  # the dream keeps the upright photo's size
                    assert words in page_text(at), f"dream of {payload.name}: expected {words!r}"

    # the page keeps working: valid input afterwards gives a normal page
    if target.valid is not None:
        feed(at, target, target.valid)
        if target.key == "dd_upload":  # a dream already shown stays until Dream is pressed again
            widget(at, "button", "dd_run").click()
            at.run()
        assert not at.exception, f"after {payload_name}, valid input raised: {exceptions(at)}"
        assert not at.error, f"after {payload_name}, valid input shows errors: {[e.value for e in at.error]}"
        check_used(target, target.valid, at)
        assert at.get("plotly_chart") or at.get("image"), "no chart or image after valid input"


# --- extreme sliders -----------------------------------------------------------------------------

# (page, [(accessor, key, value)]) — value "max"/"min" = the widget's extreme option
EXTREMES = {
    "regression-highest-lr": (P_REG, [("select_slider", "reg_lr", "max")]),
    "regression-largest": (P_REG, [("slider", "reg_degree", "max"), ("slider", "reg_samples", "max"),
                                   ("slider", "reg_noise", "max"), ("slider", "reg_test", "max")]),
    "regression-no-standardise": (P_REG, [("checkbox", "reg_std", False), ("slider", "reg_degree", "max"),
                                          ("select_slider", "reg_lr", "max")]),
    "boundary-highest-lr": (P_DB, [("select_slider", "lr_lr", "max")]),
    "boundary-largest": (P_DB, [("slider", "lr_layers", "max"), ("slider", "lr_units", "max"),
                                ("slider", "lr_points", "max"), ("slider", "lr_noise", "max")]),
    "boundary-smallest": (P_DB, [("slider", "lr_units", "min"), ("slider", "lr_points", "min"),
                                 ("slider", "lr_test", "max")]),
    "boundary-threshold-edges": (P_DB, [("slider", "lr_threshold", "max")]),
    "cnn-largest-k": (P_CNN, [("slider", "cnn_k", "max"), ("slider", "cnn_alpha", "max")]),
    "lstm-highest-lr": (P_LSTM, [("select_slider", "lstm_lr", "max")]),
    "lstm-largest": (P_LSTM, [("slider", "lstm_look_back", "max"), ("select_slider", "lstm_hidden", "max"),
                              ("slider", "lstm_train_frac", "max"), ("slider", "lstm_horizon", "max")]),
    "lstm-smallest": (P_LSTM, [("slider", "lstm_look_back", "min"), ("select_slider", "lstm_hidden", "min"),
                               ("slider", "lstm_train_frac", "min")]),
    "embeddings-highest-lr": (P_EMB, [("select_slider", "emb_lr", "max")]),
    "embeddings-largest": (P_EMB, [("slider", "emb_context", "max"), ("slider", "emb_dim", "max"),
                                   ("select_slider", "emb_batch", "max")]),
    "embeddings-smallest": (P_EMB, [("slider", "emb_context", "min"), ("slider", "emb_dim", "min"),
                                    ("select_slider", "emb_batch", "min"), ("slider", "emb_epochs", "min")]),
    "autoencoder-highest-lr": (P_AE, [("select_slider", "ae_lr", "max"), ("slider", "ae_epochs", "min")]),
    "gan-highest-lr": (P_GAN, [("select_slider", "gan_lr", "max"), ("slider", "gan_iterations_*", "min")]),
    "dream-largest-channel": (P_DD, [("number_input", "dd_channel", "max"), ("button", "dd_run", "click")]),
    "dream-strongest": (P_DD, [("slider", "dd_step", "max"), ("slider", "dd_jitter", "max"),
                               ("slider", "dd_iterations", "min"), ("button", "dd_run", "click")]),
}


def extreme_value(w, which):
    if which not in ("max", "min"):
        return which
    options = list(getattr(w, "options", []) or [])
    if options:
        value = options[-1] if which == "max" else options[0]
        try:
            return type(w.value)(value)
        except (TypeError, ValueError):
            return value
    return w.max if which == "max" else w.min


@pytest.mark.parametrize("case", sorted(EXTREMES))
def test_extreme_settings(case):
    page, settings = EXTREMES[case]
    at = open_page(page)
    assert not at.exception, exceptions(at)
    originals = []
    for kind, key, which in settings:
        w = widget(at, kind, key)
        assert w is not None, f"{kind} {key!r} not on {page}"
        if kind == "button":
            w.click()
            continue
        originals.append((kind, key, w.value))
        w.set_value(extreme_value(w, which))
    at.run()
    assert not at.exception, f"{case}: {exceptions(at)}"
    if "highest-lr" in case and at.error:
        joined = " ".join(str(e.value) for e in at.error).lower()
        assert "learning rate" in joined or "diverged" in joined, f"unclear message: {joined[:300]}"
    if not at.error:
        assert at.get("plotly_chart") or at.get("image"), f"{case}: no chart, no image, no message"
    # back to the original settings: the page works as before
    for kind, key, value in originals:
        widget(at, kind, key).set_value(value)
    for kind, key, _which in settings:
        if kind == "button":  # e.g. Dream again with sane settings
            widget(at, kind, key).click()
    at.run()
    assert not at.exception and not at.error, exceptions(at) + [str(e.value) for e in at.error]


# --- nothing slips past the matrix ---------------------------------------------------------------


@pytest.mark.parametrize("page", sorted(PAGE_STATES))
def test_every_input_is_in_the_matrix(page):
    covered = {(t.kind, t.key) for t in TARGETS.values() if t.page == page}
    at = open_page(page)
    assert not at.exception, exceptions(at)
    found = set()
    for setup in PAGE_STATES[page]:
        if setup:
            at = open_page(page)
            apply_setup(at, setup)
        for kind in INPUT_KINDS:
            for w in at.get(kind):
                found.add((kind, w.key))
    missing = found - covered
    assert not missing, f"inputs on {page} not covered by the hostile matrix: {sorted(missing)}"
    stale = covered - found
    assert not stale, f"the matrix names inputs {page} no longer has: {sorted(stale)}"
