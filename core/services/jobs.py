"""Job page: one Slurm job joined across its Management entry, its sacct rows and its logs.

A job is named by its Slurm id plus where it was seen: a SACCT run (``run``) or a Management platform
(``platform``, optionally the management ``object``). Every piece is looked up on its own, so a job with no log yet or
no sacct record still has a page that says which piece is missing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import pandas as pd

from core.errors import DamagedObject, Forbidden, InvalidInput, NotFound, StoreUnavailable, failure_message
from core.models import Orchestration, Status
from core.sacct import job_metrics
from core.sacct.gpu import step_gpu_use
from core.sacct.metrics import CPU_FROM_TRES
from core.services import cost as cost_service
from core.services import findings as findings_service
from core.services import logs as logs_service
from core.services import management as management_service
from core.services import sacct as sacct_service
from core.services import sacct_selection
from core.services.logs import LogRef
from core.services.management import platform_order, transfer_table
from core.services.sacct import RunRef
from core.services.times import pipeline_bucket
from core.settings import Settings
from core.store.base import ObjectStore
from core.units import iec_size, slurm_duration

#: Status flags in the order a job goes through them (the seed's Status fields).
FLAG_ORDER: tuple[str, ...] = tuple(Status.model_fields)
_JOB_ID = re.compile(r"^\d+(_\d+)?(\+\d+)?$")


T = TypeVar("T")


@dataclass(frozen=True)
class JobKey:
    """What names a job page: the Slurm id, and the run or platform (and management object) it was seen in."""

    job_id: str
    run: str | None = None
    platform: str | None = None
    management_object: str | None = None

    def query_params(self) -> dict[str, str]:
        """The job page's URL parameters for this key (only the parts that are set)."""
        params = {"job": self.job_id}
        if self.run:
            params["run"] = self.run
        if self.platform:
            params["platform"] = self.platform
        if self.management_object:
            params["object"] = self.management_object
        return params


def parse_job_id(value: str | None) -> str:
    """A Slurm job id from a URL (``3459879``, array task ``123_4``, het component ``123+1``).

    Raises:
        InvalidInput: when ``value`` is missing or is not a job id (the message quotes it).
    """
    if value is None or not value.strip():
        raise InvalidInput("no job id given")
    text = value.strip()
    if not _JOB_ID.match(text):
        raise InvalidInput(f"{text!r} is not a Slurm job id")
    return text


@dataclass(frozen=True)
class ManagementEntry:
    """A job as the submitter's Management object records it."""

    object: str
    platform: str
    script: str
    phase: str
    flags: list[tuple[str, bool]]
    transfers: pd.DataFrame = field(compare=False)


def find_in_management(
    orchestrations: Iterable[tuple[str, Orchestration]], job_id: str, platform: str | None = None,
) -> ManagementEntry | None:
    """The first entry for ``job_id`` (on ``platform`` when given) in ``(object name, orchestration)`` pairs.

    Pass the newest object first: a job id reappears only when a pipeline reruns, and the newest state is what the
    user asks about.
    """
    for name, orchestration in orchestrations:
        for platform_name in platform_order(orchestration):
            if platform is not None and platform_name != platform:
                continue
            entry = orchestration.platforms[platform_name]
            for job in entry.jobs:
                if job.id == job_id:
                    flags = job.status.model_dump()
                    return ManagementEntry(name, platform_name, job.path, job.status.phase,
                                           [(flag, bool(flags[flag])) for flag in FLAG_ORDER],
                                           transfer_table(entry))
    return None


def sacct_rows(frame: pd.DataFrame, job_id: str) -> pd.DataFrame:
    """The job's own row and its steps (array tasks and het components of ``job_id`` too), in sacct order."""
    if frame.empty or "job-id" not in frame.columns:
        return frame.iloc[0:0]
    ids = frame["job-id"].astype("string")
    parent = frame["parent-job-id"].astype("string") if "parent-job-id" in frame.columns else ids
    return frame[((ids == job_id) | (parent == job_id)).fillna(False).astype(bool)]


@dataclass(frozen=True)
class SeffSummary:
    """The figures ``seff`` prints for a job, from its sacct rows (missing inputs stay ``None``)."""

    state: str | None
    exit_code: str | None
    nodes: float | None
    cpus: float | None
    cpu_seconds: float | None
    core_walltime_seconds: float | None
    cpu_efficiency: float | None
    elapsed_seconds: float | None
    timelimit_seconds: float | None
    memory_bytes: float | None
    requested_memory_bytes: float | None
    memory_efficiency: float | None
    queue_wait_seconds: float | None
    cpu_source: str | None = None  # where cpu_seconds came from (job_metrics' total-cpu-source)


def _number(row: pd.Series, column: str) -> float | None:
    value = row.get(column)
    return None if value is None or pd.isna(value) else float(value)


