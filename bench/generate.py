"""Deterministic, realistic sacct inputs (``random.Random(seed)``) in parsable2 and fixed-width form.

Jobs come with their ``.batch`` and ``.extern`` steps and sometimes numbered steps (``.0``, ``.1``); some jobs are
array tasks (``123_4``) or heterogeneous components (``123+0``). Values include ``Unknown`` times (pending and
running jobs), ``UNLIMITED`` time limits, suffixed sizes (``1234K``, ``2.5G``), ``CANCELLED by 123`` states,
durations with days (``1-02:03:04``) and ``MM:SS.mmm`` CPU times. The fixed-width form is what ``sacct`` prints:
a header line, a dashes line, ``JobID`` left-aligned and the rest right-aligned, every field followed by a space,
and values longer than the column cut to the width with a trailing ``+``.

Generated files are cached under ``bench/.cache/`` (keyed by row count, seed and format).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"
SEED = 20240611

#: Fields and their default sacct column widths.
FIELDS: tuple[tuple[str, int], ...] = (
    ("JobID", 12), ("JobName", 10), ("Partition", 10), ("State", 10), ("Submit", 19), ("Start", 19), ("End", 19),
    ("Elapsed", 10), ("Timelimit", 10), ("TotalCPU", 10), ("AllocCPUS", 10), ("ReqMem", 10), ("MaxRSS", 10),
    ("MaxDiskRead", 12), ("MaxDiskWrite", 12), ("NTasks", 8), ("ExitCode", 8),
)
NAMES = [f for f, _ in FIELDS]

_PARTITIONS = ("small", "large", "gpu", "medium", "test", "hugemem", "longrun", "interactive")
_JOB_NAMES = ("train", "ray-cluster", "preprocess", "eval", "hyperparam_sweep_long_name", "bash", "jupyter",
              "finetune-llama", "export", "sim_01", "snakejob.align_reads.123.sh", "mpi_solver")
_STEP_PROGRAMS = ("python", "srun", "hydra_pmi_proxy", "orted", "torchrun", "ray")
_FINAL_STATES = (("COMPLETED", 60), ("FAILED", 10), ("CANCELLED", 8), ("TIMEOUT", 5), ("OUT_OF_MEMORY", 3),
                 ("RUNNING", 7), ("PENDING", 5), ("NODE_FAIL", 1), ("PREEMPTED", 1))
_STATE_NAMES = [s for s, _ in _FINAL_STATES]
_STATE_WEIGHTS = [w for _, w in _FINAL_STATES]
_TIMELIMITS = ("00:15:00", "01:00:00", "02:00:00", "12:00:00", "1-00:00:00", "3-00:00:00", "UNLIMITED",
               "Partition_Limit")
_EPOCH0 = 1_700_000_000  # Nov 2023


def _ts(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch))


def _duration(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}-{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def _cpu_time(rng: random.Random, seconds: float) -> str:
    """TotalCPU as sacct prints it: ``MM:SS.mmm`` under an hour, else ``[D-]HH:MM:SS``."""
    if seconds < 3600:
        minutes, secs = divmod(seconds, 60)
        return f"{int(minutes):02d}:{secs:06.3f}"
    return _duration(int(seconds))


def _size(rng: random.Random, kib: float) -> str:
    """A size as sacct prints it (``1234K``, ``2.50M``, ``2.5G``, ``0``)."""
    if kib <= 0:
        return "0"
    choice = rng.random()
    if kib < 10_000 or choice < 0.4:
        return f"{int(kib)}K"
    if kib < 10_000_000 or choice < 0.7:
        return f"{kib / 1024:.2f}M"
    return f"{kib / 1024 / 1024:.1f}G"


def _rows(rng: random.Random) -> Iterator[list[str]]:
    """Rows for ever: one job (or array task / het component) and its steps at a time."""
    job = 4_000_000
    clock = _EPOCH0
    while True:
        job += rng.randint(1, 40)
        clock += rng.randint(0, 120)
        kind = rng.random()
        if kind < 0.15:
            ids = [f"{job}_{t}" for t in range(rng.randint(1, 6))]
        elif kind < 0.20:
            ids = [f"{job}+{c}" for c in range(rng.randint(2, 3))]
        else:
            ids = [str(job)]
        name = rng.choice(_JOB_NAMES)
        partition = rng.choice(_PARTITIONS)
        for job_id in ids:
            yield from _job(rng, job_id, name, partition, clock)


def _job(rng: random.Random, job_id: str, name: str, partition: str, clock: int) -> Iterator[list[str]]:
    state = rng.choices(_STATE_NAMES, _STATE_WEIGHTS)[0]
    cpus = rng.choice((1, 2, 4, 8, 16, 32, 40, 64, 128, 256))
    timelimit = rng.choice(_TIMELIMITS)
    req_mem = rng.choice(("4000M", "16G", "2.5G", "500M", "64G", "1000M", "128G", "0"))
    submit = clock
    exit_code = "0:0"
    if state == "PENDING":
        yield [job_id, name, partition, state, _ts(submit), "Unknown", "Unknown", "00:00:00", timelimit, "00:00:00",
               str(cpus), req_mem, "", "", "", "", "0:0"]
        return
    start = submit + rng.randint(0, 7200)
    elapsed = rng.choice((rng.randint(1, 600), rng.randint(600, 86400), rng.randint(86400, 4 * 86400)))
    end_text = "Unknown" if state == "RUNNING" else _ts(start + elapsed)
    shown_state = state
    if state == "CANCELLED":
        shown_state = f"CANCELLED by {rng.randint(100, 99999)}"
        exit_code = "0:15"
    elif state in ("FAILED", "OUT_OF_MEMORY"):
        exit_code = f"{rng.randint(1, 255)}:0"
    elif state == "TIMEOUT":
        exit_code = "0:0"
    total_cpu = elapsed * cpus * rng.random()
    yield [job_id, name, partition, shown_state, _ts(submit), _ts(start), end_text, _duration(elapsed), timelimit,
           _cpu_time(rng, total_cpu), str(cpus), req_mem, "", "", "", "", exit_code]
    steps = ["batch", "extern"] + [str(i) for i in range(rng.choice((0, 0, 0, 1, 1, 2, 3)))]
    for step in steps:
        step_state = state if step != "extern" else ("COMPLETED" if state not in ("RUNNING",) else "RUNNING")
        if step_state == "CANCELLED":
            step_state = "CANCELLED"
        step_name = step if step in ("batch", "extern") else rng.choice(_STEP_PROGRAMS)
        step_elapsed = elapsed if step != "batch" else max(0, elapsed - rng.randint(0, 5))
        step_cpu = 0.0 if step == "extern" else total_cpu * rng.random()
        rss = 0.0 if step == "extern" else rng.uniform(100, 64 * 1024 * 1024)
        yield [f"{job_id}.{step}", step_name, "", step_state, _ts(start), _ts(start),
               end_text, _duration(step_elapsed), "", _cpu_time(rng, step_cpu),
               str(cpus if step != "extern" else 1), "", _size(rng, rss), _size(rng, rng.uniform(0, 5e7)),
               _size(rng, rng.uniform(0, 1e7)), "1" if step in ("batch", "extern") else str(rng.randint(1, 64)),
               "0:0" if step_state == "COMPLETED" else exit_code]


def rows(n: int, seed: int = SEED) -> list[list[str]]:
    """The first ``n`` rows of the stream for ``seed``."""
    rng = random.Random(seed)
    out: list[list[str]] = []
    for row in _rows(rng):
        out.append(row)
        if len(out) >= n:
            break
    return out


def write_parsable2(path: Path, n: int, seed: int = SEED) -> int:
    """Write the first ``n`` rows for ``seed`` as ``sacct --parsable2`` text, a row at a time (no list of rows is
    held: 1,000,000 rows are 145 MB of text); returns how many of them are jobs (not steps)."""
    rng = random.Random(seed)
    jobs = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write("|".join(NAMES) + "\n")
        for _, row in zip(range(n), _rows(rng), strict=False):
            jobs += "." not in row[0]
            out.write("|".join(row) + "\n")
    return jobs


def parsable2(data: list[list[str]]) -> str:
    """``sacct --parsable2`` text with a header line."""
    return "|".join(NAMES) + "\n" + "\n".join("|".join(r) for r in data) + "\n"


def _cell(value: str, width: int, left: bool) -> str:
    if len(value) > width:
        value = value[: width - 1] + "+"
    return value.ljust(width) if left else value.rjust(width)


def fixed_width(data: list[list[str]]) -> str:
    """Default ``sacct`` output: header, dashes, and right-aligned values (JobID left-aligned)."""
    widths = [w for _, w in FIELDS]
    lefts = [f == "JobID" for f, _ in FIELDS]
    spec = list(zip(widths, lefts, strict=True))
    lines = [
        " ".join(_cell(f, w, left) for f, (w, left) in zip(NAMES, spec, strict=True)) + " ",
        " ".join("-" * w for w in widths) + " ",
    ]
    lines.extend(" ".join(_cell(v, w, left) for v, (w, left) in zip(r, spec, strict=True)) + " " for r in data)
    return "\n".join(lines) + "\n"


def cached(n: int, fmt: str, seed: int = SEED) -> Path:
    """Path of a cached input file of ``n`` rows in ``fmt`` (``parsable2`` or ``fixed``), generated if missing."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"sacct-{fmt}-{n}-{seed}.txt"
    if not path.exists():
        data = rows(n, seed)
        text = parsable2(data) if fmt == "parsable2" else fixed_width(data)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(path)
    return path


def parsable2_of_size(size: int, seed: int = SEED + 1) -> bytes:
    """Parsable2 text of at least ``size`` bytes, cut at a line end."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"sacct-parsable2-{size}B-{seed}.txt"
    if path.exists():
        return path.read_bytes()
    n = max(1000, size // 150)
    while True:
        text = parsable2(rows(n, seed)).encode()
        if len(text) >= size:
            break
        n = int(n * size / len(text) * 1.05) + 1000
    cut = text.index(b"\n", size) + 1
    data = text[:cut]
    path.write_bytes(data)
    return data
