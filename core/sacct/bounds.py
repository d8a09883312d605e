"""The range of each sacct number Slurm can record.

A value outside it (``inf``, a submit time of 4e18, an elapsed time of 1e20 s) is left empty with a warning at the
boundaries, when text is parsed and when a stored run is read, so no page has to handle a value no cluster produces.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Timestamps (``*-time``, epoch seconds): from 1970 to 2200-01-01.
LATEST_TIME = 7_258_118_400.0
#: Durations (``*-seconds``): at most 100 years.
LONGEST_DURATION = 100 * 365.25 * 86400
#: Any other number (sizes in bytes, frequencies, energy, counts): at most 2**63.
LARGEST_NUMBER = float(2**63)


def limit_of(column: str) -> float:
    """The largest value column ``column`` can hold (the smallest is always 0)."""
    if column.endswith("-time"):
        return LATEST_TIME
    if column.endswith("-seconds"):
        return LONGEST_DURATION
    return LARGEST_NUMBER


def out_of_range(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """``frame`` with every number outside what Slurm records set to null, and one message per affected column.

    Args:
        frame: a parsed or stored sacct run (kebab-case columns).

    Returns:
        ``frame`` itself when every number is in range, else a copy; the messages name the column, how many values
        and the first job affected.
    """
    changed: dict[str, pd.Series] = {}
    messages: list[str] = []
    for column in frame.columns:
        series = frame[column]
        if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        limit = limit_of(str(column))
        if _within(series, limit):  # the common case, judged without building a float copy of every column
            continue
        values = pd.to_numeric(series, errors="coerce").astype("float64")
        with np.errstate(invalid="ignore"):
            bad = values.notna() & ~((values >= 0) & (values <= limit))
        if not bad.any():
            continue
        first = int(np.flatnonzero(bad.to_numpy())[0])
        job_id = frame["job-id"].iat[first] if "job-id" in frame.columns else None
        job = f" (first: job {job_id})" if job_id is not None and not pd.isna(job_id) else ""
        messages.append(f"{column}: {int(bad.sum())} value(s) outside what Slurm records, e.g. "
                        f"{values.iat[first]:g}{job}; left empty")
        changed[str(column)] = series.mask(bad)
    return (frame.assign(**changed) if changed else frame), messages


def _within(series: pd.Series, limit: float) -> bool:
    """Whether every value of a float64 or integer column is null or in ``[0, limit]`` (other dtypes: unknown)."""
    array = series.array
    if isinstance(array, pd.arrays.IntegerArray):
        values = array.to_numpy(dtype="float64", na_value=np.nan)
    elif series.dtype == np.float64:
        values = series.to_numpy(copy=False)
    else:
        return False
    if not len(values):
        return True
    # The smallest and largest values in one pass each, without a temporary array (NaN only if every value is).
    lowest, highest = np.fmin.reduce(values), np.fmax.reduce(values)
    return not (lowest < 0 or highest > limit)  # NaN compares false both ways