def _text(row: pd.Series, column: str) -> str | None:
    value = row.get(column)
    return None if value is None or pd.isna(value) else str(value)


def seff_summary(rows: pd.DataFrame, job_id: str, metrics: pd.DataFrame | None = None) -> SeffSummary | None:
    """The figures seff prints for ``job_id`` (core.sacct.job_metrics), or ``None`` without a job record.

    ``metrics``: the job_metrics of ``rows`` when the caller has them already.
    """
    if metrics is None:
        metrics = job_metrics(rows.drop(columns=["run", "parent-job-id"], errors="ignore"))
    if metrics.empty:
        return None
    by_id = metrics.set_index(metrics["job-id"].astype("string")) if "job-id" in metrics.columns else metrics
    if job_id not in by_id.index:
        return None
    m = by_id.loc[job_id]
    if isinstance(m, pd.DataFrame):
        m = m.iloc[0]
    own = rows[(rows["job-id"].astype("string") == job_id) & (rows["step"].fillna("") == "")] \
        if "step" in rows.columns else rows.iloc[0:0]
    exit_code = _text(own.iloc[0], "exit-code") if not own.empty else None
    cpus, elapsed = _number(m, "alloc-cpus"), _number(m, "elapsed-seconds")
    nodes = _number(own.iloc[0], "n-nodes") if not own.empty else None
    return SeffSummary(
        state=_text(m, "state"), exit_code=exit_code, nodes=nodes, cpus=cpus,
        cpu_seconds=_number(m, "total-cpu-seconds"),
        core_walltime_seconds=None if cpus is None or elapsed is None else cpus * elapsed,
        cpu_efficiency=_number(m, "cpu-efficiency"), elapsed_seconds=elapsed,
        timelimit_seconds=_number(m, "timelimit-seconds"), memory_bytes=_number(m, "max-rss"),
        requested_memory_bytes=_number(m, "req-mem-bytes"), memory_efficiency=_number(m, "memory-efficiency"),
        queue_wait_seconds=_number(m, "queue-wait-seconds"), cpu_source=_text(m, "total-cpu-source"),
    )


def logs_of(refs: Iterable[LogRef], job_id: str) -> list[LogRef]:
    """The job's logs (output, error output, seff report), output first."""
    order = {"output": 0, "error output": 1, "seff report": 2}
    own = [r for r in refs if r.job_id == job_id or r.job_id.split("_")[0] == job_id]
    return sorted(own, key=lambda r: (order.get(r.kind, 3), r.object))


def _cpu_note(summary: SeffSummary) -> str:
    if summary.cpu_seconds is None:
        return " (not recorded)"
    if summary.cpu_source == CPU_FROM_TRES:
        return (" (from the steps' TRESUsageInTot/Max cpu=, sampled each accounting interval: TotalCPU lost the CPU "
                "time of processes that were killed)")
    return ""


