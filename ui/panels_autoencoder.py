"""Widget groups and panels of the autoencoder page: the data source, the 3-D latent explorer, the
walk between two digits, the user's own digit, and the plain AE next to the VAE."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import streamlit as st

from core import autoencoder as ae
from core.images import ImageInputError, load_image, upscale as big  # big: crisp 28x28 pixels, not a blur
from core.mnist import DatasetUnavailable, digit_from_image, full_mnist_downloaded, load_digits, to_uint8
from ui.charts_autoencoder import plane_figure, scatter3d
from ui.frame import show_error
from ui.jobs import model_id, report, train_live

# --- the data source -------------------------------------------------------------------------


def _switch_source(target: str) -> None:
    """Button callback (runs before the script, so it may reset the epochs slider)."""
    st.session_state.pop("ae_source_msg", None)
    if target == "full":
        try:
            load_digits(0, 0.2, "full")  # downloads once (~11 MB), then cached on disk and in memory
        except DatasetUnavailable as exc:
            st.session_state["ae_source_msg"] = str(exc)
            return
        st.session_state["ae_epochs_bundled"] = st.session_state.get("ae_epochs", 100)
        st.session_state["ae_epochs"] = 10  # 56,000 training digits: one epoch = 14 bundled ones
    else:
        st.session_state["ae_epochs"] = st.session_state.pop("ae_epochs_bundled", 100)
    st.session_state["ae_source"] = target


def data_source() -> str:
    """The digits to train on ("bundled" or "full"), with the button that switches."""
    source = st.session_state.setdefault("ae_source", "bundled")
    if source == "bundled":
        st.caption("5,000 real MNIST digits shipped with the app: 4,000 to train on, 1,000 held out.")
        label = "Use full MNIST (70,000 digits)" + ("" if full_mnist_downloaded() else ", downloads 11 MB")
        st.button(label, key="ae_full_mnist", on_click=_switch_source, args=("full",))
    else:
        st.caption("Full MNIST: 56,000 digits to train on, 14,000 held out. Epochs are 14× longer.")
        st.button("Back to the 5,000 bundled digits", key="ae_bundled", on_click=_switch_source, args=("bundled",))
    if "ae_source_msg" in st.session_state:
        st.warning(st.session_state["ae_source_msg"], icon=":material/wifi_off:")
    return source


# --- cached views of a trained model (keyed by its id) ---------------------------------------


@st.cache_data(show_spinner=False, max_entries=16)
def latent_of(_model, model: str, cfg: ae.Config) -> ae.LatentView:
    data = load_digits(cfg.data_seed, cfg.test_fraction, cfg.source)
    n = min(len(data.test_y), 2000)  # a 3-D scatter stays fluid up to a few thousand points
    return ae.latent_view(_model, data.test_x[:n], data.test_y[:n])


@st.cache_data(show_spinner=False, max_entries=16)
def knn_of(_model, model: str, cfg: ae.Config) -> float:
    return ae.code_separation(_model, cfg)


def show_preview(latest: dict) -> None:
    if isinstance(latest.get("preview"), np.ndarray):
        st.image(big(latest["preview"], 3), caption="Top: held-out digits · bottom: how the model rebuilds them now")


# --- panels ----------------------------------------------------------------------------------


@st.fragment
def latent_explorer(model, view: ae.LatentView, user_point) -> None:
    """Sliders pick a point in the 3-D view; only this panel reruns when they move."""
    tag = model_id(model)[:8]  # per-model keys: each model's latent space has its own ranges
    plot_col, pick_col = st.columns([3, 2])
    point = []
    with pick_col:
        st.markdown("**Decode any point**")
        for i, (lo, hi) in enumerate(view.ranges()):
            step = float(f"{(hi - lo) / 200:.2g}")
            start = float(np.clip(round(float(view.points[0, i]) / step) * step, lo, hi))
            point.append(st.slider(f"{'PC' if view.axes.shape[1] > 3 else 'Code'} {i + 1}", lo, hi, start,
                                   step=step, format="%.2f", key=f"ae_z{i}_{tag}"))
        digit = ae.decode_points(model, view, np.array(point))[0]
        st.image(big(digit, 6), caption="The decoder's digit for this point")
        near = ae.neighbour_digits(view, np.array(point))
        st.markdown("Held-out digits nearby: " + ", ".join(f"**{d}** {share:.0%}" for d, share in near.items()))
    markers = [("slider point", point, "diamond", "black")]
    if user_point is not None:
        markers.append(("your digit", user_point, "x", "red"))
    plot_col.plotly_chart(scatter3d(view, markers), key="ae_latent3d")
    extra = (f" The conv autoencoder's code has {model.code_dim} numbers: the view shows its 3 principal "
             f"directions, which keep {view.explained:.0%} of the codes' variance." if view.axes.shape[1] > 3 else "")
    plot_col.caption("Each dot is a held-out digit placed at its code; colours are the true labels the model "
                     "never saw. Drag to rotate, click a digit in the legend to hide it. Same-digit clusters "
                     "mean the code captured the digit's identity." + extra)


PLANES = ((0, 1), (0, 2), (1, 2))  # pairs of view axes; the third is set with a slider


def clicked_point(event) -> tuple[float, float] | None:
    """(x, y) of the first selected point of a plotly selection event, or None."""
    try:
        first = event["selection"]["points"][0]
        return float(first["x"]), float(first["y"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


@st.fragment
def plane_picker(model, view: ae.LatentView) -> None:
    """Click a code on a 2-D plane of the latent space (two axes; the third from a slider) and see
    it decoded. The figure does not depend on the slider, so the click survives moving it."""
    tag = model_id(model)[:8]
    axis = "PC" if view.axes.shape[1] > 3 else "Code"
    ranges = view.ranges()
    plot_col, pick_col = st.columns([3, 2])
    with pick_col:
        plane = st.radio("Plane", PLANES, format_func=lambda p: f"{axis} {p[0] + 1} × {axis} {p[1] + 1}",
                         key="ae_plane", horizontal=True)
        third = 3 - sum(plane)
        lo, hi = ranges[third]
        step = float(f"{(hi - lo) / 100:.2g}")
        depth = st.slider(f"{axis} {third + 1}: the axis you look along", lo, hi,
                          float(np.clip(round(float(np.median(view.points[:, third])) / step) * step, lo, hi)),
                          step=step, format="%.2f", key=f"ae_plane_depth_{third}_{tag}")
    event = plot_col.plotly_chart(plane_figure(view, plane), key="ae_plane_pick", on_select="rerun",
                                  selection_mode="points")
    picked = clicked_point(event)
    point = np.empty(3, dtype=np.float32)
    point[third] = depth
    point[list(plane)] = picked if picked is not None else [np.mean(ranges[plane[0]]), np.mean(ranges[plane[1]])]
    with pick_col:
        st.image(big(ae.decode_points(model, view, point[None])[0], 6),
                 caption="Decoded from the code you clicked" if picked else "Decoded from the plane's centre")
        coords = ", ".join(f"{v:.2f}" for v in point)
        if picked is None:
            st.info("Click anywhere on the plane (a dot or the empty space between) to decode that code.",
                    icon=":material/touch_app:")
        near = ae.neighbour_digits(view, point)
        st.markdown(f"Code `({coords})` · held-out digits nearby: "
                    + ", ".join(f"**{d}** {share:.0%}" for d, share in near.items()))
    plot_col.caption("The same held-out codes seen straight along one axis. Click between two clusters and the "
                     "decoder draws a blend; click in empty space far from every dot and it draws what it "
                     "never learnt: the plain autoencoder's gaps show up here as smudges, the VAE's as digits.")


@st.fragment
def interpolation_panel(model, cfg: ae.Config) -> None:
    data = load_digits(cfg.data_seed, cfg.test_fraction, cfg.source)
    cols = st.columns(3)
    a = cols[0].selectbox("From digit", range(10), index=0, key="ae_from")
    b = cols[1].selectbox("To digit", range(10), index=7, key="ae_to")
    which = cols[2].number_input("Example no.", 1, 20, 1, key="ae_example", help="Which held-out example of each digit")
    xa = data.test_x[data.test_y == a][which - 1]
    xb = data.test_x[data.test_y == b][which - 1]
    strip = ae.interpolate(model, xa, xb, steps=10)  # (10, 28, 28)
    st.image(big(np.concatenate(list(strip), axis=1), 3), width="stretch", caption=f"From a {a} to a {b}")
    st.caption("Left and right: the decoder's versions of the two digits; in between: codes on the straight line "
               "joining them. A good latent space morphs smoothly; a plain autoencoder may pass through "
               "smudges where no training digit lives, while the VAE's tighter cloud keeps the path on digits.")


def user_digit_panel(model, view: ae.LatentView):
    """Upload → MNIST-style 28x28 → code (marker in the 3-D view) and reconstruction."""
    file = st.file_uploader("A photo or drawing of one digit (any size; dark on light or light on dark)",
                            key="ae_upload")
    if file is None:
        st.caption("Try a digit written with a thick pen on white paper, photographed straight on.")
        return None
    try:
        loaded = load_image(file.getvalue())
        x = digit_from_image(loaded.pixels)  # (1, 1, 28, 28): inverted if needed, cropped, centred
    except (ImageInputError, ValueError) as exc:
        show_error(exc, "That file cannot be used")
        return None
    point = view.project(ae.encode(model, x))[0]
    cols = st.columns(4)
    cols[0].image(loaded.pixels, caption="Your upload", width=140)
    cols[1].image(big(to_uint8(x)[0], 5), caption="As the model sees it (28×28)")
    cols[2].image(big(ae.reconstruct(model, x)[0], 5), caption="Its reconstruction")
    near = ae.neighbour_digits(view, point)
    cols[3].markdown(f"Code: `({point[0]:.2f}, {point[1]:.2f}, {point[2]:.2f})` — the red ✕ in the 3-D view.  \n"
                     f"Its neighbours there: " + ", ".join(f"**{d}** {s:.0%}" for d, s in near.items()))
    return point


def reconstruction_panel(model, cfg: ae.Config) -> None:
    data = load_digits(cfg.data_seed, cfg.test_fraction, cfg.source)
    st.image(big(ae.comparison_grid(model, data.test_x[20:36]), 2), width="stretch")
    st.caption(f"Top row: held-out digits. Bottom row: what comes back through the {model.code_dim}-number "
               "bottleneck. Thin strokes blur and unusual styles drift to the typical shape of their digit: that "
               f"is what {model.code_dim} numbers can keep.")


def comparison_panel(cfg: ae.Config) -> None:
    """The plain autoencoder and the VAE with the same settings, side by side (each trained once)."""
    pair = st.columns(2)
    for col, kind in zip(pair, ("mlp", "vae")):
        with col:
            cfg_k = replace(cfg, model=kind)
            other = train_live(ae, cfg_k, label=f"Training: {ae.MODEL_LABELS[kind]}",
                               chart_keys=("loss", "test_loss"), key=f"ae_compare_{kind}")
            if not report(other):
                continue
            model = other.model
            st.markdown(f"**{ae.MODEL_LABELS[kind]}** · k-NN {knn_of(model, model_id(model), cfg_k):.0%}")
            view = latent_of(model, model_id(model), cfg_k)
            st.plotly_chart(scatter3d(view, height=380, legend=False), key=f"ae_compare_plot_{kind}")
            st.image(big(np.concatenate(list(ae.random_digits(model, view)), axis=1), 2),
                     width="stretch", caption="8 random codes, decoded: " + (
                         "z drawn from N(0, I)" if kind == "vae" else "drawn uniformly from the box of its codes"))
    st.caption("The plain autoencoder puts codes wherever reconstruction is easiest: long arms at arbitrary "
               "scales with empty space between them. The VAE's KL term pulls every code towards a standard "
               "normal ball (look at the axis ranges), so the space is filled and a random point decodes to a "
               "digit: the VAE is a generative model, the plain autoencoder only a compressor.")
