"""The history: the History page over a year of 1,000,000 jobs, compaction of a month, and collect's own work.

Area ``history``:

- ``history.1M_jobs.*``: 12 months × 3 clusters of job tables (``jobs.parquet``, 1,000,000 jobs in all, the figures
  a merge writes) in a LocalStore; the History page rendered by AppTest in a child process: its first render over
  the whole year with its caches cleared (as every page's ``first_render``, bench/pages.py), a change of grouping,
  and the child's resident memory growth from before the page first ran.
- ``history.1M_jobs.swift_50ms.*``: the same year in the stack's Swift, with 50 ms added to every storage request
  (CSC Allas is tens of ms away, not loopback): a new app process where a session of the stack's other user has
  opened the History page once (``process_first_render``: the process's imports and first use of its libraries),
  then one signed-in session over Streamlit's websocket protocol opening it over its own year (``first_render``)
  and the storage requests it made.
- ``history.engine.*``: the page's aggregation (week × partition: counts, sums, three medians, a 90th percentile)
  over the same 1,000,000 jobs with pandas, and with DuckDB when it is importable (it is not a dependency).

Area ``collect`` (``python -m bench --only collect``; ``--quick`` takes a month of 20,000 rows):

- ``collect.compact_month.seconds``: merging a month of about 52,000 jobs (a 200,000-row generated sacct run),
  10 % of them in a newer state, into the stored month: read, replace, write both objects.
- ``collect.one_hour.seconds``: ``collect`` of an hour of about 500 jobs into that existing month, sacct's own time
  (here a recorded output handed over in memory) reported apart.
- ``collect.first_year.sacct_calls``: the sacct calls of a first pull of a year in one-day windows.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench import generate
from bench.results import Results

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboard" / "app.py"
CLUSTERS = ("puhti", "mahti", "lumi")
LIMIT = 300
#: sacct rows of the compacted month: about 52,000 jobs, twice a month of 1,000,000 jobs a year over 3 clusters.
MONTH_ROWS = 200_000


def _settings(root: Path) -> Any:
    from core.settings import load_settings

    return load_settings(None, {"STORE": "local", "LOCAL_STORE_PATH": str(root)})


def year_of_jobs(jobs: int, first_month: str = "2025-01", seed: int = 7) -> pd.DataFrame:
    """``jobs`` synthetic job rows with the job table's columns over 12 months and 3 clusters."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp(first_month + "-01", tz="UTC").timestamp()
    # Whole seconds, as sacct prints times and durations.
    submit = np.round(start + rng.uniform(0, 365 * 86_400, jobs))
    wait = np.round(rng.exponential(900, jobs))
    elapsed = np.round(rng.exponential(3 * 3600, jobs))
    cpus = rng.choice([1, 2, 4, 8, 16, 40, 128], jobs)
    state = rng.choice(["COMPLETED", "FAILED", "TIMEOUT", "CANCELLED", "OUT_OF_MEMORY"], jobs,
                       p=[0.8, 0.1, 0.04, 0.04, 0.02])
    cluster = rng.choice(CLUSTERS, jobs)
    frame = pd.DataFrame({
        "cluster": cluster, "platform": cluster,
        "month": pd.to_datetime(submit, unit="s", utc=True).strftime("%Y-%m"),
        "job-id": (10_000_000 + np.arange(jobs)).astype(str),
        "job-name": rng.choice(["train", "eval", "prep", "sweep", "export", "jupyter"], jobs),
        "state": state, "partition": rng.choice(["small", "large", "medium", "test", "standard", "hugemem"], jobs),
        "account": rng.choice([f"project_200{i}" for i in range(8)], jobs),
        "user": rng.choice([f"user{i:02d}" for i in range(40)], jobs),
        "finished": True, "failed": state != "COMPLETED",
        "alloc-cpus": cpus, "n-nodes": np.ones(jobs, dtype="int64"),
        "elapsed-seconds": elapsed, "core-seconds": elapsed * cpus,
        "total-cpu-seconds": np.round(elapsed * cpus * rng.uniform(0, 1, jobs)),
        "submit-time": submit, "start-time": submit + wait, "end-time": submit + wait + elapsed,
        "queue-wait-seconds": wait, "cpu-efficiency": rng.uniform(0, 1, jobs),
        "time-efficiency": rng.uniform(0, 1, jobs), "memory-efficiency": rng.uniform(0, 1.2, jobs),
        "req-mem-bytes": cpus * 2.0 * 1024**3, "gpus": np.where(rng.random(jobs) < 0.1, 4.0, 0.0),
    })
    frame["gpu-type"] = pd.Series("a100", index=frame.index, dtype="string").where(frame["gpus"] > 0)
    frame["nvme-gib"] = 0.0
    frame["gpu-seconds"] = frame["gpus"] * frame["elapsed-seconds"]
    for column in ("cluster", "platform", "month", "job-id", "job-name", "state", "partition", "account", "user"):
        frame[column] = frame[column].astype("string")
    return frame