def seff_text(job_id: str, summary: SeffSummary, cluster: str | None = None) -> str:
    """The summary in the layout of ``seff`` (binary memory units, Slurm durations), for a plain-text box."""
    def percent(value: float | None) -> str:
        return "—" if value is None else f"{value:.2%}"

    lines = [f"Job ID: {job_id}"]
    if cluster:
        lines.append(f"Cluster: {cluster}")
    state = summary.state or "—"
    lines += [
        f"State: {state}" + (f" (exit code {summary.exit_code})" if summary.exit_code else ""),
        f"Nodes: {'—' if summary.nodes is None else f'{summary.nodes:.0f}'}",
        f"Cores: {'—' if summary.cpus is None else f'{summary.cpus:.0f}'}",
        f"CPU Utilized: {slurm_duration(summary.cpu_seconds)}" + _cpu_note(summary),
        f"CPU Efficiency: {percent(summary.cpu_efficiency)} of {slurm_duration(summary.core_walltime_seconds)} "
        "core-walltime",
        f"Job Wall-clock time: {slurm_duration(summary.elapsed_seconds)}"
        + ("" if summary.timelimit_seconds is None else f" of {slurm_duration(summary.timelimit_seconds)} limit"),
        f"Memory Utilized: {iec_size(summary.memory_bytes, unknown='—')}",
        f"Memory Efficiency: {percent(summary.memory_efficiency)} of "
        f"{iec_size(summary.requested_memory_bytes, unknown='—')}",
        f"Queue wait: {slurm_duration(summary.queue_wait_seconds)}",
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class JobView:
    """Everything the job page shows, and what could not be found."""

    key: JobKey
    management: ManagementEntry | None
    runs: list[str]
    rows: pd.DataFrame = field(compare=False)
    seff: SeffSummary | None
    logs: list[LogRef]
    notes: list[str]
    #: The advice of core.sacct.advice on the job (empty when it ran well or has no sacct record).
    findings: pd.DataFrame = field(compare=False, default_factory=pd.DataFrame)
    #: Per section (``management``, ``accounting``, ``logs``), what storage would not give it (a forbidden bucket,
    #: no answer): that section says so and the others still show.
    unreadable: dict[str, str] = field(default_factory=dict)


#: Errors that cost one section of the job page, not the page (an expired sign-in still stops the page).
_SECTION_ERRORS = (DamagedObject, Forbidden, NotFound, StoreUnavailable)


#: Newest management objects searched for a job when the link names none.
MAX_MANAGEMENT_OBJECTS = 20


def load_job(store: ObjectStore, settings: Settings, key: JobKey,
             read_run: Callable[[RunRef], pd.DataFrame]) -> JobView:
    """Join the job's Management entry, sacct rows and logs; a part the link names but storage lacks is a note.

    ``read_run`` reads one SACCT run (the page passes its cached reader). A damaged Management object or run is a
    note naming it, and the others are searched: one bad object does not hide every job.
    """
    notes: list[str] = []
    unreadable: dict[str, str] = {}

    def section(name: str, what: str, action: Callable[[], T]) -> T | None:
        try:
            return action()
        except _SECTION_ERRORS as exc:
            unreadable[name] = failure_message(what, exc)
            return None

    bucket = management_service.submitter_bucket(settings)
    management_names = section("management", f"Could not list {bucket}/MANAGEMENT/",
                               lambda: management_service.list_management(store, settings)) or []
    if key.management_object is not None:
        if key.management_object in management_names:
            management_names = [key.management_object]
        else:
            notes.append(f"Management object {key.management_object} is not in "
                         f"{management_service.submitter_bucket(settings)}; searched the newest ones instead.")
    newest = list(reversed(management_names))[:MAX_MANAGEMENT_OBJECTS]

    def readable() -> Iterator[tuple[str, Orchestration]]:
        for name in newest:
            try:
                yield name, management_service.load_orchestration(store, bucket, name)
            except _SECTION_ERRORS as exc:
                notes.append(failure_message(f"Skipped the Management object {bucket}/{name}", exc))

    entry = find_in_management(readable(), key.job_id, key.platform)

    forwarder = sacct_service.forwarder_bucket(settings)
    runs = section("accounting", f"Could not list {forwarder}/{sacct_service.SACCT_PREFIX}",
                   lambda: sacct_service.list_runs(store, settings)) or []
    chosen = runs
    if key.run is not None:
        named = [r for r in runs if r.name == key.run]
        if named:
            chosen = named
        else:
            notes.append(f"SACCT run {key.run} is not stored; searched every stored run instead.")
    found: list[pd.DataFrame] = []
    found_runs: list[str] = []
    for ref in chosen:
        try:
            frame = read_run(ref)
        except _SECTION_ERRORS as exc:
            notes.append(failure_message(f"Skipped the SACCT run {forwarder}/{ref.object}", exc))
            continue
        rows = sacct_rows(frame, key.job_id)
        if not rows.empty:
            found.append(rows)
            found_runs.append(ref.name)
    rows = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=["run", "job-id", "step"])
    first_run = rows[rows["run"] == found_runs[0]] if found_runs else rows
    seff, findings = None, pd.DataFrame()
    if found_runs:
        metrics = sacct_selection.metrics(rows)  # every run's figures at once: the first run's are seff's
        seff = seff_summary(first_run, key.job_id, metrics[metrics["run"] == found_runs[0]])
        findings = findings_service.findings(metrics, settings)
    logs = section("logs", f"Could not list {pipeline_bucket(settings)}/{logs_service.LOGS_PREFIX}",
                   lambda: logs_service.list_logs(store, settings)) or []
    return JobView(key, entry, found_runs, rows, seff, logs_of(logs, key.job_id), notes, findings, unreadable)


