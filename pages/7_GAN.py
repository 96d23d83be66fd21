"""GAN page (tutorial 6.2): train a generator against a discriminator, then sample, interpolate
and judge the generated digits with the digits CNN."""

from __future__ import annotations

import os

import numpy as np
import streamlit as st

from ui.frame import page_frame

page_frame(
    "GAN",
    intro=("A **generator** turns random noise into images; a **discriminator** is shown real digits and "
           "the generator's fakes and learns to tell them apart. They train in turns: every discriminator "
           "update makes the fakes easier to spot, every generator update nudges the fakes towards whatever "
           "the discriminator currently calls real. Neither ever sees a pixel-wise target, yet digits emerge. "
           "The dashed lines in the loss chart mark a discriminator that can only guess."),
    formula=r"\min_G \max_D \; \mathbb{E}_{x\sim p_\text{data}}\big[\log D(x)\big]"
            r" + \mathbb{E}_{z\sim U(-1,1)^{96}}\big[\log\big(1 - D(G(z))\big)\big]",
)

from core import digits, gan  # noqa: E402  (after the frame: set_page_config must come first)
from core.images import mosaic, upscale  # noqa: E402
from ui.charts_gan import judge_histogram_figure, loss_figure  # noqa: E402
from ui.jobs import retrain_button, train_live  # noqa: E402

FAST = os.environ.get("DLE_FAST") == "1"  # tests: a 1-epoch digit judge and short MLP trainings


# --- controls ------------------------------------------------------------------------------------


