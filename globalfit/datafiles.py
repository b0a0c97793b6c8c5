"""Reading numeric data files (public releases, tables) with their checks, in one place.

Every loader of a release file (KamLAND, COHERENT, Super-K, SNO, ...) reads its tables
through `read_table` (whitespace- or comma-separated numbers) or checks a ``pandas`` table
with `check_frame`, so that a damaged, truncated or wrong file is refused *when it is
loaded*, with the file, the line and the column named, instead of surfacing later as
numpy's message or as NaN inside a sampler:

* every value must parse as a number and be finite;
* every row has the same number of values (``columns`` if given);
* at least ``min_rows`` rows.

`DataFileError` (a ``ValueError``) carries the message; it ends with the fix (the file is
damaged or not the expected release: get it again from its source).
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

FIX = "the file is damaged or is not the expected release file: get it again from its source"


class DataFileError(ValueError):
    """A data file that is missing, unreadable or holds values that are not finite numbers."""


def read_table(path: str | Path, columns: int | None = None, delimiter: str | None = None,
               comments: str = "#", min_rows: int = 1) -> np.ndarray:
    """A numeric table (rows, columns) from a text file, every value checked.

    Parameters
    ----------
    path : path
    columns : int, optional
        Values expected on every row (default: as many as on the first data row).
    delimiter : str, optional
        Separator (default: whitespace); ``","`` for CSV files of numbers.
    comments : str
        Lines starting with this (after blanks) and the rest of a line after it are
        ignored; blank lines too.
    min_rows : int
        Fewest data rows accepted.

    Raises
    ------
    DataFileError
        Naming the file, the line and the column of the first bad value, or the row count.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataFileError(f"{path}: not found") from None
    except UnicodeDecodeError as error:
        raise DataFileError(f"{path}: not a text file (byte {error.start}); {FIX}") from None
    rows: list[list[float]] = []
    width = columns
    for number, line in enumerate(text.splitlines(), start=1):
        if comments:
            line = line.split(comments, 1)[0]
        fields = line.split(delimiter) if delimiter else line.split()
        fields = [f.strip() for f in fields]
        if not any(fields):
            continue
        if width is None:
            width = len(fields)
        if len(fields) != width:
            raise DataFileError(f"{path}: line {number} has {len(fields)} values, expected "
                                f"{width}; {FIX}")
        row = []
        for column, field in enumerate(fields, start=1):
            try:
                value = float(field)
            except ValueError:
                raise DataFileError(f"{path}: line {number}, column {column}: {field[:40]!r} "
                                    f"is not a number; {FIX}") from None
            if not np.isfinite(value):
                raise DataFileError(f"{path}: line {number}, column {column}: {field[:40]} is "
                                    f"not a finite number; {FIX}")
            row.append(value)
        rows.append(row)
    if len(rows) < min_rows:
        raise DataFileError(f"{path}: {len(rows)} data rows, expected at least {min_rows} "
                            f"(truncated?); {FIX}")
    return np.array(rows, dtype=float).reshape(len(rows), width or 0)


def check_frame(table, path: str | Path, numeric: Sequence[str], min_rows: int = 1):
    """Check a ``pandas.DataFrame`` read from ``path``: the ``numeric`` columns exist and
    hold finite numbers, and there are at least ``min_rows`` rows. Returns ``table``.

    Raises
    ------
    DataFileError
        Naming the file, the column and the first bad row (counted from 1 after the header).
    """
    import pandas as pd

    missing = [c for c in numeric if c not in table.columns]
    if missing:
        raise DataFileError(f"{path}: lacks the columns {missing} (has "
                            f"{list(table.columns)[:12]}); {FIX}")
    if len(table) < min_rows:
        raise DataFileError(f"{path}: {len(table)} data rows, expected at least {min_rows} "
                            f"(truncated?); {FIX}")
    for column in numeric:
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            row = int(bad[0])
            raise DataFileError(f"{path}: data row {row + 1}, column {column!r}: "
                                f"{table[column].iloc[row]!r} is not a finite number; {FIX}")
    return table
