"""GPUs from sacct's TRES strings: what a job allocated (``AllocTRES``) and what its steps used (``TRESUsageIn*``).

- Allocation: ``gres/gpu=N`` is Slurm's count of the job's GPUs; typed entries (``gres/gpu:v100=1``,
  ``gres/gpu:a100_1g.5gb=1``) name their type. A job printed with typed entries only counts their sum. A job
  submitted with ``--gpus`` / ``--gpus-per-node`` shows the same entries. Older releases print ``AllocGRES``
  (``gpu:v100:2``, ``gpu:4(IDX:0-3)``). A pending job has no AllocTRES: its ``ReqTRES`` is read instead.
- A job whose TRES was printed without any GPU entry has 0 GPUs; a job whose output has no TRES field at all has an
  unknown count (null), never 0.
- ``gres/nvme=N`` (CSC's local NVMe disk, ``--gres=nvme:N``) is N GiB.
- Use: ``gres/gpuutil`` (percent) and ``gres/gpumem`` (bytes, or with a K/M/G/T suffix) in ``TRESUsageInAve`` /
  ``TRESUsageInMax`` / ``TRESUsageInTot`` of the steps, present only where the cluster collects them (Slurm's NVML
  or RSMI GPU plugin), each a sum over the GPUs of a task: :func:`step_gpu_use` turns them into per-GPU figures.
  Absent means "not recorded", never 0 %.

``--json`` output carries the same facts as lists of ``{"type", "name", "count"}``, which the JSON reader writes as
the TRES text sacct prints, so one reader serves every format.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.sacct.convert import gather, sizes_to_numbers

#: GPU memory of one device of each type Slurm names on CSC's and LUMI's clusters, in bytes (vendors' figures;
#: ``a100_1g.5gb`` is Mahti's one-seventh MIG slice, ``mi250`` one GCD of an MI250X).
GPU_MEMORY: dict[str, float] = {
    "v100": 32 * 2**30, "a100": 40 * 2**30, "a100_1g.5gb": 5 * 2**30, "gh200": 96 * 2**30, "h100": 80 * 2**30,
    "l40": 48 * 2**30, "mi250": 64 * 2**30, "mi250x": 64 * 2**30,
}

_GPU_ENTRY = re.compile(r"(?:^|,)gres/gpu(?::([^=,]+))?=(\d+)")
_GRES_ENTRY = re.compile(r"(?:^|,)gpu(?::([^:(,]+))?(?::(\d+))?(?:\([^)]*\))?(?=,|$)")


def _gpus_of(text: str) -> tuple[float, str]:
    """GPU count and type (``""`` when untyped; several types joined with ``+``) of one TRES string."""
    total: float | None = None
    typed: dict[str, int] = {}
    for kind, count in _GPU_ENTRY.findall(text):
        if kind:
            typed[kind] = typed.get(kind, 0) + int(count)
        else:
            total = float(count)
    if total is None:
        total = float(sum(typed.values()))
    return total, "+".join(sorted(typed))


def _gpus_of_gres(text: str) -> tuple[float, str]:
    """GPU count and type of an ``AllocGRES`` string (``gpu:v100:2``, ``gpu:4(IDX:0-3)``, ``gpu:tesla:1``)."""
    total, kinds = 0.0, set()
    for first, second in _GRES_ENTRY.findall(text):
        if second:
            kinds.add(first)
            total += int(second)
        elif first.isdigit():
            total += int(first)
        elif first:  # ``gpu:type`` with no count: one
            kinds.add(first)
            total += 1
        else:
            total += 1
    return total, "+".join(sorted(kinds))


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


class Distinct:
    """A text column as its distinct values and, per row, the index of its value (-1 where null or empty).

    TRES and GRES strings repeat (a run's jobs share a few allocations): each reader below parses each distinct
    string once and gathers the results per row.
    """

    def __init__(self, values: pd.Series | np.ndarray | None, rows: int) -> None:
        if values is None:
            self.codes = np.full(rows, -1, dtype=np.intp)
            self.values: list[str] = []
            return
        codes, distinct = pd.factorize(np.asarray(values, dtype=object))
        texts = [str(v) for v in distinct]
        empty = [i for i, text in enumerate(texts) if not text]
        if empty:  # an empty field is no value
            keep = np.ones(len(texts), dtype=bool)
            keep[empty] = False
            renumber = np.append(np.cumsum(keep) - 1, -1)
            renumber[empty] = -1
            codes = renumber[codes]
            texts = [text for text in texts if text]
        self.codes = codes
        self.values = texts

    @classmethod
    def column(cls, frame: pd.DataFrame, name: str) -> Distinct:
        """Column ``name`` of ``frame`` (no value in any row when the frame has no such column)."""
        return cls(frame[name] if name in frame.columns else None, len(frame))

    def gather(self, per_value: np.ndarray, fill: Any = np.nan) -> np.ndarray:
        """Per-row results from per-distinct-value results (``fill`` where the row had no value)."""
        return gather(per_value, self.codes, fill)

    def field(self, name: str, value: str) -> pa.Array:
        """Per distinct value, the text of ``name=`` in its TRES string; null where there is none.

        Only a text that matches the ``value`` pattern counts (RE2, matched in Arrow).
        """
        found = pc.extract_regex(pa.array(self.values, type=pa.string()),
                                 r"(?:^|,)" + re.escape(name) + r"=(?P<v>" + value + r")(?:,|$)")
        return pc.if_else(found.is_valid(), pc.struct_field(found, "v"), pa.scalar(None, pa.string()))

    def read(self, read: Any) -> tuple[np.ndarray, np.ndarray]:
        """``read`` (text → (count, type)) applied once per distinct value.

        Per row: counts (NaN where no value) and types (None there).
        """
        counts = np.full(len(self.values), np.nan)
        kinds = np.full(len(self.values), None, dtype=object)
        for i, text in enumerate(self.values):
            counts[i], kinds[i] = read(text)
        return self.gather(counts), self.gather(kinds, None)

    def number(self, name: str, *, size: bool = False) -> np.ndarray:
        """Per row, the value of ``name=`` in its TRES string; NaN where absent or not a number.

        ``name`` is ``gres/gpuutil``, ``gres/gpumem``, ``gres/nvme``, ``mem``... With ``size``, a K/M/G/T/P/E suffix
        is binary (sacct's own units) and a bare number is bytes.
        """
        if not self.values:
            return np.full(len(self.codes), np.nan)
        text = self.field(name, r"[0-9.]+[KMGTPE]?")
        if size:
            values = np.asarray(sizes_to_numbers(text, binary=True), dtype="float64")
        else:
            try:
                numbers = pc.cast(text, pa.float64())
            except pa.ArrowInvalid:  # a stored value such as "1.2.3": that one is not a number
                numbers = pa.array([_number(v) for v in text.to_pylist()], type=pa.float64())
            values = np.asarray(numbers.to_numpy(zero_copy_only=False), dtype="float64")
        return self.gather(values)


def allocation(sources: list[Distinct | None], rows: int, src: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Per row: GPU count (NaN when no TRES or GRES field was printed) and type (None when untyped).

    AllocTRES wins; a row without it (a pending job) takes ReqTRES, then AllocGRES: ``sources`` are those columns in
    that order, as many as given, ``None`` where not printed. With ``src``, per job instead: the values of rows
    ``src`` (-1 for a job without a row of its own).
    """
    size = rows if src is None else len(src)
    gpus = np.full(size, np.nan)
    kind = np.full(size, None, dtype=object)
    for source, read in zip(sources, _READERS, strict=False):
        if source is None:
            continue
        counts, kinds = source.read(read)
        if src is not None:
            counts, kinds = gather(counts, src), gather(kinds, src, None)
        todo = np.isnan(gpus) & ~np.isnan(counts)
        gpus[todo] = counts[todo]
        kind[todo] = kinds[todo]
    # A field printed empty on a job's own row still says "no GPU": 0, once any TRES/GRES field exists.
    if any(source is not None for source in sources):
        gpus = np.nan_to_num(gpus, nan=0.0)
    kind[np.fromiter((not k for k in kind), dtype=bool, count=len(kind))] = None
    return gpus, kind


#: How each of :func:`allocation`'s sources is read.
_READERS = (_gpus_of, _gpus_of, _gpus_of_gres)


def gpu_use(ave: Distinct, peak: Distinct, tot: Distinct, tasks: np.ndarray, gpus: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """Per-GPU use and peak memory per row (see :func:`step_gpu_use`).

    From the rows' TRES usage strings, NTasks (NaN where not printed) and GPU counts (NaN or 0 where unknown).
    """
    tasks = np.where(tasks > 0, tasks, 1.0)  # NaN compares false: missing counts as 1 too
    util = ave.number("gres/gpuutil")
    util = np.where(np.isnan(util), peak.number("gres/gpuutil"), util)
    util_total = tot.number("gres/gpuutil")
    util_total = np.where(np.isnan(util_total), util * tasks, util_total)
    gpus = np.where(gpus > 0, gpus, np.nan)
    per_task = np.maximum(gpus / tasks, 1.0)
    memory = peak.number("gres/gpumem", size=True)
    per_gpu_util = util_total / gpus
    per_gpu_memory = memory / per_task
    return (np.where(np.isnan(per_gpu_util), util, per_gpu_util),
            np.where(np.isnan(per_gpu_memory), memory, per_gpu_memory))


def step_gpu_use(rows: pd.DataFrame, job_gpus: pd.Series | None = None) -> pd.DataFrame:
    """Per sacct row: use (``gpu-util``) and peak memory (``gpu-mem-max``) per GPU; null where not recorded.

    Slurm's GPU plugins add each GPU a task uses into that task's ``gres/gpuutil`` and ``gres/gpumem`` (a task busy
    on 4 GPUs records about 400 %), and TRESUsageInAve averages over the step's tasks, TRESUsageInTot sums them. So:

    - ``gpu-util`` = the step's TRESUsageInTot ``gres/gpuutil`` (else Ave × NTasks; Max when only that was printed)
      ÷ the step's GPUs: the mean use of each GPU, in percent;
    - ``gpu-mem-max`` = TRESUsageInMax ``gres/gpumem`` ÷ GPUs per task: one GPU's share of the busiest task's peak.

    A step's GPUs are its AllocTRES count, else its job's (``job_gpus``, aligned with ``rows``); NTasks missing
    counts as 1. Without a GPU count the recorded figure is kept as it is.
    """
    n = len(rows)

    tasks = (pd.to_numeric(rows["n-tasks"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
             if "n-tasks" in rows.columns else np.full(n, np.nan))
    gpus, _ = allocation([Distinct.column(rows, "alloc-tres")], n)
    if job_gpus is not None:
        gpus = np.where(gpus > 0, gpus, job_gpus.to_numpy(dtype="float64", na_value=np.nan))
    util, memory = gpu_use(Distinct.column(rows, "tres-usage-in-ave"), Distinct.column(rows, "tres-usage-in-max"),
                           Distinct.column(rows, "tres-usage-in-tot"), tasks, gpus)
    return pd.DataFrame({"gpu-util": util, "gpu-mem-max": memory}, index=rows.index)


def memory_of(gpu_type: object) -> float | None:
    """Memory of one GPU of ``gpu_type`` (bytes), or ``None`` when the type is unknown or mixed."""
    if not isinstance(gpu_type, str) or not gpu_type:
        return None
    return GPU_MEMORY.get(gpu_type.lower())
