"""Turn what a user typed into numbers, with messages that say exactly what is wrong."""

from __future__ import annotations

import re

import numpy as np

_SEPARATORS = re.compile(r"[,\s]+")


def parse_vector(text: str, name: str) -> np.ndarray:
    """Parse ``"0.5, -0.3, 0.2"`` (commas and/or spaces, optional brackets) into a finite 1-D array."""
    cells = [c for c in _SEPARATORS.split(text.strip().strip("[]()")) if c]
    if not cells:
        raise ValueError(f"{name} is empty: type numbers separated by commas, e.g. 0.5, -0.3, 0.2")
    values = []
    for position, cell in enumerate(cells, start=1):
        try:
            value = float(cell)
        except ValueError:
            raise ValueError(f"{name}: entry {position} is {cell!r}, which is not a number") from None
        if not np.isfinite(value):
            raise ValueError(f"{name}: entry {position} is {cell!r}; only finite numbers are allowed")
        values.append(value)
    return np.array(values)


def parse_matrix(text: str, name: str) -> np.ndarray:
    """Parse one row per line (or rows separated by ``;``) into a finite 2-D array with equal rows."""
    lines = [line for line in re.split(r"[;\n]", text.strip().strip("[]")) if line.strip(" \t[](),")]
    if not lines:
        raise ValueError(f"{name} is empty: type one row per line, numbers separated by commas")
    rows = [parse_vector(line, f"{name}, row {i}") for i, line in enumerate(lines, start=1)]
    widths = {row.size for row in rows}
    if len(widths) > 1:
        raise ValueError(f"{name}: rows have different lengths {[row.size for row in rows]}; every row needs the same")
    return np.vstack(rows)


def format_vector(v: np.ndarray, digits: int = 4) -> str:
    """The inverse of :func:`parse_vector`, for filling an input box."""
    return ", ".join(f"{x:.{digits}g}" for x in np.asarray(v, dtype=float))


def format_matrix(M: np.ndarray, digits: int = 4) -> str:
    """The inverse of :func:`parse_matrix`: one row per line."""
    return "\n".join(format_vector(row, digits) for row in np.atleast_2d(M))
