"""GAN page (tutorial 6.2): train a generator against a discriminator, then sample, interpolate
and judge the generated digits with the digits CNN."""

from __future__ import annotations

import streamlit as st

from core import gan
from ui.frame import page_frame
from ui.jobs import result_or_stop, retrain_button, train_live
from ui.panels_gan import (
    film_panel,
    interpolation_panel,
    latent_panel,
    loss_chart,
    quality_panel,
    render_preview,
    sampling_panel,
)

page_frame(
    "GAN",
    intro=("A **generator** turns random noise into images; a **discriminator** is shown real digits and "
           "the generator's fakes and learns to tell them apart. They train in turns: every discriminator "
           "update makes the fakes easier to spot, every generator update nudges the fakes towards whatever "
           "the discriminator currently calls real. Neither ever sees a pixel-wise target, yet digits emerge. "
           "The dashed lines in the loss chart mark a discriminator that can only guess. The latent sliders "
           "show that the noise is not just noise: a few directions in it steer stroke, slant and digit."),
    formula=r"\min_G \max_D \; \mathbb{E}_{x\sim p_\text{data}}\big[\log D(x)\big]"
            r" + \mathbb{E}_{z\sim U(-1,1)^{96}}\big[\log\big(1 - D(G(z))\big)\big]",
)


def controls() -> gan.Config:
    with st.sidebar:
        st.header("GAN settings")
        kind = st.selectbox("Model", gan.KINDS, index=gan.KINDS.index(gan.Config().kind),
                            format_func=gan.KIND_LABELS.get, key="gan_kind",
                            help="Tutorial 6.2's three GANs: MLPs with the log (BCE) loss, the same MLPs "
                                 "with least-squares losses, and the convolutional DCGAN.")
        default = gan.Config.default(kind)
        top = 1000 if kind == "dcgan" else 6000
        iterations = st.slider("Generator iterations", 50, top, default.iterations, step=10,
                               key=f"gan_iterations_{kind}",
                               help="DCGAN runs ~3 iterations/s on 2 CPU cores, the MLP GANs ~40.")
        batch_size = st.select_slider("Batch size", [32, 64, 128, 256], value=default.batch_size,
                                      key="gan_batch_size", help="Real digits (and fakes) per update. Tutorial: 128.")
        d_steps = st.slider("Discriminator steps per generator step", 1, 5, default.d_steps, key="gan_d_steps",
                            help="More D steps: a sharper critic, slower training. Tutorial: 1.")
        preview_every = st.slider("Snapshot every N iterations", 1, 200,
                                  max(1, iterations // 25), key=f"gan_preview_every_{kind}",
                                  help="How often the fixed-noise samples are drawn for the film strip.")
        lr = st.select_slider("Learning rate (Adam, both networks)", [1e-4, 3e-4, 1e-3, 3e-3],
                              value=default.lr, key="gan_lr", format_func=lambda v: f"{v:g}")
        beta1 = st.select_slider("Adam β₁", [0.0, 0.5, 0.9], value=default.beta1, key="gan_beta1",
                                 help="Tutorial: 0.5. Adam's usual 0.9 carries momentum that makes GANs oscillate.")
        seed = st.number_input("Training seed", 0, 9999, 0, key="gan_seed")
    return gan.Config(kind=kind, iterations=iterations, batch_size=batch_size, d_steps=d_steps,
                      preview_every=preview_every, lr=lr, beta1=beta1, seed=int(seed))


cfg = controls()
job = train_live(gan, cfg, label=f"Training the {gan.KIND_LABELS[cfg.kind]}", chart_keys=("d_loss", "g_loss"),
                 render_preview=render_preview, key="gan")
model = result_or_stop(job)
source = {"bundled": "the checkpoint shipped with the app for these settings",
          "disk cache": "the disk cache", "trained": f"training just now ({job.seconds:.0f} s)"}
st.caption(f"{gan.KIND_LABELS[cfg.kind]}, {cfg.iterations} iterations: loaded from "
           f"{source.get(job.source, job.source)}.")
retrain_button(gan, cfg, key="gan_retrain")

st.subheader("Samples")
sampling_panel(model)
st.subheader("Training")
chart_col, film_col = st.columns([3, 2])
with chart_col:
    loss_chart(job.history, cfg.kind)
with film_col:
    film_panel(model)
st.subheader("Interpolation between two seeds")
interpolation_panel(model)
st.subheader("Latent sliders: directions that mean something")
latent_panel(model)
st.subheader("Quality: what does a digit classifier make of the samples?")
quality_panel(model)
