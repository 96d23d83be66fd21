"""CNN feature maps (tutorial 4.2-4.5): what every layer of a trained CNN responds to in a photo."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from core import cnn
from ui.frame import page_frame
from ui.inputs import image_input, model_picker
from ui.jobs import model_id

page_frame(
    "CNN Feature Maps",
    intro=("A convolutional layer slides a set of small learned **filters** over its input; each filter "
           "gives one **feature map** that is bright wherever its pattern occurs. Early layers react to "
           "edges and colours, deeper ones to textures, eyes, wheels. Pick a layer to see its most "
           "active channels, lay one over the photo to see *where* it fires, and check the layer's "
           "output size against the formula below (W: input width, F: kernel, P: padding, S: stride)."),
    formula=r"W_\text{out} = \left\lfloor \frac{W - F + 2P}{S} \right\rfloor + 1",
)

picked = image_input("cnn")
backbone = model_picker("cnn")


def controls() -> cnn.Config:
    with st.sidebar:
        st.subheader("Layer")
        names = backbone.layer_names
        layer = st.selectbox("Layer (every conv, activation, pooling layer and block)", names,
                             index=names.index(cnn.default_layer(backbone)), key=f"cnn_layer_{backbone.key}",
                             help="Dotted names follow the model's nesting: blocks.3.depthwise.conv is the "
                                  "depthwise convolution inside the 4th block.")
        top_k = st.slider("Top-k channels shown", 1, 32, cnn.Config.top_k, key="cnn_k",
                          help="Channels ranked by their mean activation on this photo.")
        scale = st.radio("Colour scale", cnn.SCALES, key="cnn_scale", horizontal=True,
                         help="per map: each map uses its full colour range (shows every pattern); "
                              "shared: one range for all (shows which channels are strongest).")
    return cnn.Config(model=backbone.key, layer=layer, top_k=top_k, scale=scale)


cfg = controls()


# --- cached computations (the model is cached; the key is the model's id + image hash + layer) ---


@st.cache_data(show_spinner=False, max_entries=32)
def predictions(_backbone, _pixels, model: str, digest: str, input_size: int):
    x = cnn.prepare_input(_backbone, _pixels, input_size)
    seen = _backbone.deprocess(x)  # what the network actually receives
    return cnn.top_predictions(_backbone, x), seen


@st.cache_data(show_spinner=False, max_entries=64)
def maps(_backbone, _pixels, model: str, digest: str, input_size: int, layer: str) -> np.ndarray:
    return cnn.layer_maps(_backbone, cnn.prepare_input(_backbone, _pixels, input_size), layer)


@st.cache_data(show_spinner=False, max_entries=16)
def sizes(_backbone, _pixels, model: str, digest: str, input_size: int):
    return cnn.size_table(_backbone, cnn.prepare_input(_backbone, _pixels, input_size))


args = (backbone, picked.pixels, model_id(backbone.model), picked.digest, cfg.input_size)
top5, seen = predictions(*args)

# --- photo and predictions -----------------------------------------------------------------------
left, right = st.columns([1, 1])
with left:
    st.image(picked.pixels, caption=f"{picked.label} · {picked.pixels.shape[1]}×{picked.pixels.shape[0]} px",
             width="stretch")
    st.caption(f"The network sees it as {seen.shape[1]}×{seen.shape[0]} px"
               + (" (inverted, cropped and centred like an MNIST digit)." if backbone.key == "digits" else "."))
    if backbone.key == "digits":
        st.image(np.kron(seen, np.ones((6, 6, 1), dtype=np.uint8)), caption="What the digits CNN sees")
with right:
    fig = go.Figure(go.Bar(x=top5["probability"][::-1], y=top5["class"][::-1], orientation="h",
                           text=[f"{p:.1%}" for p in top5["probability"][::-1]], textposition="auto"))
    fig.update_layout(title=f"Top-5 predictions · {backbone.key}", height=300,
                      margin=dict(l=10, r=10, t=40, b=10), xaxis=dict(range=[0, 1], tickformat=".0%"))
    st.plotly_chart(fig, width="stretch", key="cnn_top5")
    st.caption(f"Softmax probabilities. {backbone.note}." if backbone.note else "Softmax probabilities.")

# --- the chosen layer -----------------------------------------------------------------------------
table = sizes(*args)
row = table.set_index("layer").loc[cfg.layer]
fmaps = maps(*args, cfg.layer)
st.subheader(f"Layer `{cfg.layer}`")
c1, c2, c3 = st.columns(3)
c1.metric("Output (channels × H × W)", row["actual"])
c2.metric("Input", row["input"])
c3.metric("Formula matches the real shape", "yes" if row["match"] else "no")
st.markdown(f"**Size arithmetic** ({row['kind']}, {row['module']}; F={row['F']}, S={row['S']}, "
            f"P={row['P']}): height {row['height']}; width {row['width']}.")
if row["kind"] in ("act", "block"):  # the size was set by a convolution: show that one's formula too
    before = table.iloc[: table.index[table["layer"] == cfg.layer][0]]
    convs = before[before["kind"] == "conv"]
    if not convs.empty:
        conv = convs.iloc[-1]
        st.markdown(f"Its size comes from the last convolution before it, `{conv['layer']}` (F={conv['F']}, "
                    f"S={conv['S']}, P={conv['P']}): height {conv['height']}; width {conv['width']}.")
with st.expander("Size arithmetic for every layer"):
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption("'same' padding (EfficientNet, from TensorFlow) adds just enough zeros, sometimes one more "
               "on one side, that the output is ⌈W/S⌉; the 2P column of the formula is that total.")

channels, means = cnn.top_channels(fmaps, cfg.top_k)
values, zmin, zmax = cnn.grid_values(fmaps, channels, cfg.scale)
ncols = min(len(channels), 4)
nrows = -(-len(channels) // ncols)
grid = make_subplots(rows=nrows, cols=ncols, subplot_titles=[f"ch {c} · mean {m:.2f}" for c, m in zip(channels, means)],
                     horizontal_spacing=0.02, vertical_spacing=0.06)
for i, fmap in enumerate(values):
    grid.add_trace(go.Heatmap(z=fmap[::-1], coloraxis="coloraxis"), row=i // ncols + 1, col=i % ncols + 1)
grid.update_layout(coloraxis=dict(colorscale="Magma", cmin=zmin, cmax=zmax), height=230 * nrows + 40,
                   margin=dict(l=10, r=10, t=40, b=10))
grid.update_xaxes(showticklabels=False)
grid.update_yaxes(showticklabels=False, scaleanchor="x")
st.plotly_chart(grid, width="stretch", key="cnn_grid")
st.caption(f"The {len(channels)} most active of {fmaps.shape[0]} channels, brightest = strongest response "
           f"({cfg.scale} colour scale). Early layers follow edges and colours of the photo; deeper layers "
           "are coarser and fire on parts (eyes, fur, ears).")

# --- one channel on the photo, and the first layer's filters -------------------------------------
left, right = st.columns([3, 2])
with left:
    channel = st.selectbox("Channel to overlay on the photo", [int(c) for c in channels], key="cnn_channel",
                           format_func=lambda c: f"channel {c}")
    alpha = st.slider("Heatmap opacity", 0.0, 1.0, 0.7, 0.05, key="cnn_alpha")
    st.image(cnn.overlay(picked.pixels if backbone.key != "digits" else seen, fmaps[channel], alpha),
             caption=f"Where channel {channel} of {cfg.layer} fires (bright = strong), enlarged to the photo.",
             width="stretch")
with right:
    name, weight = backbone.first_conv()
    st.image(cnn.filter_tiles(weight), caption=f"The {weight.shape[0]} filters of the first layer ({name}, "
             f"{weight.shape[2]}×{weight.shape[3]}×{weight.shape[1]}), each stretched to full contrast: "
             "the colour and edge detectors everything else is built on.", width="stretch")
