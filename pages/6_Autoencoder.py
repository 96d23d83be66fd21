"""Autoencoder page (tutorial 6.1): squeeze digits into 3 numbers, rotate the latent space, decode
any point, walk between digits, place your own digit, and compare the plain AE with the VAE."""

from dataclasses import replace

import numpy as np
import streamlit as st

from core import autoencoder as ae
from core.checkpoints import config_key
from core.images import ImageInputError, load_image, upscale as big  # big: crisp 28x28 pixels, not a blur
from core.mnist import DatasetUnavailable, digit_from_image, full_mnist_downloaded, load_digits, to_uint8
from ui.charts_autoencoder import loss_figure, scatter3d
from ui.frame import page_frame
from ui.jobs import retrain_button, train_live

page_frame(
    "Autoencoder",
    intro=(
        "An **autoencoder** is two networks trained as one: the *encoder* squeezes each 28×28 digit "
        "(784 numbers) into a tiny **code** of 3 numbers, and the *decoder* has to rebuild the digit "
        "from that code alone. Nobody tells it which digit is which, yet similar digits end up with "
        "similar codes, so the code space becomes a map of handwriting you can rotate, explore and "
        "decode point by point. The **variational** autoencoder (VAE) also asks the codes to look "
        "like a standard normal cloud, which makes any point in that cloud decode to a plausible digit."
    ),
    formula=(r"\mathcal{L}_{\mathrm{VAE}} = \underbrace{\textstyle\sum_i (\hat x_i - x_i)^2}_{\text{reconstruction}}"
             r" \;-\; \underbrace{\tfrac12 \textstyle\sum_{j=1}^{3} \left(1 + \log\sigma_j^2 - \mu_j^2 - \sigma_j^2\right)}"
             r"_{\mathrm{KL}(\mathcal{N}(\mu,\sigma^2)\,\|\,\mathcal{N}(0,I))},"
             r"\qquad z = \mu + \sigma \odot \varepsilon,\;\; \varepsilon \sim \mathcal{N}(0, I)"),
)

# --- controls --------------------------------------------------------------------------------

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


def controls() -> ae.Config:
    with st.sidebar:
        st.header("Model")
        model = st.radio("Architecture", ae.MODELS, format_func=ae.MODEL_LABELS.get, key="ae_model")
        epochs = st.slider("Epochs", 5, 200, 100, step=5, key="ae_epochs")
        lr = st.select_slider("Learning rate (Adam)", [1e-4, 3e-4, 1e-3, 3e-3, 1e-2], value=1e-3, key="ae_lr",
                              format_func=lambda v: f"{v:g}")
        batch = st.select_slider("Batch size", [32, 64, 128, 256, 512], value=128, key="ae_batch")
        st.header("Data")
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
    return ae.Config(model=model, epochs=epochs, lr=lr, batch_size=batch, source=source)


# --- cached views of a trained model ---------------------------------------------------------

@st.cache_data(show_spinner=False, max_entries=16)
def latent_of(_model, cfg: ae.Config) -> ae.LatentView:
    data = load_digits(cfg.data_seed, cfg.test_fraction, cfg.source)
    n = min(len(data.test_y), 2000)  # a 3-D scatter stays fluid up to a few thousand points
    return ae.latent_view(_model, data.test_x[:n], data.test_y[:n])


@st.cache_data(show_spinner=False, max_entries=16)
def knn_of(_model, cfg: ae.Config) -> float:
    return ae.code_separation(_model, cfg)


def show_preview(latest: dict) -> None:
    if isinstance(latest.get("preview"), np.ndarray):
        st.image(big(latest["preview"], 3), caption="Top: held-out digits · bottom: how the model rebuilds them now")


# --- panels ----------------------------------------------------------------------------------

@st.fragment
def latent_explorer(model, cfg: ae.Config, view: ae.LatentView, user_point) -> None:
    """Sliders pick a point in the 3-D view; only this panel reruns when they move."""
    tag = config_key(cfg)[-8:]  # per-model keys: each model's latent space has its own ranges
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
        st.error(f"**That file cannot be used.** {exc}", icon=":material/warning:")
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


# --- the page --------------------------------------------------------------------------------

