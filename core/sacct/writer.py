"""Writing a parsed frame back as ``--parsable2`` text."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pandas as pd

from core.sacct.fields import BYTE_FIELDS, DECIMAL_FIELDS, DURATION_FIELDS, FIELD_OF_COLUMN, TIME_FIELDS

# --- Writing back -------------------------------------------------------------------------------------------------


def _format_duration(values: pd.Series) -> pd.Series:
    def one(v: float) -> str:
        if pd.isna(v):
            return ""
        days, rest = divmod(float(v), 86400)
        hours, rest = divmod(rest, 3600)
        minutes, seconds = divmod(rest, 60)
        sec = f"{seconds:06.3f}" if seconds != int(seconds) else f"{int(seconds):02d}"
        text = f"{int(hours):02d}:{int(minutes):02d}:{sec}"
        return f"{int(days)}-{text}" if days else text

    return values.map(one)


def to_parsable2(frame: pd.DataFrame, *, timezone: str = "UTC") -> str:
    """Write a parsed frame back as ``--parsable2`` text that :func:`parse_sacct` reads to the same values."""
    zone = ZoneInfo(timezone)
    header: list[str] = []
    columns: list[pd.Series] = []
    if "job-id" in frame.columns:
        job = frame["job-id"].fillna("").astype(str)
        step = frame["step"].fillna("") if "step" in frame.columns else pd.Series("", index=frame.index)
        header.append("JobID")
        columns.append(job.where(step == "", job + "." + step.astype(str)))
    for col in frame.columns:
        if col in ("job-id", "step", "req-mem-scope"):
            continue
        field_name = FIELD_OF_COLUMN.get(col)
        if field_name is None:
            continue
        s = frame[col]
        if field_name in DURATION_FIELDS:
            text = _format_duration(s)
        elif field_name in TIME_FIELDS:
            stamps = pd.to_datetime(s, unit="s", utc=True).dt.tz_convert(zone).dt.strftime("%Y-%m-%dT%H:%M:%S")
            text = stamps.fillna("")
        elif field_name in BYTE_FIELDS or field_name in DECIMAL_FIELDS:
            text = s.map(lambda v: "" if pd.isna(v) else repr(float(v)).removesuffix(".0"))
            if field_name == "ReqMem" and "req-mem-scope" in frame.columns:
                scope = frame["req-mem-scope"].fillna("").map({"cpu": "c", "node": "n"}).fillna("")
                text = text + scope.where(text != "", "")
        else:
            text = s.astype(object).map(lambda v: "" if pd.isna(v) else str(v))
        header.append(field_name)
        columns.append(text.astype(str))
    body = pd.concat(columns, axis=1).astype(str).agg("|".join, axis=1) if columns else pd.Series(dtype=str)
    return "\n".join(["|".join(header), *body.tolist()]) + "\n"