@dataclass(frozen=True)
class JobCost:
    """A job's GPUs, recorded GPU use and bill, with the formula that produced it, and GPU use per step."""

    platform: str
    gpus: int | None
    gpu_type: str | None
    gpu_hours: float | None
    gpu_util_percent: float | None
    gpu_mem_max_bytes: float | None
    billed: float | None
    billing_unit: str | None
    formula: str | None
    so_far: bool
    #: One row per step that printed GPU use: step, GPU use (%), peak GPU memory (GiB); empty when none did.
    steps: pd.DataFrame = field(compare=False)
    #: The job's findings (core.sacct.advice), with the billing at stake.
    findings: pd.DataFrame = field(compare=False)

    def gpu_use_text(self) -> str:
        """The recorded GPU use, or what Slurm did not record (never 0 % for a missing figure)."""
        if not self.gpus:
            return "no GPU allocated" if self.gpus == 0 else "GPU count not printed (no AllocTRES)"
        if self.gpu_util_percent is None:
            return "not recorded (the cluster collects no gres/gpuutil, e.g. MIG slices or no GPU accounting)"
        return f"{self.gpu_util_percent:.0f} % (gres/gpuutil per GPU, the busiest step)"

    def summary_text(self) -> str:
        """GPUs, GPU-hours, GPU use and the bill with its formula, as lines for a plain-text box."""
        gpus = "not printed (no AllocTRES)" if self.gpus is None else f"{self.gpus:,}" + (
            f" ({self.gpu_type})" if self.gpu_type else "") + (" GCDs" if self.platform == "lumi" and self.gpus else "")
        lines = [f"GPUs: {gpus}"]
        if self.gpus:
            lines.append(f"GPU-hours: {self.gpu_hours:,.2f} (GPUs × Elapsed)" if self.gpu_hours is not None
                         else "GPU-hours: —")
            lines.append(f"GPU use: {self.gpu_use_text()}")
            if self.gpu_mem_max_bytes is not None:
                lines.append(f"Peak GPU memory: {iec_size(self.gpu_mem_max_bytes)} (gres/gpumem)")
        lines.append(f"Billed ({self.billing_unit or 'no pool'}): {self.billing_text()}")
        return "\n".join(lines)

    def billing_text(self) -> str:
        """The formula, or why the job is not billed."""
        if self.formula is None:
            return (f"Not billed: {self.platform} has no billing rule for this partition, or sacct printed no GPU "
                    "count or memory for it.")
        return self.formula + (" so far (the job is still running)" if self.so_far else "")


def job_cost(rows: pd.DataFrame, job_id: str, platform: str | None, settings: Settings) -> JobCost | None:
    """GPUs and bill of ``job_id`` from its sacct rows of one run; ``platform`` from the run (else sacct's Cluster)."""
    metrics = sacct_selection.metrics(rows)
    mine = metrics[metrics["job-id"].astype("string") == job_id]
    if mine.empty:
        return None
    where = cost_service.job_platforms(mine, None, platform or "other")
    priced = cost_service.priced(mine, where, settings)
    job = priced.iloc[0].to_dict()
    gpus = _number(priced.iloc[0], "gpus")
    use = step_gpu_use(rows, pd.Series(np.nan if gpus is None else gpus, index=rows.index, dtype="float64"))
    steps = pd.DataFrame({"step": rows["step"].fillna("").astype(str).replace("", "(job)").to_numpy(),
                          "GPU use %": use["gpu-util"].to_numpy(),
                          "peak GPU memory GiB": use["gpu-mem-max"].to_numpy() / 2**30})
    steps = steps.dropna(subset=["GPU use %", "peak GPU memory GiB"], how="all").reset_index(drop=True)
    return JobCost(
        platform=str(job.get("platform")), gpus=None if gpus is None else int(gpus),
        gpu_type=_text(priced.iloc[0], "gpu-type"), gpu_hours=_number(priced.iloc[0], "gpu-hours"),
        gpu_util_percent=_number(priced.iloc[0], "gpu-util"), gpu_mem_max_bytes=_number(priced.iloc[0], "gpu-mem-max"),
        billed=_number(priced.iloc[0], "billed"), billing_unit=_text(priced.iloc[0], "billing-unit"),
        formula=cost_service.job_formula(job, settings), so_far=not bool(job.get("finished", True)), steps=steps,
        findings=findings_service.findings(priced, settings))


#: Management phases of a job that has ended.
ENDED_PHASES = frozenset({"complete", "failed", "cancelled", "stopped", "stored"})
#: sacct states of a job that has not ended.
ACTIVE_STATES = frozenset({"PENDING", "RUNNING", "REQUEUED", "RESIZING", "SUSPENDED", "CONFIGURING", "COMPLETING"})


def missing_log_note(job: JobView) -> str:
    """What the job page says when no log of the job is stored: when it will come, or that it should be there."""
    job_id = job.key.job_id
    states = set()
    if not job.rows.empty and "state" in job.rows.columns:
        own = job.rows[job.rows["job-id"].astype(str).str.split("_").str[0] == job_id.split("_")[0]]
        if "step" in own.columns:
            own = own[own["step"].fillna("").astype(str) == ""]
        states = {str(s) for s in own["state"].dropna()}
    ended = (job.management is not None and job.management.phase in ENDED_PHASES) or bool(
        states and not states & ACTIVE_STATES)
    if ended:
        return (f"No log of job {job_id} in LOGS/, although the job has ended: the submitter copies "
                f"slurm-{job_id}.out there after a job ends (the platform's get transfers), and this one is missing.")
    return f"No log of job {job_id} in LOGS/ yet. The submitter copies slurm-{job_id}.out there when the job ends."
