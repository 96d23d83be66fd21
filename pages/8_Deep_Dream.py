"""Deep Dream (tutorial 7.2): make a CNN amplify what it sees in a photo, octave by octave."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from core import deepdream
from core.images import to_png_bytes
from ui import dream as dream_ui
from ui.frame import page_frame
from ui.inputs import image_input, model_picker

page_frame(
    "Deep Dream",
    intro=("Training changes the **weights** to lower a loss. Deep Dream freezes the network and changes the "
           "**image** instead, to *raise* how strongly one layer responds. Whatever that layer faintly sees "
           "in the photo, it sees more of after every step, until eyes, fur and animal faces appear. The "
           "dream starts on a small copy of the photo (**octaves**) so patterns grow at several scales, "
           "and the image is shifted at random before each step (**jitter**) so no grid shows."),
    formula=r"x \leftarrow x + \eta\,\frac{g}{\operatorname{mean}|g|},\qquad "
            r"g = \nabla_x \,\tfrac{1}{N}\big\lVert A_\ell(x) \big\rVert^2",
)

DEFAULT = deepdream.Config()
DEFAULT_LAYERS = {"lite0": "blocks.11", "vgg16": "features.22"}  # VGG16 relu4_3, as pytorch-deepdream
SIDES = [128, 192, 256, 320, 384, 448, 512, 640, 768, 1024]

picked = image_input("dd")
backbone = model_picker("dd", options=("lite0", "vgg16"))


def controls() -> deepdream.Config:
    with st.sidebar:
        st.subheader("Dream settings")
        layers = deepdream.dream_layers(backbone)
        default_layer = DEFAULT_LAYERS.get(backbone.key, layers[len(layers) // 2])
        layer = st.selectbox("Layer to amplify", layers, index=layers.index(default_layer),
                             key=f"dd_layer_{backbone.key}",
                             help="Early layers paint strokes and textures; middle blocks (around blocks.11 in "
                                  "EfficientNet-Lite0) paint eyes and animal faces; late ones, whole objects.")
        channel = st.number_input("Channel (-1 = the whole layer)", -1, 4095, -1, key="dd_channel",
                                  help="Amplify a single feature map only: each channel dreams its own motif.")
        iterations = st.slider("Iterations per octave", 1, 30, DEFAULT.iterations, key="dd_iterations")
        step = st.slider("Step size (pixel levels per step)", 0.25, 6.0, DEFAULT.step_size, 0.25, key="dd_step",
                         help="The mean change of a pixel per step, on the 0–255 scale.")
        octaves = st.slider("Octaves", 1, 6, DEFAULT.octaves, key="dd_octaves",
                            help="How many scales the dream runs at, smallest first.")
        scale = st.slider("Octave scale", 1.1, 2.0, DEFAULT.octave_scale, 0.1, key="dd_scale",
                          help="Each octave is this much larger than the one before.")
        jitter = st.slider("Jitter (max random shift, px)", 0, 64, DEFAULT.jitter, key="dd_jitter")
        side = st.select_slider("Longest side of the working image (px)", SIDES, value=DEFAULT.longest_side,
                                key="dd_side", help="Time grows with the pixel count: 512 px takes a few seconds "
                                                    "per octave on 2 CPU cores.")
        seed = st.number_input("Seed (jitter)", 0, 9999, DEFAULT.seed, key="dd_seed")
    return deepdream.Config(model=backbone.key, layer=layer, channel=int(channel), iterations=iterations,
                            step_size=float(step), octaves=octaves, octave_scale=float(scale), jitter=jitter,
                            longest_side=side, seed=int(seed))


cfg = controls()
job = dream_ui.current_job()
same = dream_ui.matches(job, cfg, picked.digest)

left, right = st.columns([1, 3])
with left:
    run = st.button("Dream", icon=":material/auto_awesome:", type="primary", key="dd_run", disabled=same and not job.done.is_set(),
                    help="Run Deep Dream on the image with these settings.")
with right:
    st.caption(f"{backbone.key} · layer `{cfg.layer}` · {cfg.octaves} octaves × {cfg.iterations} iterations · "
               f"{cfg.longest_side} px · on {backbone.device.type.upper()}")
if run and not same:
    job = dream_ui.start(backbone, picked.pixels, cfg, picked.digest, picked.label)

if job is None:
    st.image(picked.pixels, caption=f"{picked.label}: press **Dream** to start.", width=520)
    st.stop()

dream_ui.watch(job)
dream = dream_ui.result_or_stop(job)
result = dream.image
if not dream_ui.matches(job, cfg, picked.digest):
    st.info("The settings or the image changed since this dream: press **Dream** to apply them.")

# --- before / after ------------------------------------------------------------------------------
st.subheader("Before / after")
fraction = st.slider("Wipe: dream ◀ ▶ photo", 0, 100, 50, key="dd_wipe",
                     help="Drag to compare: the dream is left of the line, the original photo right of it.")
st.image(dream_ui.wipe(dream.source, result.pixels, fraction / 100), width="stretch",
         caption=f"{dream.label} · {result.pixels.shape[1]}×{result.pixels.shape[0]} px · {result.seconds:.1f} s")
c1, c2, c3 = st.columns(3)
before, after = dream.norms
c1.metric(f"Activation RMS of {job.cfg.layer}", f"{after:.3g}", delta=f"{after - before:+.3g} vs the photo")
c2.metric("Time per step", f"{result.seconds / max(len(result.history), 1) * 1000:.0f} ms")
png = to_png_bytes(result.pixels, deepdream.png_metadata(job.cfg, result.seconds))
filename = f"deepdream_{job.cfg.describe()}.png"
c3.download_button("Download PNG", png, file_name=filename, mime="image/png", key="dd_download",
                   icon=":material/download:", help="The parameters are in the file name and in the PNG's text metadata.")
c3.caption(f"`{filename}`")

# --- octaves and the objective -------------------------------------------------------------------
if dream.previews:
    st.subheader("One preview per octave")
    columns = st.columns(len(dream.previews))
    for column, (octave, size, image) in zip(columns, dream.previews):
        column.image(image, caption=f"octave {octave} · {size}", width="stretch")
    st.caption("Each octave starts from the previous one's dream, enlarged: the big shapes come from the "
               "small octaves, the fine detail from the last ones.")
frame = [dict(r) for r in result.history]
if frame:
    fig = px.line(frame, x="step", y="objective", color=[f"octave {int(r['octave'])}" for r in frame],
                  labels={"objective": "mean square activation", "color": ""}, height=300)
    fig.update_layout(margin=dict(l=10, r=10, t=30, b=10), title="The objective climbs within each octave")
    st.plotly_chart(fig, width="stretch", key="dd_objective")
    st.caption("Gradient *ascent*: within an octave the layer's response rises step by step. It changes at "
               "each new octave because the image is enlarged and the layer sees new, finer detail.")
