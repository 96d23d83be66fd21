"""Uploaded tables: reading a CSV safely, and turning its columns into clean series.

Reading uses pandas only (never pickle or eval), with a size cap and clear errors. A column becomes
a numeric series with its gaps filled; a date column puts it on a regular calendar first.
"""

from __future__ import annotations

import io
import math
import re
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
    freq: str | None = None        # the dates' regular step as a pandas alias ("MS", "W-SAT"...), if any
    notes: list[str] = field(default_factory=list)  # what was done to the data (shown to the user)
    frequency: str | None = None   # the same step in words: "daily", "weekly", ... (FREQUENCIES), or None

    @property
    def season(self) -> int:
        """The season length this calendar implies (0: none, e.g. yearly data or no dates)."""
        return SEASON_BY_FREQUENCY.get(self.frequency, 0)


# --- calendars: which column holds dates, and how often they come -------------------------------

# The season length (the seasonal-naive lag) each frequency implies: a week of days, a year of weeks,
# months or quarters. Yearly data has no season to repeat (sunspots' ~11-year cycle is not a calendar).
SEASON_BY_FREQUENCY = {"daily": 7, "weekly": 52, "monthly": 12, "quarterly": 4, "yearly": 0}
FREQUENCIES = tuple(SEASON_BY_FREQUENCY)
_STEP_DAYS = {"daily": 1.0, "weekly": 7.0, "monthly": 30.44, "quarterly": 91.31, "yearly": 365.25}
_DATE_NAME = re.compile(r"date|time|day|week|month|year|quarter|period|datum|jahr|日期|时间|年|月", re.I)
_QUARTER = re.compile(r"(\d{4})\s*-?\s*Q([1-4])", re.I)


def parse_dates(column: pd.Series) -> pd.Series:
    """A column -> datetime64 (NaT where unreadable). Reads text dates in any common format
    ("1949-01", "Jan-1-1995", "1995/01/31"), quarters ("1959-Q1"), and numbers that are dates:
    years (1700) and YYYYMMDD or YYYYMM integers (19580329). Other numbers are values, not dates."""
    text = column.astype(str).str.strip().str.replace(r"\.0$", "", regex=True)
    nat = pd.Series(pd.NaT, index=column.index, dtype="datetime64[ns]")
    for pattern, fmt in ((r"\d{4}", "%Y"), (r"\d{8}", "%Y%m%d"), (r"\d{6}", "%Y%m")):
        if text.str.fullmatch(pattern).mean() > 0.9:
            dates = pd.to_datetime(text, format=fmt, errors="coerce")
            # 4-digit numbers are years only in a plausible range (not e.g. prices 1000-9999)
            return dates if fmt != "%Y" or dates.dt.year.between(1000, 2200).mean() > 0.9 else nat
    if text.str.fullmatch(r"[-+]?\d*\.?\d+([eE][-+]?\d+)?").mean() > 0.5:
        return nat
    quarters = text.str.fullmatch(_QUARTER.pattern, case=False)
    if quarters.mean() > 0.9:
        parts = text.str.extract(_QUARTER)
        months = (parts[1].astype(float) - 1) * 3 + 1
        return pd.to_datetime({"year": parts[0].astype(float), "month": months, "day": 1}, errors="coerce")
    return pd.to_datetime(text, errors="coerce", format="mixed")


def guess_date_column(frame: pd.DataFrame) -> str | None:
    """The column most likely to hold the dates: at least 90 % readable as dates, preferring one named
    like a date (date, month, YEAR...). None when no column reads as dates."""
    best, best_score = None, 0.0
    for col in frame.columns:
        readable = float(parse_dates(frame[col]).notna().mean())
        if readable >= 0.9:
            score = readable + (1.0 if _DATE_NAME.search(str(col)) else 0.0)
            if score > best_score:
                best, best_score = str(col), score
    return best


def infer_frequency(dates: pd.DatetimeIndex) -> str | None:
    """"daily", "weekly", "monthly", "quarterly" or "yearly" from the median step between the
    dates (within 15 %, so 28-31-day months count as monthly), or None for irregular or other steps."""
    dates = pd.DatetimeIndex(dates).dropna().unique().sort_values()
    if len(dates) < 3:
        return None
    step = float(np.median(np.diff(dates.values).astype("timedelta64[s]").astype(np.float64))) / 86400
    for name, days in _STEP_DAYS.items():
        if step > 0 and abs(math.log(step / days)) < 0.15:
            return name
    return None


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
        parsed = parse_dates(frame[date_col])  # years and YYYYMMDD numbers read as dates too
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
    frequency = infer_frequency(dates) if dates is not None else None
    return ParsedCSV(values.to_numpy(np.float64), dates, freq, notes, frequency)


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