cfg = controls()
name = ae.MODEL_LABELS[cfg.model]
job = train_live(ae, cfg, label=f"Training: {name}", chart_keys=("loss", "test_loss"),
                 render_preview=show_preview, key="ae_train")
with st.sidebar:
    if job.source == "bundled":  # retraining would only reload the same shipped checkpoint
        st.caption("These default settings open on a shipped checkpoint. Change any setting (e.g. 95 "
                   "epochs) to watch a model train live, with its loss curve and reconstructions.")
    else:
        retrain_button(ae, cfg, key="ae_retrain")
if job.error is not None or job.model is None:
    st.stop()
model = job.model
view = latent_of(model, cfg)
last = job.history[-1] if job.history else {}

cols = st.columns(4)
cols[0].metric("Held-out loss", f"{last.get('test_loss', float('nan')):.1f}",
               help="Summed squared pixel error per digit (+ KL for the VAE), on digits never trained on")
cols[1].metric("k-NN accuracy of the codes", f"{knn_of(model, cfg):.0%}",
               help="Label each held-out digit by its 5 nearest training codes. Chance is 10 %.")
if cfg.model == "vae":
    cols[2].metric("KL term", f"{last.get('test_kl', float('nan')):.1f}", help="Nats per digit: price of the code's spread")
cols[3].metric("Weights", {"bundled": "shipped", "disk cache": "cached"}.get(job.source, "trained now"),
               help="Default settings load a checkpoint made by this same code (python -m core.make_checkpoints "
                    "autoencoder); settings trained before come from the disk cache; others train here")

st.plotly_chart(loss_figure(job.history, cfg.model), key="ae_curve")
st.caption("Loss per digit (summed squared pixel error, plus the KL term for the VAE; log scale). The held-out "
           "curve flattening while the training curve still falls is the start of overfitting.")

latent_box, upload_box = st.container(), st.container()
with upload_box:
    st.subheader("Your own digit")
    user_point = user_digit_panel(model, view)
with latent_box:
    st.subheader(f"The latent space · {name}")
    latent_explorer(model, cfg, view, user_point)

st.subheader("Input vs reconstruction")
data = load_digits(cfg.data_seed, cfg.test_fraction, cfg.source)
sample = data.test_x[20:36]
st.image(big(ae.comparison_grid(model, sample), 2), width="stretch")
st.caption(f"Top row: held-out digits. Bottom row: what comes back through the {model.code_dim}-number bottleneck. "
           "Thin strokes blur and unusual styles drift to the typical shape of their digit: that is what "
           f"{model.code_dim} numbers can keep.")

st.subheader("Walk between two digits")
interpolation_panel(model, cfg)

st.subheader("Plain autoencoder vs VAE")
if st.toggle("Show both latent spaces side by side (same settings)", value=True, key="ae_compare"):
    pair = st.columns(2)
    for col, kind in zip(pair, ("mlp", "vae")):
        with col:
            other = train_live(ae, replace(cfg, model=kind), label=f"Training: {ae.MODEL_LABELS[kind]}",
                               chart_keys=("loss", "test_loss"), key=f"ae_compare_{kind}")
            if other.error is None and other.model is not None:
                st.markdown(f"**{ae.MODEL_LABELS[kind]}** · k-NN {knn_of(other.model, replace(cfg, model=kind)):.0%}")
                other_view = latent_of(other.model, replace(cfg, model=kind))
                st.plotly_chart(scatter3d(other_view, height=380, legend=False), key=f"ae_compare_plot_{kind}")
                st.image(big(np.concatenate(list(ae.random_digits(other.model, other_view)), axis=1), 2),
                         width="stretch", caption="8 random codes, decoded: " + (
                             "z drawn from N(0, I)" if kind == "vae" else "drawn uniformly from the box of its codes"))
    st.caption("The plain autoencoder puts codes wherever reconstruction is easiest: long arms at arbitrary "
               "scales with empty space between them. The VAE's KL term pulls every code towards a standard "
               "normal ball (look at the axis ranges), so the space is filled and a random point decodes to a "
               "digit: the VAE is a generative model, the plain autoencoder only a compressor.")
