"""Uploaded tables: reading a CSV safely, and turning its columns into clean series.

Reading uses pandas only (never pickle or eval), with a size cap and clear errors. A column becomes
a numeric series with its gaps filled; a date column puts it on a regular calendar first.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

MAX_CSV_BYTES = 5_000_000
MAX_SERIES_ROWS = 20_000  # a series page trains on every point: more rows would take minutes


class CsvInputError(ValueError):
    """An uploaded CSV that cannot be used, with a message for the person who uploaded it."""


# --- reading ---------------------------------------------------------------------------------


def read_csv_upload(data: bytes, *, max_rows: int | None = None) -> pd.DataFrame:
    """Bytes of an uploaded CSV -> DataFrame, or CsvInputError saying what is wrong.

    ``max_rows`` refuses longer tables (None: no limit beyond the byte cap)."""
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
    if max_rows is not None and len(frame) > max_rows:
        raise CsvInputError(f"The CSV has {len(frame)} rows; this page handles at most {max_rows}.")
    frame.columns = [str(c).strip() or f"column {i + 1}" for i, c in enumerate(frame.columns)]
    return frame


def csv_error():
    import csv

    return csv.Error


# --- a column as a series --------------------------------------------------------------------


@dataclass
class ParsedCSV:
    values: np.ndarray             # (N,) float64, gaps filled
    dates: pd.DatetimeIndex | None  # the dates of the values (sorted, gaps added), or None
    freq: str | None = None        # the dates' regular step ("MS", "D"...), if there is one
    notes: list[str] = field(default_factory=list)  # what was done to the data (shown to the user)


def _regular_dates(series: pd.Series) -> tuple[pd.Series, str | None]:
    """Put a date-indexed series on a regular calendar (daily, weekly, monthly, quarterly, yearly),
    adding the dates that are missing as NaN. Irregular dates are returned unchanged."""
    index = series.index
    if len(index) < 3:
        return series, None
    days = pd.Series(index).diff().median() / pd.Timedelta(days=1)
    candidates = {1 / 24: ["h"], 1: ["D"], 7: ["W-" + index[0].day_name()[:3].upper()], 30.4: ["MS", "ME"],
                  91.3: ["QS", "QE"], 365.25: ["YS", "YE"]}
    if not days > 0:
        return series, None
    nearest = min(candidates, key=lambda d: abs(math.log(days / d)))
    for freq in candidates[nearest]:
        full = pd.date_range(index[0], index[-1], freq=freq)
        if index.isin(full).all() and len(full) <= 3 * len(index):
            return series.reindex(full), freq
    return series, None


def parse_series(frame: pd.DataFrame, value_col: str, date_col: str | None = None, *,
                 min_points: int = 1) -> ParsedCSV:
    """One numeric column (optionally ordered by a date column) as a gap-free series.

    Gaps (empty cells, or dates missing from a regular calendar) are filled by linear interpolation
    and reported in ``notes``; a column that is mostly text, or fewer than ``min_points`` usable
    rows, raises CsvInputError.
    """
    if value_col not in frame:
        raise CsvInputError(f"There is no column {value_col!r}.")
    if date_col == value_col:
        raise CsvInputError("The value column and the date column must be different columns.")
    raw = frame[value_col]
    values = pd.to_numeric(raw, errors="coerce")
    text = values.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
    if values.notna().sum() == 0 or text.sum() > 0.1 * len(raw):
        example = raw[text].astype(str).head(1).tolist()
        raise CsvInputError(f"Column {value_col!r} is not numeric: {int(text.sum())} of {len(raw)} cells are "
                            f"text{', e.g. ' + repr(example[0]) if example else ''}. Pick a column of numbers.")
    notes: list[str] = []
    dates, freq, added = None, None, 0
    if date_col:
        # as text, so that a column of years (1949, 1950...) reads as years, not as nanoseconds
        text_dates = frame[date_col].astype(str).str.strip()
        parsed = pd.to_datetime(text_dates, errors="coerce", format="mixed")
        if parsed.isna().mean() > 0.1:
            raise CsvInputError(f"Column {date_col!r} does not look like dates. Choose another, or none.")
        if parsed.isna().any():
            notes.append(f"{int(parsed.isna().sum())} row(s) without a readable date were left out.")
        series = pd.Series(values.to_numpy(), index=pd.DatetimeIndex(parsed))
        series = series[series.index.notna()].sort_index()
        if series.index.has_duplicates:
            notes.append("Rows sharing a date were averaged.")
            series = series.groupby(level=0).mean()
        before = len(series)
        series, freq = _regular_dates(series)
        if len(series) > before:
            added = len(series) - before
            notes.append(f"{added} missing date{'s were' if added > 1 else ' was'} added and filled by "
                         "linear interpolation.")
        dates, values = pd.DatetimeIndex(series.index), pd.Series(series.to_numpy())
    gaps = int(values.isna().sum()) - added
    if gaps:
        notes.append(f"{gaps} value{'s were' if gaps > 1 else ' was'} empty or not a number; "
                     f"{'they were' if gaps > 1 else 'it was'} filled by linear interpolation.")
    values = values.interpolate(limit_direction="both")
    if len(values) < min_points:
        raise CsvInputError(f"Only {len(values)} usable rows; at least {min_points} are needed "
                            "to train on one part and test on another.")
    return ParsedCSV(values.to_numpy(np.float64), dates, freq, notes)


# --- two columns as (x, y) pairs -------------------------------------------------------------


def parse_xy(frame: pd.DataFrame, x_col: str, y_col: str) -> tuple[tuple[float, ...], tuple[float, ...], int]:
    """Two columns -> (x, y) tuples (tuples, so a Config holding them hashes), plus the number of
    rows dropped for gaps. Text columns or fewer than 3 complete rows raise CsvInputError."""
    if x_col == y_col:
        raise CsvInputError("Choose two different columns for x and y.")
    cols = {}
    for name in (x_col, y_col):
        values = pd.to_numeric(frame[name], errors="coerce")
        bad = values.isna() & frame[name].notna()
        if bad.any():
            example = frame[name][bad].iloc[0]
            raise CsvInputError(f"Column {name!r} is not numeric (e.g. {str(example)[:30]!r} in row "
                                f"{int(bad.idxmax()) + 2}). Pick a numeric column.")
        cols[name] = values
    both = pd.DataFrame(cols).replace([np.inf, -np.inf], np.nan)
    clean = both.dropna()
    dropped = len(both) - len(clean)
    if len(clean) < 3:
        raise CsvInputError(f"Only {len(clean)} complete rows; at least 3 are needed to fit a curve.")
    return tuple(clean[x_col].astype(float)), tuple(clean[y_col].astype(float)), dropped