def write_year(root: Path, jobs: int) -> pd.DataFrame:
    """The year's job tables in a LocalStore at ``root``, one ``jobs.parquet`` per cluster-month."""
    from core.store.local import LocalStore

    return store_year(LocalStore(root), _settings(root), jobs)


def store_year(store: Any, settings: Any, jobs: int) -> pd.DataFrame:
    """The year's job tables in ``store``'s forwarder bucket, one ``jobs.parquet`` per cluster-month."""
    from core.services import history
    from core.services.sacct import forwarder_bucket

    frame = year_of_jobs(jobs)
    for (cluster, month), part in frame.groupby(["cluster", "month"]):
        store.put_object(forwarder_bucket(settings), history.partition_folder(str(cluster), str(month))
                         + history.JOBS_OBJECT,
                         history.month_parquet(part.reset_index(drop=True)[list(history.JOB_COLUMNS)]),
                         metadata={"generation": 1, "jobs": len(part)})
    return frame


def engine(results: Results, frame: pd.DataFrame) -> None:
    """The page's aggregation by pandas and (when importable) by DuckDB, on the same frame."""
    from core.services import history

    week = history.periods(frame, "week", "UTC")
    work = frame.assign(week=week)

    def by_pandas() -> None:
        grouped = work.groupby(["week", "partition"], observed=True)
        grouped.agg(jobs=("job-id", "size"), failed=("failed", "sum"), core=("core-seconds", "sum"),
                    cpu=("cpu-efficiency", "median"), mem=("memory-efficiency", "median"),
                    tim=("time-efficiency", "median"), wait=("queue-wait-seconds", "median"))
        grouped["queue-wait-seconds"].quantile(0.9)

    results.add("history.engine.pandas_aggregate_1M", _best(by_pandas), "s")
    try:
        import duckdb  # type: ignore[import-not-found]
    except ImportError:
        results.note("history.engine: DuckDB is not installed here (not a dependency); pandas only")
        return
    con = duckdb.connect()
    con.register("work", work)

    def by_duckdb() -> None:
        con.execute('select week, partition, count(*), sum(failed::int), sum("core-seconds"), '
                    'median("cpu-efficiency"), median("memory-efficiency"), median("time-efficiency"), '
                    'median("queue-wait-seconds"), quantile_cont("queue-wait-seconds", 0.9) '
                    "from work group by all").fetchall()

    results.add("history.engine.duckdb_aggregate_1M", _best(by_duckdb), "s")


