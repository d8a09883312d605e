"""``hpc-monitor collect``: pull a cluster's accounting from ``sacct`` into the history, where sacct works.

A collection reads the cluster's watermark (``ARTIFACTS/SACCT/collect/<cluster>.json`` in the forwarder bucket: the
end of the last window merged, and the jobs that were not finished then), pulls those unfinished jobs again by id,
then pulls the time since the watermark (less an overlap that catches late updates: a job's end, its steps' figures)
one bounded window at a time, so a first pull of a year does not send slurmdbd one year-long query. Every few windows
the pulled rows are merged into the history (:mod:`core.services.history`) and only then is the watermark moved:
a collection killed at any point leaves whole months and a watermark that is never ahead of what was stored, and
the next one pulls again from there. Merging the same jobs again stores nothing new.
"""

from __future__ import annotations

import json
import logging
import math
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd

from core.errors import DamagedObject, MonitorError, NotFound, SacctParseError
from core.naming import folder
from core.sacct import parse_sacct
from core.sacct.metrics import UNFINISHED_STATES
from core.services import history
from core.services.sacct import forwarder_bucket
from core.settings import Settings
from core.store.base import ObjectStore

__all__ = [
    "FIELDS",
    "CollectOptions",
    "CollectReport",
    "SacctFailed",
    "cluster_of_slurm",
    "collect",
    "merge_text",
    "read_state",
    "sacct_argv",
    "state_object",
    "windows",
]

log = logging.getLogger(__name__)

#: The fields asked of ``sacct -P``: everything the history's figures need, in sacct's own names.
FIELDS = (
    "Cluster", "JobID", "JobIDRaw", "JobName", "Partition", "Account", "User", "State", "ExitCode", "Submit",
    "Eligible", "Start", "End", "Elapsed", "Timelimit", "AllocCPUS", "NNodes", "NTasks", "ReqMem", "ReqTRES",
    "AllocTRES", "TotalCPU", "UserCPU", "SystemCPU", "MaxRSS", "AveRSS", "MaxVMSize", "TRESUsageInTot",
    "TRESUsageInMax", "NodeList", "QOS", "WorkDir",
)
STATE_PREFIX = folder("arti", "SACCT", "collect")
#: Job ids per ``sacct -j`` call when unfinished jobs are pulled again.
IDS_PER_CALL = 200
#: Windows pulled before they are merged and the watermark moves.
WINDOWS_PER_MERGE = 7
SACCT_TIMEOUT = 600.0


class SacctFailed(MonitorError):
    """``sacct`` could not be run or did not answer: the message says which."""


def state_object(cluster: str, accounts: Sequence[str] = (), users: Sequence[str] = ()) -> str:
    """``ARTIFACTS/SACCT/collect/<cluster>.json``: the cluster's watermark and unfinished jobs.

    A collection filtered by account or user pulls only part of the cluster's jobs: it keeps its own watermark,
    ``<cluster>@account=<a>,user=<u>.json``.
    """
    scope = ([f"account={'+'.join(sorted(accounts))}"] if accounts else []) + (
        [f"user={'+'.join(sorted(users))}"] if users else [])
    name = history.cluster_name(cluster) + (f"@{','.join(scope)}" if scope else "")
    if not re.fullmatch(r"[A-Za-z0-9._@=,+-]{1,200}", name):
        raise ValueError(f"account and user names must be letters, digits, '.', '_' or '-': {name!r}")
    return f"{STATE_PREFIX}{name}.json"


@dataclass
class CollectState:
    """What a cluster's last collection left: pulled up to ``until`` (epoch seconds), ``unfinished`` job ids."""

    until: float | None = None
    unfinished: list[str] = field(default_factory=list)


def read_state(store: ObjectStore, settings: Settings, options: CollectOptions) -> CollectState:
    """The watermark of what ``options`` pulls; an empty state before its first collection."""
    bucket, name = forwarder_bucket(settings), state_object(options.cluster, options.accounts, options.users)
    try:
        _meta, data = store.get_object(bucket, name)
    except NotFound:
        return CollectState()
    try:
        body = json.loads(data)
        until = body.get("until")
        unfinished = [str(j) for j in body.get("unfinished", [])]
        return CollectState(float(until) if until is not None else None, unfinished)
    except (ValueError, TypeError, AttributeError) as exc:
        raise DamagedObject(f"not a collection watermark: {exc}", bucket=bucket, obj=name) from None


