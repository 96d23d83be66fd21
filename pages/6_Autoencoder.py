"""Autoencoder page (tutorial 6.1): squeeze digits into 3 numbers, rotate the latent space, decode
any point, walk between digits, place your own digit, and compare the plain AE with the VAE."""

import streamlit as st

from core import autoencoder as ae
from ui.charts_autoencoder import loss_figure
from ui.frame import page_frame
from ui.jobs import model_id, result_or_stop, retrain_button, train_live
from ui.panels_autoencoder import (
    comparison_panel,
    data_source,
    interpolation_panel,
    knn_of,
    latent_explorer,
    latent_of,
    plane_picker,
    reconstruction_panel,
    show_preview,
    user_digit_panel,
)

page_frame(
    "Autoencoder",
    intro=(
        "An **autoencoder** is two networks trained as one: the *encoder* squeezes each 28×28 digit "
        "(784 numbers) into a tiny **code** of 3 numbers, and the *decoder* has to rebuild the digit "
        "from that code alone. Nobody tells it which digit is which, yet similar digits end up with "
        "similar codes, so the code space becomes a map of handwriting you can rotate, explore and "
        "decode point by point. The **variational** autoencoder (VAE) also asks the codes to look "
        "like a standard normal cloud, which makes any point in that cloud decode to a plausible digit. "
        "Clicking codes on a flat slice of the space, between and away from the clusters, shows what the "
        "decoder makes of codes no digit was ever given: where the space is filled and where it has holes."
    ),
    formula=(r"\mathcal{L}_{\mathrm{VAE}} = \underbrace{\textstyle\sum_i (\hat x_i - x_i)^2}_{\text{reconstruction}}"
             r" \;-\; \underbrace{\tfrac12 \textstyle\sum_{j=1}^{3} \left(1 + \log\sigma_j^2 - \mu_j^2 - \sigma_j^2\right)}"
             r"_{\mathrm{KL}(\mathcal{N}(\mu,\sigma^2)\,\|\,\mathcal{N}(0,I))},"
             r"\qquad z = \mu + \sigma \odot \varepsilon,\;\; \varepsilon \sim \mathcal{N}(0, I)"),
)


def controls() -> ae.Config:
    with st.sidebar:
        st.header("Model")
        model = st.radio("Architecture", ae.MODELS, format_func=ae.MODEL_LABELS.get, key="ae_model")
        epochs = st.slider("Epochs", 5, 200, 100, step=5, key="ae_epochs")
        lr = st.select_slider("Learning rate (Adam)", [1e-4, 3e-4, 1e-3, 3e-3, 1e-2], value=1e-3, key="ae_lr",
                              format_func=lambda v: f"{v:g}")
        batch = st.select_slider("Batch size", [32, 64, 128, 256, 512], value=128, key="ae_batch")
        st.header("Data")
        source = data_source()
    return ae.Config(model=model, epochs=epochs, lr=lr, batch_size=batch, source=source)


cfg = controls()
name = ae.MODEL_LABELS[cfg.model]
job = train_live(ae, cfg, label=f"Training: {name}", chart_keys=("loss", "test_loss"),
                 render_preview=show_preview, key="ae")
with st.sidebar:
    if job.source == "bundled":  # retraining would only reload the same shipped checkpoint
        st.caption("These default settings open on a shipped checkpoint. Change any setting (e.g. 95 "
                   "epochs) to watch a model train live, with its loss curve and reconstructions.")
    else:
        retrain_button(ae, cfg, key="ae_retrain")
model = result_or_stop(job)
view = latent_of(model, model_id(model), cfg)
last = job.history[-1] if job.history else {}

cols = st.columns(4)
cols[0].metric("Held-out loss", f"{last.get('test_loss', float('nan')):.1f}",
               help="Summed squared pixel error per digit (+ KL for the VAE), on digits never trained on")
cols[1].metric("k-NN accuracy of the codes", f"{knn_of(model, model_id(model), cfg):.0%}",
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
    latent_explorer(model, view, user_point)
    st.subheader("Pick a code with the mouse")
    plane_picker(model, view)

st.subheader("Input vs reconstruction")
reconstruction_panel(model, cfg)

st.subheader("Walk between two digits")
interpolation_panel(model, cfg)

st.subheader("Plain autoencoder vs VAE")
if st.toggle("Show both latent spaces side by side (same settings)", value=True, key="ae_compare"):
    comparison_panel(cfg)
