"""Deep Learning Explorer: the home page. Pages live in pages/ (Streamlit's auto-discovery), and
every page opens with ui.frame.page_frame, so a deep link shows the same frame as this page."""

import streamlit as st

from ui.frame import PAGES, ROOT, page_frame

page_frame(
    "Deep Learning Explorer",
    ":material/psychology:",
    intro=(
        "See the classic PyTorch examples **work**: move a slider and the model retrains, upload a "
        "photo and see what a CNN sees in it. Every page trains or runs a real PyTorch model on this "
        "machine's device (shown in the sidebar), following the chapters of an introductory PyTorch "
        "tutorial: linear models, MLPs, CNNs, RNNs, embeddings, autoencoders, GANs and Deep Dream."
    ),
)

st.subheader("Pages")
columns = st.columns(2)
for index, page in enumerate(page for page in PAGES if (ROOT / page.path).is_file()):
    with columns[index % 2].container(border=True):
        st.page_link(page.path, label=f"**{page.title}**", icon=page.icon)
        st.caption(f"{page.blurb}  \nTutorial § {page.chapter}")

st.subheader("How it works")
st.markdown(
    "- Models are trained once per setting and cached in memory and on disk; the same settings "
    "always give the same model (the seed is a setting).\n"
    "- Training runs in the background with a live loss chart and a **Stop** button.\n"
    "- Nothing is downloaded unless you ask: the MNIST digits, the ImageNet CNN and the sample "
    "photos ship with the installed packages."
)
