"""Points the learner places by hand: an edited table -> clean points for a Config, or a clear refusal.

The regression and decision-boundary pages let the learner add, move or delete points in a table
(seeded from the generated data) and watch the fit or the boundary follow. A table typed by a person
can hold anything: empty cells, text, a point far off the plot, a class 7, one row, none. This module
turns it into a tuple of points (hashable, so it can sit in a frozen Config and be its cache key),
says in plain words what it had to fix, and refuses what cannot be fitted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MAX_POINTS = 1000  # more than any generated set here; a pasted 10^5-row table is cut, not trained on
TEST = "test"  # the checkbox column: hold this point out of training


class PointsError(ValueError):
    """A table of points that cannot be fitted, with a message for the person who typed it."""


@dataclass(frozen=True)
class Placed:
    """Clean points as tuples of floats, one per row (the Config's ``points``), and what was fixed."""

    points: tuple[tuple[float, ...], ...]
    notes: tuple[str, ...] = ()


def seed_table(columns: tuple[str, ...], train: np.ndarray, test: np.ndarray) -> pd.DataFrame:
    """The generated data as the editable table: training rows first, then the held-out ones.

    ``train`` and ``test`` are (n, len(columns)) arrays of the numeric columns; a boolean ``test``
    column marks the held-out rows.
    """
    rows = np.concatenate([np.asarray(train, dtype=np.float64).reshape(-1, len(columns)),
                           np.asarray(test, dtype=np.float64).reshape(-1, len(columns))])
    table = pd.DataFrame(rows, columns=list(columns))
    table[TEST] = [False] * len(train) + [True] * len(test)
    return table


def allowed_range(values: np.ndarray, widen: float = 0.5) -> tuple[float, float]:
    """The generated values' span widened by ``widen`` of it on each side: where hand-placed points
    may go (far enough to tug at the fit, near enough to keep the plot readable)."""
    lo, hi = float(np.min(values)), float(np.max(values))
    pad = widen * ((hi - lo) or 1.0)
    return round(lo - pad, 3), round(hi + pad, 3)


def _is_ticked(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1", "x")
    try:
        return bool(value) and not pd.isna(value)
    except (TypeError, ValueError):
        return False


def clean_points(table: pd.DataFrame | None, columns: tuple[str, ...], bounds: dict[str, tuple[float, float]],
                 *, min_train: int = 3, label: str | None = None) -> Placed:
    """Edited table -> ``Placed``: rows of (``columns``..., is_test) with is_test 0.0 or 1.0.

    Rows with an empty, non-numeric or infinite cell are left out; values outside ``bounds`` are moved
    to its edge; a ``label`` column must hold 0 or 1 (other rows are left out) and the training points
    must include both classes. Raises PointsError when fewer than ``min_train`` training points remain.
    """
    if table is None or len(table) == 0:
        raise PointsError(f"The table is empty: add at least {min_train} points (a row each).")
    notes = []
    if len(table) > MAX_POINTS:
        notes.append(f"Only the first {MAX_POINTS} of {len(table)} rows are used.")
        table = table.iloc[:MAX_POINTS]
    missing = [c for c in columns if c not in table]
    if missing:
        raise PointsError(f"The table has no column {missing[0]!r}.")
    numbers = table[list(columns)].apply(pd.to_numeric, errors="coerce").replace([np.inf, -np.inf], np.nan)
    usable = numbers.notna().all(axis=1)
    if label is not None:
        classes = numbers[label]
        bad_class = usable & ~classes.isin([0, 1])
        if bad_class.any():
            notes.append(f"{int(bad_class.sum())} row(s) with a class other than 0 or 1 were left out.")
        usable &= ~bad_class
    dropped = int((~numbers.notna().all(axis=1)).sum())
    if dropped:
        notes.append(f"{dropped} row(s) with an empty, non-numeric or infinite cell were left out.")
    values = numbers[usable].to_numpy(dtype=np.float64, copy=True)
    held_out = np.array([_is_ticked(v) for v in table[TEST]], dtype=bool)[usable.to_numpy()] \
        if TEST in table else np.zeros(len(values), dtype=bool)
    moved = []
    for j, name in enumerate(columns):
        if name in bounds:
            lo, hi = bounds[name]
            outside = (values[:, j] < lo) | (values[:, j] > hi)
            if outside.any():
                moved.append(f"{int(outside.sum())} {name} value(s) to [{lo:g}, {hi:g}]")
                values[:, j] = np.clip(values[:, j], lo, hi)
    if moved:
        notes.append("Outside the plot's range, moved to its edge: " + "; ".join(moved) + ".")
    n_train = int((~held_out).sum())
    if n_train < min_train:
        raise PointsError(f"Only {n_train} usable training point(s) left; at least {min_train} are needed "
                          "(untick *test* on some rows, or add points).")
    if label is not None:
        train_classes = set(values[~held_out, columns.index(label)].astype(int).tolist())
        if len(train_classes) < 2:
            only = train_classes.pop()
            raise PointsError(f"Every training point is class {only}: a boundary needs points of both "
                              "classes, 0 and 1.")
    points = tuple(tuple(float(v) for v in row) + (float(t),) for row, t in zip(values, held_out))
    return Placed(points, tuple(notes))


def split(points: tuple[tuple[float, ...], ...]) -> tuple[np.ndarray, np.ndarray]:
    """Config points -> (training rows, held-out rows), each (n, k) float64 without the test flag."""
    array = np.asarray(points, dtype=np.float64).reshape(len(points), -1)
    held_out = array[:, -1] > 0
    return array[~held_out, :-1], array[held_out, :-1]