def _write_state(store: ObjectStore, settings: Settings, options: CollectOptions, state: CollectState) -> None:
    body = {"cluster": options.cluster, "accounts": list(options.accounts), "users": list(options.users),
            "until": state.until,
            "until_text": datetime.fromtimestamp(state.until or 0, ZoneInfo("UTC")).isoformat(),
            "unfinished": sorted(set(state.unfinished)), "written": time.time()}
    store.put_object(forwarder_bucket(settings), state_object(options.cluster, options.accounts, options.users),
                     json.dumps(body).encode(),
                     content_type="application/json")


# --- Running sacct ------------------------------------------------------------------------------------------------

Runner = Callable[[Sequence[str]], bytes]

_DBD_DOWN = ("persistinit", "persistent connection", "problem talking to the database", "slurmdbd",
             "unable to connect to database", "connection refused")


def run_command(argv: Sequence[str]) -> bytes:
    """Run ``argv`` and return its stdout; :class:`SacctFailed` says what went wrong in one line."""
    program = argv[0]
    if shutil.which(program) is None:
        raise SacctFailed(f"{program} was not found on PATH: run collect where Slurm's commands work (a login node), "
                          "or store sacct output with --from FILE")
    try:
        # The program is Slurm's, found on PATH; the arguments are built here, never passed to a shell.
        done = subprocess.run(list(argv), capture_output=True, timeout=SACCT_TIMEOUT, check=False)  # noqa: S603
    except subprocess.TimeoutExpired:
        raise SacctFailed(f"{program} did not answer within {SACCT_TIMEOUT:.0f} s") from None
    except OSError as exc:
        raise SacctFailed(f"{program} could not be run: {exc.strerror or exc}") from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        first = next((line for line in said if line.strip()), f"exit status {done.returncode}")
        if any(word in " ".join(said).lower() for word in _DBD_DOWN):
            raise SacctFailed(f"slurmdbd is not reachable ({program} said: {first.strip()})")
        raise SacctFailed(f"{program} failed with exit status {done.returncode}: {first.strip()}")
    return done.stdout


def cluster_of_slurm(runner: Runner = run_command) -> str:
    """The local cluster's name (``ClusterName`` of ``scontrol show config``)."""
    for line in runner(["scontrol", "show", "config"]).decode("utf-8", "replace").splitlines():
        name, _, value = line.partition("=")
        if name.strip() == "ClusterName" and value.strip():
            return history.cluster_name(value)
    raise SacctFailed("scontrol show config printed no ClusterName: name the cluster with --cluster")


@dataclass(frozen=True)
class CollectOptions:
    """What to pull: the cluster, the time range, the filters and how sacct is asked."""

    cluster: str
    since: float | None = None
    until: float | None = None
    accounts: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    window_seconds: float = 86_400.0
    overlap_seconds: float = 3_600.0
    json: bool = False
    #: Where the first collection of a cluster starts when no ``since`` is given: this many days back.
    first_days: float = 30.0


