"""Reading an uploaded CSV safely: pandas only (never pickle or eval), a size cap, clear errors."""

from __future__ import annotations

import io

import pandas as pd

MAX_CSV_BYTES = 5_000_000


class CsvInputError(ValueError):
    """An uploaded CSV that cannot be used, with a message for the person who uploaded it."""


def read_csv_upload(data: bytes) -> pd.DataFrame:
    """Bytes of an uploaded CSV -> DataFrame, or CsvInputError saying what is wrong."""
    if not data:
        raise CsvInputError("The file is empty.")
    if len(data) > MAX_CSV_BYTES:
        raise CsvInputError(f"The file is {len(data) / 1e6:.1f} MB; CSVs up to {MAX_CSV_BYTES / 1e6:.0f} MB are accepted.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("latin-1")
        except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes any byte string
            raise CsvInputError("The file is not text. Upload a comma-separated .csv file.") from None
    if "\x00" in text:
        raise CsvInputError("The file is not text (it contains binary data). Upload a .csv file.")
    try:
        frame = pd.read_csv(io.StringIO(text), sep=None, engine="python")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv_error()) as exc:
        raise CsvInputError(f"The file could not be read as CSV ({exc}).") from None
    if frame.empty or frame.shape[1] == 0:
        raise CsvInputError("The CSV has a header but no data rows.")
    frame.columns = [str(c).strip() or f"column {i + 1}" for i, c in enumerate(frame.columns)]
    return frame


def csv_error():
    import csv

    return csv.Error
