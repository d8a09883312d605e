"""Times page: stage timings of pipeline runs (TIMES/<run>.parquet in the pipeline bucket)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from core.errors import DamagedObject
from core.naming import bucket_name, folder
from core.sacct.bounds import LATEST_TIME, LONGEST_DURATION
from core.services.objects import read_frame
from core.settings import ReadLimits, Settings
from core.store.base import ObjectEntry, ObjectStore
from core.store.listing import objects_under

TIMES_PREFIX = folder("time")
STAGES = ("start", "config", "run", "cancel", "store")


def pipeline_bucket(settings: Settings) -> str:
    """The pipeline bucket of the configured user."""
    return bucket_name("pipeline", settings.bucket_prefix, settings.pipeline_user)


def run_objects(store: ObjectStore, settings: Settings) -> dict[str, ObjectEntry]:
    """Run name → its TIMES object as listed (``run-1`` for ``TIMES/run-1.parquet``; the etag keys caches)."""
    return {o.name[len(TIMES_PREFIX):].removesuffix(".parquet"): o
            for o in objects_under(store, pipeline_bucket(settings), TIMES_PREFIX)
            if o.name.endswith(".parquet") and "/" not in o.name[len(TIMES_PREFIX):]}


def read_run(store: ObjectStore, bucket: str, name: str, limits: ReadLimits) -> pd.DataFrame:
    """One TIMES object: a frame indexed by stage with begin, end and total (seconds).

    Raises:
        DamagedObject: the object is unreadable or lacks numeric begin, end and total columns (names it).
    """
    frame = read_frame(store, bucket, name, limits)
    missing = {"begin", "end", "total"} - set(frame.columns)
    if missing:
        raise DamagedObject(f"no {', '.join(sorted(missing))} column", bucket=bucket, obj=name)
    wrong = [c for c in ("begin", "end", "total") if not _is_number(frame[c])]
    if wrong:
        raise DamagedObject(f"{', '.join(wrong)} should hold seconds, not {frame[wrong[0]].dtype}",
                            bucket=bucket, obj=name)
    if frame.empty:
        raise DamagedObject("no stage recorded (0 rows)", bucket=bucket, obj=name)
    frame = frame.astype({"begin": "float64", "end": "float64", "total": "float64"})
    frame.index = frame.index.map(str)  # a stage is named by text, whatever type the writer used
    # Times no run records (negative, past 2200, a total over 100 years, inf) are left empty.
    begin_end = frame[["begin", "end"]]
    frame[["begin", "end"]] = begin_end.where((begin_end >= 0) & (begin_end <= LATEST_TIME))
    frame["total"] = frame["total"].where((frame["total"] >= 0) & (frame["total"] <= LONGEST_DURATION))
    return frame


def combine_runs(per_run: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Run frames (from :func:`read_run`) in long form: run, stage, begin, end, total (seconds), start/finish."""
    frames = []
    for run, frame in per_run.items():
        frame = frame.rename_axis("stage").reset_index()
        frame.insert(0, "run", run)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["run", "stage", "begin", "end", "total", "offset", "start", "finish"])
    out = pd.concat(frames, ignore_index=True)
    order = {s: i for i, s in enumerate(STAGES)}
    out["order"] = out["stage"].map(order).fillna(len(STAGES))
    out = out.sort_values(["run", "order"]).drop(columns="order").reset_index(drop=True)
    timed = out["total"] > 0
    first = out["begin"].where(timed).groupby(out["run"]).transform("min")
    out["offset"] = (out["begin"] - first).where(timed, 0.0)  # seconds since the run's first stage began
    out["start"] = pd.to_datetime(out["begin"], unit="s", utc=True)
    out["finish"] = pd.to_datetime(out["end"], unit="s", utc=True)
    return out


def _is_number(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def run_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per run: total seconds over stages, wall time from first begin to last end, the slowest stage."""
    if frame.empty:
        return pd.DataFrame(columns=["run", "stages total", "wall time", "slowest stage"])
    grouped = frame.groupby("run", sort=True)
    timed = frame[frame["total"] > 0].groupby("run", sort=True)  # a stage that did not run has begin = end = 0
    longest = frame["total"].fillna(-1.0).groupby(frame["run"], sort=True).idxmax()  # a run of unknown totals too
    slowest = frame.loc[longest, ["run", "stage"]].set_index("run")["stage"]
    return pd.DataFrame({
        "stages total": grouped["total"].sum(),
        "wall time": timed["end"].max() - timed["begin"].min(),
        "slowest stage": slowest,
    }).reset_index()
