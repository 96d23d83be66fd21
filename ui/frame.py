"""The shared frame: page config, sidebar navigation and device badge, the page's idea.

Every page has one skeleton: its imports, all at the top (importing draws nothing, and Streamlit
1.67 applies ``set_page_config`` wherever it is called, so nothing needs deferring); ``page_frame``
as its first statement, so a deep link to any page on a fresh server shows the same frame
(Streamlit's pages/ convention, our own navigation: tests/e2e/test_05_navigation_choice.py says
why not ``st.navigation``); ``controls() -> Config``; the job (``ui.jobs.train_live`` then
``result_or_stop``); then the panels, which live in ``ui/panels_<topic>.py`` and
``ui/charts_<topic>.py``. Widget keys carry the page's prefix (``reg_``, ``lr_``, ``cnn_``,
``lstm_``, ``emb_``, ``ae_``, ``gan_``, ``dd_``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from core.device import describe_device, get_device

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PageInfo:
    path: str  # relative to the repo root, as st.page_link and AppTest.switch_page want it
    title: str
    icon: str
    blurb: str
    chapter: str


PAGES: tuple[PageInfo, ...] = (
    PageInfo("pages/1_Regression.py", "Regression", ":material/show_chart:",
             "Fit a line or a polynomial by gradient descent and watch it meet the closed-form answer.", "3.2"),
    PageInfo("pages/2_Decision_Boundary.py", "Decision Boundary", ":material/scatter_plot:",
             "Logistic regression and small MLPs carving up the plane; move the threshold.", "3.3–3.4"),
    PageInfo("pages/3_CNN_Feature_Maps.py", "CNN Feature Maps", ":material/image_search:",
             "Upload a photo and see what every layer of a real ImageNet CNN responds to.", "4.2–4.5"),
    PageInfo("pages/4_LSTM_Forecasting.py", "LSTM Forecasting", ":material/timeline:",
             "Forecast airline passengers (or your own series) with an RNN, GRU or LSTM.", "5.1–5.3"),
    PageInfo("pages/5_Word_Embeddings.py", "Word Embeddings", ":material/text_fields:",
             "word2vec on a whole novel, or the tutorial's N-gram model on a sonnet: explore the word vectors.", "5.4"),
    PageInfo("pages/6_Autoencoder.py", "Autoencoder", ":material/blur_on:",
             "Squeeze MNIST digits into 3 numbers, rotate the latent space and decode any point.", "6.1"),
    PageInfo("pages/7_GAN.py", "GAN", ":material/casino:",
             "Train a generator against a discriminator and watch digits emerge from noise.", "6.2"),
    PageInfo("pages/8_Deep_Dream.py", "Deep Dream", ":material/cyclone:",
             "Make a CNN amplify what it sees in your photo, octave by octave.", "7.2"),
)


@st.cache_resource(show_spinner=False)
def _device_badge() -> dict[str, str]:
    return describe_device(get_device())


HOME = PageInfo("streamlit_app.py", "Home", ":material/home:", "What the explorer is and how it works.", "")


def page_frame(title: str, icon: str = ":material/psychology:", *, intro: str | None = None, formula: str | None = None) -> None:
    """Page config, title, the device badge in the sidebar and the page's idea in a few lines.

    The first Streamlit call of every page, so the page config (wide layout, title, icon) applies
    from the first element on. A page listed in PAGES always gets its listed icon, so the
    navigation and the title agree.
    """
    listed = next((page for page in PAGES if page.title == title), None)
    icon = listed.icon if listed is not None else icon
    st.set_page_config(page_title=f"{title} · Deep Learning Explorer", page_icon=icon, layout="wide")
    device = _device_badge()
    with st.sidebar:
        # Our own navigation (config.toml hides Streamlit's, which would label the home page
        # "streamlit app" after the entry file's name).
        st.markdown("### :material/psychology: Deep Learning Explorer")
        for page in (HOME, *PAGES):
            if (ROOT / page.path).is_file():  # a test asserts all eight exist
                st.page_link(page.path, label=page.title, icon=page.icon)
        st.divider()
        st.markdown(f"**Device:** `{device['kind']}` · {device['name']}  \n"
                    f"torch {device['torch']} · {device['threads']} CPU threads")
    st.title(f"{icon} {title}")
    if intro:
        st.markdown(intro)
    if formula:
        st.latex(formula)


def show_error(problem: BaseException | str, what: str = "That did not work", *, icon: str = ":material/warning:") -> None:
    """The one way pages show a problem: a clear message instead of a traceback (the app keeps
    running), "**What went wrong.** Why", in an error box."""
    st.error(f"**{what}.** {problem}", icon=icon)
