"""Panels of the GAN page: samples, the training film, interpolation, and the quality meter that
judges the samples with the digits CNN (and compares the three GANs on the same noise)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core import digits, gan, latent
from core.images import mosaic, upscale
from ui.charts_gan import judge_histogram_figure, loss_figure
from ui.jobs import model_id, ready_model, result_or_stop, train_live


def show(image: np.ndarray, caption: str | None = None) -> None:
    st.image(upscale(image, 2), caption=caption)


def render_preview(latest: dict) -> None:
    if isinstance(latest.get("samples"), np.ndarray):
        show(latest["samples"], f"The same 64 noise vectors at iteration {int(latest.get('step', 0))}")


# --- cached derived arrays (keyed by the model's id: a stopped, then retrained model of the same
# Config is another instance, so its samples are not served from the old one's cache) -------------


@st.cache_data(show_spinner=False, max_entries=64)
def cached_grid(_model, model: str, seed: int) -> np.ndarray:
    return gan.sample_grid(_model, seed)


@st.cache_data(show_spinner=False, max_entries=32)
def cached_interpolation(_model, model: str, seed_a: int, seed_b: int, steps: int) -> np.ndarray:
    return gan.interpolate(_model, seed_a, seed_b, steps)


@st.cache_data(show_spinner=False, max_entries=16)
def cached_judgement(_model, _judge, model: str, judge: str) -> dict:
    return gan.judge_generator(_model, _judge)


@st.cache_data(show_spinner=False, max_entries=16)
def cached_directions(_model, model: str, k: int) -> latent.Directions:
    return latent.gan_space(_model, k)


@st.cache_data(show_spinner=False)
def cached_real_judgement(_judge, judge: str) -> dict:
    return digits.judge_real(_judge)


# --- panels ----------------------------------------------------------------------------------------


def loss_chart(history: list[dict], kind: str) -> None:
    st.plotly_chart(loss_figure(history, kind), width="stretch", key="gan_loss_chart")
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
                            value=int(steps[-1]), key="gan_film_step")
    show(mosaic(tiles[list(steps).index(step)]), f"Fixed noise at iteration {step}")
    strip_steps, strip = gan.film_strip(model)
    show(strip, "Film strip: each row is one noise vector, left to right iterations "
                + ", ".join(str(int(s)) for s in strip_steps))


@st.fragment
def sampling_panel(model) -> None:
    seed = st.number_input("Sample seed", 0, 10**6, 1, key="gan_sample_seed",
                           help="Same seed, same noise, same digits. Change it for a new batch.")
    left, right = st.columns(2)
    with left:
        show(cached_grid(model, model_id(model), int(seed)), f"Generated: 64 samples, seed {int(seed)}")
    with right:
        show(gan.real_grid(64, seed=int(seed)), "Real: 64 held-out MNIST digits")
    st.caption("Look for blurred strokes, broken loops and repeated shapes on the left: the discriminator "
               "saw exactly such differences, the generator has not fixed them all yet.")


@st.fragment
def interpolation_panel(model) -> None:
    a, b, n = st.columns(3)
    seed_a = a.number_input("From seed", 0, 10**6, 1, key="gan_interp_a")
    seed_b = b.number_input("To seed", 0, 10**6, 2, key="gan_interp_b")
    steps = n.slider("Steps", 3, 16, 10, key="gan_interp_steps")
    show(cached_interpolation(model, model_id(model), int(seed_a), int(seed_b), int(steps)))
    st.caption("Each row walks in a straight line through noise space. Gradual morphs mean the generator "
               "maps nearby noise to similar digits; jumps show where it switches from one digit to another.")


def quality_panel(model) -> None:
    judge_job = train_live(digits, digits.Config(), label="Training the digit judge (the digits CNN, once)",
                           chart_keys=("loss", "test_loss"), key="gan_judge")
    judge = result_or_stop(judge_job)
    fake = cached_judgement(model, judge, model_id(model), model_id(judge))
    real = cached_real_judgement(judge, model_id(judge))
    st.plotly_chart(judge_histogram_figure(fake, real), width="stretch", key="gan_judge_hist")
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
    comparison_panel(judge, int(st.session_state.get("gan_sample_seed", 1)))


def comparison_panel(judge, seed: int) -> None:
    """The three GANs side by side on the same noise, for those whose default model is at hand
    (shipped, on disk or trained in this server): nothing is trained here."""
    cols = st.columns(len(gan.KINDS))
    for col, kind in zip(cols, gan.KINDS):
        cfg_k = gan.Config.default(kind)
        with col:
            st.markdown(f"**{gan.KIND_LABELS[kind]}**")
            model_k = ready_model(gan, cfg_k, key=f"gan_compare_{kind}")
            if model_k is None:
                st.caption("Not trained yet with its default settings: pick it in the sidebar to train it.")
                continue
            show(cached_grid(model_k, model_id(model_k), seed), f"{cfg_k.iterations} iterations, seed {seed}")
            verdict = cached_judgement(model_k, judge, model_id(model_k), model_id(judge))
            st.caption(f"classifier score {verdict['score']:.2f} · label entropy {verdict['label_entropy']:.2f}")


N_DIRECTIONS = 4  # sliders: GANSpace's top components


def _centre_sliders() -> None:
    for j in range(N_DIRECTIONS):
        st.session_state[f"gan_dir{j}"] = 0.0


@st.fragment
def latent_panel(model) -> None:
    """GANSpace sliders: slide 8 samples along the top principal directions of the first layer."""
    directions = cached_directions(model, model_id(model), N_DIRECTIONS)
    slider_col, image_col = st.columns([2, 3])
    with slider_col:
        seed = st.number_input("Noise seed", 0, 10**6, 3, key="gan_latent_seed",
                               help="Which 8 noise vectors the sliders move.")
        amounts = [st.slider(f"Direction {j + 1} · {share:.0%} of the first layer's variance", -3.0, 3.0, 0.0,
                             0.25, key=f"gan_dir{j}", help="In standard deviations of the noise along it")
                   for j, share in enumerate(directions.explained)]
        st.button("Back to the start", icon=":material/restart_alt:", key="gan_dir_reset", on_click=_centre_sliders)
    with image_col:
        shift = ", ".join(f"{a:+g}" for a in amounts)
        show(latent.shifted(model, directions, amounts, int(seed)), f"8 samples, each moved by ({shift})")
        show(latent.atlas(model, directions, int(seed)),
             "Row j: the first sample walked along direction j, from −2 to +2 (middle: where it started)")
    st.caption("Each direction is a principal component of the generator's first-layer features "
               f"(`{directions.layer}`) carried back into noise space (GANSpace). The first ones change "
               "the most; in these small GANs the first one mostly adds or removes ink, the next ones bend "
               "strokes, slant and sometimes swap the digit. Far out the noise leaves the box the generator "
               "was trained on (uniform in [−1, 1]), and the digits break up.")
