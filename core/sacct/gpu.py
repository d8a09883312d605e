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

from core.sacct.convert import sizes_to_numbers

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


def _per_distinct(values: pd.Series, read: Any) -> tuple[np.ndarray, np.ndarray]:
    """``read`` applied once per distinct string; null where the value is null."""
    codes, distinct = pd.factorize(values.astype("object"))
    counts = np.full(len(distinct) + 1, np.nan)
    kinds = np.full(len(distinct) + 1, None, dtype=object)
    for i, text in enumerate(distinct):
        counts[i], kinds[i] = read(str(text))
    return counts[codes], kinds[codes]


def gpu_allocation(alloc_tres: pd.Series | None, req_tres: pd.Series | None = None,
                   alloc_gres: pd.Series | None = None, *, index: pd.Index | None = None) -> pd.DataFrame:
    """Per row: ``gpus`` (float, null when no TRES or GRES field was printed) and ``gpu-type`` (null when untyped).

    AllocTRES wins; a row without it (a pending job) takes ReqTRES, then AllocGRES.
    """
    if index is None:
        index = next((s.index for s in (alloc_tres, req_tres, alloc_gres) if s is not None), pd.RangeIndex(0))
    gpus = pd.Series(np.nan, index=index, dtype="float64")
    kind = pd.Series(None, index=index, dtype="object")
    for source, read in ((alloc_tres, _gpus_of), (req_tres, _gpus_of), (alloc_gres, _gpus_of_gres)):
        if source is None:
            continue
        text = source.astype("object").where(source.notna() & (source.astype("object") != ""))
        counts, kinds = _per_distinct(text, read)
        todo = gpus.isna().to_numpy() & ~np.isnan(counts)
        gpus[todo] = counts[todo]
        kind[todo] = kinds[todo]
    # A field printed empty on a job's own row still says "no GPU": 0, once any TRES/GRES field exists.
    printed = [s for s in (alloc_tres, req_tres, alloc_gres) if s is not None]
    if printed:
        gpus = gpus.fillna(0.0)
    kind = kind.where(kind.astype("object").fillna("") != "", None)
    return pd.DataFrame({"gpus": gpus, "gpu-type": kind})


def tres_number(tres: pd.Series, name: str, *, size: bool = False) -> pd.Series:
    """The value of ``name=`` (``gres/gpuutil``, ``gres/gpumem``, ``gres/nvme``) in each TRES string; null if absent.

    With ``size``, a K/M/G/T/P/E suffix is binary (sacct's own units) and a bare number is bytes.
    """
    codes, distinct = pd.factorize(tres.astype("object"))
    pattern = r"(?:^|,)" + re.escape(name) + r"=([0-9.]+[KMGTPE]?)(?:,|$)"
    found = pd.Series(distinct, dtype="string").str.extract(pattern)[0]
    if size:
        values = sizes_to_numbers(found.fillna(""), binary=True).astype("float64")
    else:
        values = pd.to_numeric(found, errors="coerce").astype("float64")
    values = np.append(np.asarray(values, dtype="float64"), np.nan)
    return pd.Series(values[codes], index=tres.index, dtype="float64")


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
    def column(name: str) -> pd.Series:
        if name in rows.columns:
            return rows[name]
        return pd.Series(None, index=rows.index, dtype="object")

    ave, peak, tot = column("tres-usage-in-ave"), column("tres-usage-in-max"), column("tres-usage-in-tot")
    tasks = pd.to_numeric(column("n-tasks"), errors="coerce").astype("float64")
    tasks = tasks.where(tasks > 0, 1.0).fillna(1.0)
    util = tres_number(ave, "gres/gpuutil").fillna(tres_number(peak, "gres/gpuutil"))
    util_total = tres_number(tot, "gres/gpuutil").fillna(util * tasks)
    gpus = gpu_allocation(column("alloc-tres"), index=rows.index)["gpus"]
    if job_gpus is not None:
        gpus = gpus.where(gpus > 0, job_gpus.astype("float64"))
    gpus = gpus.where(gpus > 0)
    per_task = (gpus / tasks).clip(lower=1.0)
    memory = tres_number(peak, "gres/gpumem", size=True)
    return pd.DataFrame({"gpu-util": (util_total / gpus).fillna(util),
                         "gpu-mem-max": (memory / per_task).fillna(memory)})


def memory_of(gpu_type: object) -> float | None:
    """Memory of one GPU of ``gpu_type`` (bytes), or ``None`` when the type is unknown or mixed."""
    if not isinstance(gpu_type, str) or not gpu_type:
        return None
    return GPU_MEMORY.get(gpu_type.lower())