def controls() -> gan.Config:
    with st.sidebar:
        st.header("GAN settings")
        kind = st.selectbox("Model", gan.KINDS, index=gan.KINDS.index(gan.Config().kind),
                            format_func=gan.KIND_LABELS.get, key="kind",
                            help="Tutorial 6.2's three GANs: MLPs with the log (BCE) loss, the same MLPs "
                                 "with least-squares losses, and the convolutional DCGAN.")
        default = gan.Config.default(kind)
        top = 1000 if kind == "dcgan" else 6000
        iterations = st.slider("Generator iterations", 10 if FAST else 50, top,
                               40 if FAST and kind != "dcgan" else default.iterations,
                               step=10, key=f"iterations_{kind}",
                               help="DCGAN runs ~3 iterations/s on 2 CPU cores, the MLP GANs ~40.")
        batch_size = st.select_slider("Batch size", [32, 64, 128, 256], value=default.batch_size,
                                      key="batch_size", help="Real digits (and fakes) per update. Tutorial: 128.")
        d_steps = st.slider("Discriminator steps per generator step", 1, 5, default.d_steps, key="d_steps",
                            help="More D steps: a sharper critic, slower training. Tutorial: 1.")
        preview_every = st.slider("Snapshot every N iterations", 1, 200,
                                  max(1, iterations // 25), key=f"preview_every_{kind}",
                                  help="How often the fixed-noise samples are drawn for the film strip.")
        lr = st.select_slider("Learning rate (Adam, both networks)", [1e-4, 3e-4, 1e-3, 3e-3],
                              value=default.lr, key="lr", format_func=lambda v: f"{v:g}")
        beta1 = st.select_slider("Adam β₁", [0.0, 0.5, 0.9], value=default.beta1, key="beta1",
                                 help="Tutorial: 0.5. Adam's usual 0.9 carries momentum that makes GANs oscillate.")
        seed = st.number_input("Training seed", 0, 9999, 0, key="train_seed")
    return gan.Config(kind=kind, iterations=iterations, batch_size=batch_size, d_steps=d_steps,
                      preview_every=preview_every, lr=lr, beta1=beta1, seed=int(seed))


def show(image: np.ndarray, caption: str | None = None) -> None:
    st.image(upscale(image, 2), caption=caption)


def render_preview(latest: dict) -> None:
    if isinstance(latest.get("samples"), np.ndarray):
        show(latest["samples"], f"The same 64 noise vectors at iteration {int(latest.get('step', 0))}")


# --- cached derived arrays -----------------------------------------------------------------------
# Keyed by the Config plus id(model): a stopped, then completed (or retrained) model of the same
# Config is a different object, so its samples are not served from the old one's cache.


@st.cache_data(show_spinner=False, max_entries=64)
def cached_grid(_model, cfg: gan.Config, seed: int, model_id: int) -> np.ndarray:
    return gan.sample_grid(_model, seed)


@st.cache_data(show_spinner=False, max_entries=32)
def cached_interpolation(_model, cfg: gan.Config, seed_a: int, seed_b: int, steps: int, model_id: int) -> np.ndarray:
    return gan.interpolate(_model, seed_a, seed_b, steps)


@st.cache_data(show_spinner=False, max_entries=16)
def cached_judgement(_model, _judge, cfg: gan.Config, judge_cfg: digits.Config, model_id: int) -> dict:
    return gan.judge_generator(_model, _judge)


@st.cache_data(show_spinner=False)
def cached_real_judgement(_judge, judge_cfg: digits.Config) -> dict:
    return digits.judge_real(_judge)


# --- panels ----------------------------------------------------------------------------------------


def loss_chart(history: list[dict], kind: str) -> None:
    st.plotly_chart(loss_figure(history, kind), width="stretch", key="loss_chart")
    st.caption("A GAN's losses do not fall to zero: they are a tug of war. The D loss rising towards its "
               "dashed line means the fakes got harder to spot; D loss near 0 with G loss climbing means "
               "D is winning and G gets little useful signal.")


@st.fragment
def film_panel(model) -> None:
    steps, tiles = gan.film_frames(model)
    if len(steps) == 0:
        st.info("No snapshots were taken.")
        return
    step = st.select_slider("Scrub through training (iteration)", options=[int(s) for s in steps],
                            value=int(steps[-1]), key="film_step")
    show(mosaic(tiles[list(steps).index(step)]), f"Fixed noise at iteration {step}")
    strip_steps, strip = gan.film_strip(model)
    show(strip, "Film strip: each row is one noise vector, left to right iterations "
                + ", ".join(str(int(s)) for s in strip_steps))


@st.fragment
def sampling_panel(model, cfg: gan.Config) -> None:
    seed = st.number_input("Sample seed", 0, 10**6, 1, key="sample_seed",
                           help="Same seed, same noise, same digits. Change it for a new batch.")
    left, right = st.columns(2)
    with left:
        show(cached_grid(model, cfg, int(seed), id(model)), f"Generated: 64 samples, seed {int(seed)}")
    with right:
        show(gan.real_grid(64, seed=int(seed)), "Real: 64 held-out MNIST digits")
    st.caption("Look for blurred strokes, broken loops and repeated shapes on the left: the discriminator "
               "saw exactly such differences, the generator has not fixed them all yet.")


@st.fragment
def interpolation_panel(model, cfg: gan.Config) -> None:
    a, b, n = st.columns(3)
    seed_a = a.number_input("From seed", 0, 10**6, 1, key="interp_a")
    seed_b = b.number_input("To seed", 0, 10**6, 2, key="interp_b")
    steps = n.slider("Steps", 3, 16, 10, key="interp_steps")
    show(cached_interpolation(model, cfg, int(seed_a), int(seed_b), int(steps), id(model)))
    st.caption("Each row walks in a straight line through noise space. Gradual morphs mean the generator "
               "maps nearby noise to similar digits; jumps show where it switches from one digit to another.")


def quality_panel(model, cfg: gan.Config) -> None:
    judge_cfg = digits.Config.tiny() if FAST else digits.Config()
    job = train_live(digits, judge_cfg, label="Training the digit judge (the digits CNN, once)",
                     chart_keys=("loss", "test_loss"), key="judge")
    if job.error is not None or job.model is None:
        return
    fake = cached_judgement(model, job.model, cfg, judge_cfg, id(model))
    real = cached_real_judgement(job.model, judge_cfg)
    st.plotly_chart(judge_histogram_figure(fake, real), width="stretch", key="judge_hist")
    c1, c2, c3 = st.columns(3)
    c1.metric("Confidence (mean top-class prob.)", f"{fake['confidence']:.2f}",
              f"{fake['confidence'] - real['confidence']:+.2f} vs real", delta_color="off")
    c2.metric("Label entropy (max ln 10 = 2.30)", f"{fake['label_entropy']:.2f}",
              f"{fake['label_entropy'] - real['label_entropy']:+.2f} vs real", delta_color="off")
    c3.metric("Classifier score (1–10)", f"{fake['score']:.2f}", f"real digits: {real['score']:.2f}",
              delta_color="off")
    st.caption("A collapsed generator draws only a few digits: tall bars, low entropy. Blurry fakes make the "
               "CNN unsure: low confidence. The score is the Inception Score formula with this CNN: "
               "high only when samples are both confident and varied.")
    st.subheader("The three GANs on the same noise")
    comparison_panel(job.model, judge_cfg, int(st.session_state.get("sample_seed", 1)))


def comparison_panel(judge_model, judge_cfg: digits.Config, seed: int) -> None:
    """The three GANs side by side on the same noise, for those whose default model is at hand
    (shipped, on disk or trained in this server): nothing is trained here."""
    cols = st.columns(len(gan.KINDS))
    for col, kind in zip(cols, gan.KINDS):
        cfg_k = gan.Config.default(kind)
        with col:
            st.markdown(f"**{gan.KIND_LABELS[kind]}**")
            model_k = ready_model(cfg_k)
            if model_k is None:
                st.caption("Not trained yet with its default settings: pick it in the sidebar to train it.")
                continue
            show(cached_grid(model_k, cfg_k, seed, id(model_k)), f"{cfg_k.iterations} iterations, seed {seed}")
            if judge_model is not None:
                verdict = cached_judgement(model_k, judge_model, cfg_k, judge_cfg, id(model_k))
                st.caption(f"classifier score {verdict['score']:.2f} · label entropy {verdict['label_entropy']:.2f}")


def ready_model(cfg_k: gan.Config):
    from core.checkpoints import BUNDLED_DIR, cache_dir, config_key
    from ui.jobs import registry

    job = registry().jobs.get((gan.__name__, cfg_k))
    if job is not None and job.done.is_set() and job.model is not None and not job.stopped:
        return job.model
    name = f"{config_key(cfg_k)}.pt"
    if (cache_dir() / name).is_file() or (BUNDLED_DIR / name).is_file():
        return train_live(gan, cfg_k, label="Loading", key=f"compare_{cfg_k.kind}").model
    return None


# --- page ------------------------------------------------------------------------------------------

cfg = controls()
job = train_live(gan, cfg, label=f"Training the {gan.KIND_LABELS[cfg.kind]}", chart_keys=("d_loss", "g_loss"),
                 render_preview=render_preview)
if job.error is not None or job.model is None:
    st.stop()
model = job.model
source = {"bundled": "the checkpoint shipped with the app for these settings",
          "disk cache": "the disk cache", "trained": f"training just now ({job.seconds:.0f} s)"}
st.caption(f"{gan.KIND_LABELS[cfg.kind]}, {cfg.iterations} iterations: loaded from "
           f"{source.get(job.source, job.source)}.")
retrain_button(gan, cfg)

st.subheader("Samples")
sampling_panel(model, cfg)
st.subheader("Training")
chart_col, film_col = st.columns([3, 2])
with chart_col:
    loss_chart(job.history, cfg.kind)
with film_col:
    film_panel(model)
st.subheader("Interpolation between two seeds")
interpolation_panel(model, cfg)
st.subheader("Quality: what does a digit classifier make of the samples?")
quality_panel(model, cfg)