def _best(work: Any, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return min(times)


def compaction_and_collect(results: Results, root: Path, month_rows: int = MONTH_ROWS) -> None:
    """compact_month, one_hour and first_year figures on a LocalStore at ``root``, a month of ``month_rows``."""
    from core.sacct import parse_sacct, to_parsable2
    from core.services import collect, history
    from core.store.local import LocalStore

    settings = _settings(root)
    store = LocalStore(root)
    text = generate.cached(month_rows, "parsable2").read_bytes()
    frame = parse_sacct(text, timezone="UTC").frame
    # One month: every job's times moved into March 2025, keeping their order and spacing.
    base = pd.Timestamp("2025-03-01", tz="UTC").timestamp()
    shift = base - float(pd.to_numeric(frame["submit-time"]).min())
    for column in ("submit-time", "start-time", "end-time"):
        frame[column] = pd.to_numeric(frame[column]) + shift
    month_span = 28 * 86_400
    frame["submit-time"] = base + (frame["submit-time"] - base) % month_span
    rows, _ = history.prepare_rows(frame, cluster="c1", source="bench", collected_at=1.0)
    history.merge_into_history(store, settings, rows)
    jobs = rows["job-id"].unique()
    changed_ids = set(jobs[:: 10])
    newer = rows[rows["job-id"].isin(changed_ids)].copy()
    newer["elapsed-seconds"] = newer["elapsed-seconds"] + 1
    newer[history.COLLECTED_AT] = 2.0
    began = time.perf_counter()
    merged = history.merge_into_history(store, settings, newer)
    results.add("collect.compact_month.seconds", time.perf_counter() - began, "s", at_most=10)
    results.note(f"collect.compact_month: a month of {len(jobs):,} jobs ({len(rows):,} rows), "
                 f"{merged.updated_jobs:,} in a newer state")

    # An hour of about 500 jobs of that month, in a later state (sacct's output written back as --parsable2).
    hour = frame[frame["job-id"].isin(jobs[:500])].copy()
    hour["elapsed-seconds"] = pd.to_numeric(hour["elapsed-seconds"]) + 2
    head = to_parsable2(hour).encode()
    first = float(pd.to_numeric(hour["submit-time"]).min())
    empty_output = head.split(b"\n", 1)[0] + b"\n"

    def recorded(argv: Any) -> bytes:
        return head if "--starttime" in argv else empty_output

    options = collect.CollectOptions(cluster="c1", since=first, until=first + 3600, window_seconds=86_400)
    began = time.perf_counter()
    report = collect.collect(store, settings, options, runner=recorded)
    results.add("collect.one_hour.seconds", time.perf_counter() - began, "s", at_most=3)
    results.add("collect.one_hour.sacct_seconds", report.sacct_seconds, "s")
    results.note(f"collect.one_hour: {report.rows_pulled:,} rows, {report.merged.updated_jobs:,} jobs updated in "
                 f"a stored month of {len(jobs):,} jobs; sacct's output recorded and handed over in memory (its "
                 "time apart), not a real slurmdbd")

    calls: list[Any] = []

    def empty(argv: Any) -> bytes:
        calls.append(argv)
        return b"JobID|State\n"

    year = collect.CollectOptions(cluster="c3", since=time.time() - 365 * 86_400, window_seconds=86_400)
    collect.collect(store, settings, year, runner=empty)
    results.add("collect.first_year.sacct_calls", len(calls), "calls", at_most=366)


def page(results: Results, jobs: int) -> None:
    """The History page in a child process (its own memory and caches), over a year this process stores."""
    with tempfile.TemporaryDirectory(prefix="bench-history-") as tmp:
        frame = write_year(Path(tmp) / "store", jobs)
        results.note(f"history.{jobs // 1_000_000}M_jobs: {len(frame):,} jobs in "
                     f"{frame.groupby(['cluster', 'month']).ngroups} cluster-months")
        del frame
        proc = subprocess.run([sys.executable, "-m", "bench.history", str(jobs), tmp], cwd=ROOT, capture_output=True,
                              text=True, timeout=LIMIT, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("FIGURE\t"):
            name, value, unit, limit = line.split("\t")[1:]
            results.add(name, float(value), unit, at_most=None if limit == "None" else float(limit))
    if proc.returncode != 0:
        raise RuntimeError(f"History page run failed:\n{proc.stderr[-3000:]}")


def _rss() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _child(jobs: int, tmp: str) -> None:
    import logging

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    os.environ.update({"STORE": "local", "LOCAL_STORE_PATH": str(Path(tmp) / "store")})
    os.chdir(tmp)
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    before = _rss()  # the app's own memory, before the History page ever ran
    # As every page's first_render (bench/pages.py): the page once (its imports), then its caches cleared.
    at.switch_page("views/history.py")
    at.run()
    if len(at.exception):
        raise RuntimeError(at.exception[0].message)
    from dashboard import components

    st.cache_data.clear()
    components.history_cache_clear()  # the prepared year is a cached resource: read and prepared again
    began = time.perf_counter()
    at.run()
    first = time.perf_counter() - began
    if len(at.exception):
        raise RuntimeError(at.exception[0].message)
    label = f"history.{jobs // 1_000_000}M_jobs"
    print(f"FIGURE\t{label}.first_render\t{first}\ts\t1", flush=True)
    at.selectbox(key="history-group").set_value("partition")
    began = time.perf_counter()
    at.run()
    print(f"FIGURE\t{label}.filter_change\t{time.perf_counter() - began}\ts\t0.5", flush=True)
    print(f"FIGURE\t{label}.app_rss_growth\t{_rss() - before}\tMiB\t500", flush=True)
    os._exit(0)


def swift_page(results: Results, jobs: int) -> None:
    """The History page of a new app process over the stack's Swift with 50 ms added to every request.

    As every page's ``first_render`` (bench/pages.py, and the local figure above): the page has run once in the
    process (its imports), here in a session of the stack's other user over that user's copy of the year, and is
    then measured in a session whose data no cache holds. The process's very first render is reported apart.
    """
    from pydantic import SecretStr

    from bench import load
    from bench.network import DELAY
    from core.auth import Credentials
    from core.settings import load_settings
    from core.store.swift import SwiftStore
    from stack.app import serve
    from stack.faultproxy import interposed

    label = f"history.{jobs // 1_000_000}M_jobs.swift_50ms"
    with tempfile.TemporaryDirectory(prefix="bench-history-swift-") as tmp:
        base = Path(tmp)
        with load.swift_demo(base) as (info, env, fields):
            for user in info.users[:2]:
                store = SwiftStore.from_credentials(Credentials(auth_url=info.auth_url, username=user.username,
                                                                password=SecretStr(user.password),
                                                                project_name=user.project))
                store_year(store, load_settings(None, info.env_for(user)), jobs)
            other = load.sign_in_fields(info.auth_url, info.users[1].username, info.users[1].password,
                                        info.users[1].project)
            with interposed(info.directory, delay=DELAY) as proxy, serve(base / "app", env) as app:
                views: list[tuple[Any, Any, int]] = []

                async def open_history() -> None:
                    async with load.AppSession(app.url) as first:
                        signed = await first.sign_in(other)
                        if signed.error:
                            raise RuntimeError(signed.error)
                        process_first = await first.open("history", timeout=LIMIT)
                    async with load.AppSession(app.url) as client:
                        signed = await client.sign_in(fields)
                        if signed.error:
                            raise RuntimeError(signed.error)
                        proxy.reset_count()
                        views.append((process_first, await client.open("history", timeout=LIMIT),
                                      len(proxy.request_lines)))

                load.run_async(open_history())
                process_first, view, requests = views[0]
                for shown in (process_first, view):
                    if shown.error:
                        raise RuntimeError(f"History page over Swift failed: {shown.error}")
                results.add(f"{label}.first_render", view.seconds, "s", at_most=2)
                results.add(f"{label}.process_first_render", process_first.seconds, "s")
                results.add(f"{label}.requests", requests, "requests")
                results.add(f"{label}.app_rss", app.rss() / 2**20, "MiB")


def run(results: Results, jobs: int = 1_000_000) -> None:
    """Area ``history``: the engines and the History page, on the local store and over Swift."""
    engine(results, year_of_jobs(jobs))
    page(results, jobs)
    swift_page(results, jobs)


def run_collect(results: Results, month_rows: int = MONTH_ROWS) -> None:
    """Area ``collect``: compaction of a month, an hour's collection into it, a first year's sacct calls."""
    with tempfile.TemporaryDirectory(prefix="bench-collect-") as tmp:
        compaction_and_collect(results, Path(tmp) / "store", month_rows)


if __name__ == "__main__":
    _child(int(sys.argv[1]), sys.argv[2])