def _sacct_time(epoch: float, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(epoch, zone).strftime("%Y-%m-%dT%H:%M:%S")


def sacct_argv(options: CollectOptions, zone: ZoneInfo, *, window: tuple[float, float] | None = None,
               jobs: Sequence[str] = ()) -> list[str]:
    """One ``sacct`` call: a time window (``-S``/``-E`` in the cluster's zone) or a list of job ids."""
    argv = ["sacct", "--json"] if options.json else ["sacct", "--parsable2", f"--format={','.join(FIELDS)}"]
    argv += ["--clusters", options.cluster]
    if options.accounts:
        argv += ["--accounts", ",".join(options.accounts)]
    if options.users:
        argv += ["--user", ",".join(options.users)]
    else:
        argv.append("--allusers")
    if window is not None:
        argv += ["--starttime", _sacct_time(window[0], zone), "--endtime", _sacct_time(window[1], zone)]
    if jobs:
        argv += ["--jobs", ",".join(jobs)]
    return argv


def windows(since: float, until: float, size: float) -> list[tuple[float, float]]:
    """``[since, until)`` cut into windows of ``size`` seconds (the last one shorter)."""
    count = max(1, math.ceil((until - since) / size)) if until > since else 0
    return [(since + i * size, min(until, since + (i + 1) * size)) for i in range(count)]


@dataclass
class CollectReport:
    """What one collection did: sacct calls and their time, what the history got, where the watermark is."""

    cluster: str
    sacct_calls: int = 0
    sacct_seconds: float = 0.0
    rows_pulled: int = 0
    merged: history.MergeResult = field(default_factory=history.MergeResult)
    until: float | None = None
    unfinished: int = 0
    windows: int = 0

    def text(self, zone: ZoneInfo) -> str:
        """One line for the command's output."""
        until = _sacct_time(self.until, zone) if self.until is not None else "-"
        return (f"Collected {self.cluster}: {self.sacct_calls:,} sacct calls ({self.sacct_seconds:.1f} s), "
                f"{self.rows_pulled:,} rows; {self.merged.text()}; up to {until} ({zone.key}), "
                f"{self.unfinished:,} unfinished jobs to pull again.")


def _unfinished_ids(rows: pd.DataFrame) -> tuple[set[str], set[str]]:
    """Job ids (as sacct prints them) of unfinished and of finished jobs, from their own lines."""
    if rows.empty or "state" not in rows.columns:
        return set(), set()
    own = rows[rows["step"].astype("string").fillna("") == ""] if "step" in rows.columns else rows
    ids = own["job-id"].astype("string")
    open_ = own["state"].astype("string").isin(UNFINISHED_STATES).fillna(False).to_numpy()
    return set(ids[open_].dropna()), set(ids[~open_].dropna())


def _pull(argv: Sequence[str], settings: Settings, options: CollectOptions, runner: Runner,
          report: CollectReport) -> pd.DataFrame:
    began = time.perf_counter()
    output = runner(argv)
    report.sacct_seconds += time.perf_counter() - began
    report.sacct_calls += 1
    if not output.strip() or (not options.json and len(output.strip().splitlines()) < 2):
        return pd.DataFrame()
    try:
        parsed = parse_sacct(output, timezone=settings.sacct_timezone)
    except SacctParseError as exc:
        raise SacctFailed(f"sacct printed something that is not accounting ({exc})") from None
    report.rows_pulled += len(parsed.frame)
    rows, unplaced = history.prepare_rows(parsed.frame, cluster=options.cluster, source="collect")
    report.merged.unplaced_rows += unplaced
    return rows


def collect(store: ObjectStore, settings: Settings, options: CollectOptions, *, runner: Runner = run_command,
            now: float | None = None, progress: Callable[[str], None] = lambda _: None) -> CollectReport:
    """Pull the cluster's jobs since its watermark (or ``options.since``) into the history.

    Storage is read before sacct is called, so a store that refuses fails before any pull; sacct's failures are
    :class:`SacctFailed`. The watermark only moves forward, and only after the windows before it are stored.
    """
    zone = ZoneInfo(settings.sacct_timezone)
    cluster = history.cluster_name(options.cluster)
    options = CollectOptions(**{**options.__dict__, "cluster": cluster})
    report = CollectReport(cluster)
    state = read_state(store, settings, options)
    end = options.until if options.until is not None else (now if now is not None else time.time())
    if options.since is not None:
        start = options.since
    elif state.until is not None:
        start = state.until - options.overlap_seconds
    else:
        start = end - options.first_days * 86_400
    unfinished = set(state.unfinished)
    pending: list[pd.DataFrame] = []
    ids = sorted(unfinished)
    for i in range(0, len(ids), IDS_PER_CALL):
        chunk = ids[i:i + IDS_PER_CALL]
        pending.append(_pull(sacct_argv(options, zone, jobs=chunk), settings, options, runner, report))
    watermark = state.until
    cut = windows(start, end, options.window_seconds)
    report.windows = len(cut)

    def flush(upto: float | None) -> None:
        nonlocal watermark
        rows = history.dedupe_pulls(pending)
        pending.clear()
        report.merged.add(history.merge_into_history(store, settings, rows))
        open_, closed = _unfinished_ids(rows)
        unfinished.difference_update(closed)
        unfinished.update(open_)
        if upto is not None:
            watermark = upto if watermark is None else max(watermark, upto)
        _write_state(store, settings, options, CollectState(watermark, sorted(unfinished)))

    for n, window in enumerate(cut, 1):
        pending.append(_pull(sacct_argv(options, zone, window=window), settings, options, runner, report))
        if n % WINDOWS_PER_MERGE == 0 or n == len(cut):
            flush(window[1])
            progress(f"{cluster}: merged up to {_sacct_time(window[1], zone)} ({n}/{len(cut)} windows)")
    if not cut:
        flush(None)
    report.until, report.unfinished = watermark, len(unfinished)
    return report


def merge_text(store: ObjectStore, settings: Settings, data: bytes, *, cluster: str | None,
               source: str = "collect --from") -> history.MergeResult:
    """``collect --from``: sacct text parsed and merged into the history as a pull would be (no watermark moves)."""
    parsed = parse_sacct(data, timezone=settings.sacct_timezone)
    rows, unplaced = history.prepare_rows(parsed.frame, cluster=cluster, source=source)
    if rows.empty and unplaced:
        raise SacctParseError(f"none of the {unplaced:,} rows names its cluster, job id and a time (Submit, Start "
                              "or End): add Cluster and Submit to sacct's --format, or give --cluster")
    result = history.merge_into_history(store, settings, rows)
    result.unplaced_rows += unplaced
    return result

