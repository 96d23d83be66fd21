"""Widget groups of the regression page: the data choice (a built-in set or the user's CSV)."""

from __future__ import annotations

import streamlit as st

from core.tables import CsvInputError, parse_xy, read_csv_upload
from ui.frame import show_error

DATA_LABELS = {"cubic": "Cubic y = 0.9 + 0.5x + 3x² + 2.4x³", "tutorial": "Tutorial's 15 points",
               "custom": "Upload a CSV"}


def data_controls() -> dict:
    """Sidebar data choices -> Config fields (CSV columns become tuples so the Config hashes)."""
    st.sidebar.header("Data")
    dataset = st.sidebar.radio("Data set", list(DATA_LABELS), format_func=DATA_LABELS.get, key="reg_dataset")
    if dataset == "cubic":
        return {"dataset": "cubic",
                "n_samples": st.sidebar.slider("Samples", 10, 500, 60, 10, key="reg_samples"),
                "noise": st.sidebar.slider("Noise (std of y)", 0.0, 5.0, 1.0, 0.1, key="reg_noise")}
    if dataset == "tutorial":
        return {"dataset": "tutorial"}
    upload = st.sidebar.file_uploader("CSV file", type=["csv", "txt"], key="reg_csv",
                                      help="Any CSV with at least two numeric columns.")
    if upload is None:
        st.info("Upload a CSV in the sidebar, then choose its x and y columns. Until then, the cubic is shown.")
        return {"dataset": "cubic"}
    try:
        frame = read_csv_upload(upload.getvalue())
        columns = list(frame.columns)
        if len(columns) < 2:
            raise CsvInputError("The CSV needs at least two columns (x and y).")
        x_col = st.sidebar.selectbox("x column", columns, index=0, key="reg_xcol")
        y_col = st.sidebar.selectbox("y column", columns, index=1, key="reg_ycol")
        x, y, dropped = parse_xy(frame, x_col, y_col)
    except ValueError as exc:
        show_error(exc, "This CSV cannot be used")
        st.info("Showing the cubic instead.")
        return {"dataset": "cubic"}
    if dropped:
        st.warning(f"{dropped} row(s) with gaps were left out.")
    return {"dataset": "custom", "x_data": x, "y_data": y}
