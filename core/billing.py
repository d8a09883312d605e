"""What a job is billed on CSC's platforms and LUMI, in the pool it is billed from (the rates are settings).

Sources, checked on 2026-12-06: CSC's https://docs.csc.fi/computing/hpc-billing/ (its source, CSCfi/csc-user-guide
``docs/computing/hpc-billing.md``, revision 3418a7446 of 2026-08-05: since CSC's billing-unit renewal of 2025-10-02
CPU jobs consume CPU BU and GPU jobs GPU BU, separate pools; Roihu's rates came with Roihu in 2026) with the partition
lists of https://docs.csc.fi/computing/running/batch-job-partitions/, and LUMI's
https://docs.lumi-supercomputer.eu/runjobs/lumi_env/billing/ (Lumi-supercomputer/lumi-userguide
``docs/runjobs/lumi_env/billing.md``): CPU core-hours and GPU-hours, two pools.

- Puhti CPU partitions (CSC CPU BU): (cores × 1 + memory GiB × 0.1 + NVMe GiB × 0.006) × hours.
- Puhti GPU partitions ``gpu``, ``gputest`` (CSC GPU BU): (GPUs × 60 + cores × 1 + memory GiB × 0.1 + NVMe GiB ×
  0.006) × hours.
- Mahti CPU: node-based partitions (``test``, ``medium``, ``large``, ``gc``) 100 CPU BU per node-hour; core-based
  (``small``, ``interactive``) 1 per core-hour + 0.01 per NVMe GiB-hour; memory is not billed.
- Mahti GPU partitions ``gputest``, ``gpusmall``, ``gpumedium`` (CSC GPU BU): 100 per A100-hour, 15 per hour of an
  ``a100_1g.5gb`` slice, + 0.01 per NVMe GiB-hour.
- Roihu CPU (CSC CPU BU): ``test``, ``small``, ``longrun``, ``interactive``: max(cores × 0.75, memory GiB × 0.375) ×
  hours; ``hugemem``, ``hugemem_longrun``: max(cores × 12, memory GiB × 0.25) × hours; ``medium``, ``large``: 288 per
  node-hour; plus 0.02 per reserved-storage GiB-hour.
- Roihu GPU partitions ``gputest``, ``gpumedium``, ``gpularge``, ``gpuinteractive``, ``vizinteractive`` (CSC GPU BU):
  200 per GPU-hour + 0.02 per reserved-storage GiB-hour; cores and memory are not billed.
- LUMI-C (LUMI core-hours): ``standard``, ``bench`` allocate whole nodes (128 core-hours per node-hour); ``small``,
  ``debug``, ``largemem`` bill max(cores, ⌈memory / 2 GB⌉) per hour.
- LUMI-G (LUMI GPU-hours; a GPU-hour is one MI250X module, two GCDs, for an hour): ``standard-g`` 4 per node-hour;
  ``small-g``, ``dev-g`` 0.5 × max(⌈cores / 8⌉, ⌈memory / 64 GB⌉, GCDs) per hour (sacct's GPUs on LUMI are GCDs).

NVMe / reserved storage is AllocTRES ``gres/nvme`` where sacct printed it, otherwise left out. A GPU partition job
whose GPU count was not printed (no AllocTRES) and a job of an unknown partition or platform are not billed: null.
Memory is the job's allocation in GiB (Slurm's ``G`` is 2^30 bytes). A running job's Elapsed is its time so far:
its figure is what it has been billed so far.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

#: Puhti's CPU partitions (docs.csc.fi/computing/running/batch-job-partitions).
PUHTI_CPU = frozenset({"test", "small", "large", "longrun", "hugemem", "hugemem_longrun", "interactive"})
#: Mahti's CPU partitions, node-based (``gc``: Grand Challenge projects) and core-based.
MAHTI_NODE = frozenset({"test", "medium", "large", "gc"})
MAHTI_CORE = frozenset({"small", "interactive"})
#: Roihu's CPU partitions: core-based on M and L nodes, core-based on XL nodes, whole M nodes.
ROIHU_CORE = frozenset({"test", "small", "longrun", "interactive"})
ROIHU_HUGEMEM = frozenset({"hugemem", "hugemem_longrun"})
ROIHU_NODE = frozenset({"medium", "large"})
#: LUMI-C partitions, whole-node and core/memory-based (docs.lumi-supercomputer.eu/runjobs/scheduled-jobs/partitions).
LUMI_NODE = frozenset({"standard", "bench"})
LUMI_CORE = frozenset({"small", "debug", "largemem"})

#: GPU partitions of each platform.
PUHTI_GPU = frozenset({"gpu", "gputest"})
MAHTI_GPU = frozenset({"gputest", "gpusmall", "gpumedium"})
ROIHU_GPU = frozenset({"gputest", "gpumedium", "gpularge", "gpuinteractive", "vizinteractive"})
LUMI_GPU_NODE = frozenset({"standard-g"})
LUMI_GPU_GCD = frozenset({"small-g", "dev-g"})
#: Mahti's A100 slice type (one seventh of an A100).
MAHTI_SLICE = "a100_1g.5gb"

#: The billing pools: never added to one another.
CSC_CPU, CSC_GPU, LUMI_CPU, LUMI_GPU = "CSC CPU BU", "CSC GPU BU", "LUMI core-hours", "LUMI GPU-hours"
POOLS = (CSC_CPU, CSC_GPU, LUMI_CPU, LUMI_GPU)


class Rates(BaseModel):
    """Billing rates: CSC's and LUMI's published ones unless set (``BILLING_<FIELD>`` in the environment or .env)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    puhti_bu_per_core_hour: float = Field(1.0, ge=0)
    puhti_bu_per_gib_hour: float = Field(0.1, ge=0)
    mahti_bu_per_node_hour: float = Field(100.0, ge=0)
    mahti_bu_per_core_hour: float = Field(1.0, ge=0)
    roihu_bu_per_core_hour: float = Field(0.75, ge=0)
    roihu_bu_per_gib_hour: float = Field(0.375, ge=0)
    roihu_hugemem_bu_per_core_hour: float = Field(12.0, ge=0)
    roihu_hugemem_bu_per_gib_hour: float = Field(0.25, ge=0)
    roihu_bu_per_node_hour: float = Field(288.0, ge=0)
    lumi_core_hours_per_node_hour: float = Field(128.0, ge=0)
    lumi_gb_per_core_hour: float = Field(2.0, gt=0)
    puhti_bu_per_nvme_gib_hour: float = Field(0.006, ge=0)
    puhti_gpu_bu_per_gpu_hour: float = Field(60.0, ge=0)
    puhti_gpu_bu_per_core_hour: float = Field(1.0, ge=0)
    puhti_gpu_bu_per_gib_hour: float = Field(0.1, ge=0)
    mahti_bu_per_nvme_gib_hour: float = Field(0.01, ge=0)
    mahti_gpu_bu_per_gpu_hour: float = Field(100.0, ge=0)
    mahti_gpu_bu_per_slice_hour: float = Field(15.0, ge=0)
    roihu_bu_per_storage_gib_hour: float = Field(0.02, ge=0)
    roihu_gpu_bu_per_gpu_hour: float = Field(200.0, ge=0)
    lumi_gpu_hours_per_node_hour: float = Field(4.0, ge=0)
    lumi_gpu_hours_per_gcd_hour: float = Field(0.5, ge=0)
    lumi_cores_per_gcd: float = Field(8.0, gt=0)
    lumi_gb_per_gcd: float = Field(64.0, gt=0)


class Budget(BaseModel):
    """The project's allocation per pool (``BUDGET_<FIELD>``; unset: no budget shown for that pool).

    ``horizon_days``: the Overview needs attention when an allocation is projected to run out within this many days.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    csc_cpu_bu: float | None = Field(None, gt=0)
    csc_gpu_bu: float | None = Field(None, gt=0)
    lumi_core_hours: float | None = Field(None, gt=0)
    lumi_gpu_hours: float | None = Field(None, gt=0)
    horizon_days: float = Field(30, gt=0)

    def allocations(self) -> dict[str, float]:
        """Pool → allocation, for the pools that have one."""
        values = {CSC_CPU: self.csc_cpu_bu, CSC_GPU: self.csc_gpu_bu, LUMI_CPU: self.lumi_core_hours,
                  LUMI_GPU: self.lumi_gpu_hours}
        return {pool: value for pool, value in values.items() if value is not None}


def _column(jobs: pd.DataFrame, name: str) -> pd.Series:
    if name in jobs.columns:
        return pd.to_numeric(jobs[name], errors="coerce").astype("float64")
    return pd.Series(np.nan, index=jobs.index, dtype="float64")


def _codes(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Each row's index among the column's distinct texts, and those texts lower-cased (a null reads as ``""``).

    The rules below look at a few distinct platforms and partitions, not at a million rows: they are decided once
    per distinct text and spread to the rows by these codes.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    names = [str(value).lower() for value in uniques] + [""]
    return np.where(codes < 0, len(names) - 1, codes), names


def _text_codes(jobs: pd.DataFrame, name: str) -> tuple[np.ndarray, list[str]]:
    if name in jobs.columns:
        return _codes(jobs[name])
    return np.zeros(len(jobs), dtype=np.intp), [""]


#: The billing rules: (platform, its partitions, the rule's name); a later rule wins where two match.
RULES = (
    ("puhti", PUHTI_CPU, "puhti-cpu"), ("puhti", PUHTI_GPU, "puhti-gpu"),
    ("mahti", MAHTI_NODE, "mahti-node"), ("mahti", MAHTI_CORE, "mahti-core"), ("mahti", MAHTI_GPU, "mahti-gpu"),
    ("roihu", ROIHU_CORE, "roihu-core"), ("roihu", ROIHU_HUGEMEM, "roihu-hugemem"),
    ("roihu", ROIHU_NODE, "roihu-node"), ("roihu", ROIHU_GPU, "roihu-gpu"),
    ("lumi", LUMI_NODE, "lumi-node"), ("lumi", LUMI_CORE, "lumi-core"), ("lumi", LUMI_GPU_NODE, "lumi-gpu-node"),
    ("lumi", LUMI_GPU_GCD, "lumi-gpu-gcd"),
)


def _rule(platform: str, partition: str) -> str:
    """The rule of one platform and partition (see the module docstring); ``""`` for none."""
    found = ""
    for name, partitions, kind in RULES:
        if platform == name and partition in partitions:
            found = kind
    return found


def _kind_codes(platform: pd.Series, jobs: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Each job's index among the rules that apply, and those rules' names (``""``: none applies)."""
    where, platforms = _codes(platform.reset_index(drop=True))
    part, partitions = _text_codes(jobs, "partition")
    pair, pairs = pd.factorize(where.astype(np.int64) * len(partitions) + part)
    return pair, [_rule(platforms[p // len(partitions)], partitions[p % len(partitions)]) for p in pairs]


#: The pool of each rule.
POOL_OF = {"puhti-cpu": CSC_CPU, "puhti-gpu": CSC_GPU, "mahti-node": CSC_CPU, "mahti-core": CSC_CPU,
           "mahti-gpu": CSC_GPU, "roihu-core": CSC_CPU, "roihu-hugemem": CSC_CPU, "roihu-node": CSC_CPU,
           "roihu-gpu": CSC_GPU, "lumi-node": LUMI_CPU, "lumi-core": LUMI_CPU, "lumi-gpu-node": LUMI_GPU,
           "lumi-gpu-gcd": LUMI_GPU}


@dataclass(frozen=True)
class _Use:
    """What jobs are billed for, one array each: cores, nodes, GPUs, memory (GiB), NVMe (GiB), Mahti slices."""

    cores: np.ndarray
    nodes: np.ndarray
    gpus: np.ndarray
    mem: np.ndarray
    nvme: np.ndarray
    slices: np.ndarray

    def take(self, rows: np.ndarray) -> _Use:
        """The same jobs' values at ``rows``."""
        return _Use(*(getattr(self, f.name)[rows] for f in fields(self)))


#: Each rule's rate per hour (see the module docstring).
PER_HOUR: dict[str, Callable[[_Use, Rates], np.ndarray]] = {
    "puhti-cpu": lambda u, r: u.cores * r.puhti_bu_per_core_hour + u.mem * r.puhti_bu_per_gib_hour
    + u.nvme * r.puhti_bu_per_nvme_gib_hour,
    "puhti-gpu": lambda u, r: u.gpus * r.puhti_gpu_bu_per_gpu_hour + u.cores * r.puhti_gpu_bu_per_core_hour
    + u.mem * r.puhti_gpu_bu_per_gib_hour + u.nvme * r.puhti_bu_per_nvme_gib_hour,
    "mahti-node": lambda u, r: u.nodes * r.mahti_bu_per_node_hour,
    "mahti-core": lambda u, r: u.cores * r.mahti_bu_per_core_hour + u.nvme * r.mahti_bu_per_nvme_gib_hour,
    "mahti-gpu": lambda u, r: u.gpus * np.where(u.slices, r.mahti_gpu_bu_per_slice_hour, r.mahti_gpu_bu_per_gpu_hour)
    + u.nvme * r.mahti_bu_per_nvme_gib_hour,
    "roihu-core": lambda u, r: np.fmax(u.cores * r.roihu_bu_per_core_hour, u.mem * r.roihu_bu_per_gib_hour)
    + u.nvme * r.roihu_bu_per_storage_gib_hour,
    "roihu-hugemem": lambda u, r: np.fmax(u.cores * r.roihu_hugemem_bu_per_core_hour,
                                          u.mem * r.roihu_hugemem_bu_per_gib_hour)
    + u.nvme * r.roihu_bu_per_storage_gib_hour,
    "roihu-node": lambda u, r: u.nodes * r.roihu_bu_per_node_hour + u.nvme * r.roihu_bu_per_storage_gib_hour,
    "roihu-gpu": lambda u, r: u.gpus * r.roihu_gpu_bu_per_gpu_hour + u.nvme * r.roihu_bu_per_storage_gib_hour,
    "lumi-node": lambda u, r: u.nodes * r.lumi_core_hours_per_node_hour,
    "lumi-core": lambda u, r: np.fmax(u.cores, np.ceil(u.mem / r.lumi_gb_per_core_hour)),
    "lumi-gpu-node": lambda u, r: u.nodes * r.lumi_gpu_hours_per_node_hour,
    "lumi-gpu-gcd": lambda u, r: r.lumi_gpu_hours_per_gcd_hour * np.fmax(np.fmax(
        np.ceil(u.cores / r.lumi_cores_per_gcd), np.ceil(u.mem / r.lumi_gb_per_gcd)), u.gpus),
}


def _amounts(jobs: pd.DataFrame, platform: pd.Series, rates: Rates) -> tuple[np.ndarray, np.ndarray]:
    """Per job, what it is billed and its pool's index in :data:`POOLS`.

    The amount is NaN and the index -1 where no rule applies or an input is missing. Each rule's rate is computed
    for its own jobs only.
    """
    kind, kinds = _kind_codes(platform, jobs)
    gpu_type, gpu_types = _text_codes(jobs, "gpu-type")
    use = _Use(cores=_column(jobs, "alloc-cpus").to_numpy(), nodes=_column(jobs, "n-nodes").to_numpy(),
               gpus=_column(jobs, "gpus").to_numpy(), mem=_column(jobs, "req-mem-bytes").to_numpy() / 1024**3,
               nvme=_column(jobs, "nvme-gib").fillna(0.0).to_numpy(),
               slices=np.isin(gpu_type, [i for i, name in enumerate(gpu_types) if name == MAHTI_SLICE]))
    hours = _column(jobs, "elapsed-seconds").to_numpy() / 3600
    names = sorted(set(kinds) - {""})
    rule = np.array([names.index(name) if name else -1 for name in kinds] or [-1], dtype=np.int16)[kind]
    amount = np.full(len(jobs), np.nan)
    for index, name in enumerate(names):
        rows = np.flatnonzero(rule == index)
        amount[rows] = PER_HOUR[name](use.take(rows), rates) * hours[rows]
    pools = np.array([POOLS.index(POOL_OF[name]) for name in names] + [-1], dtype=np.int8)
    return amount, np.where(np.isnan(amount), -1, pools[rule])


def bill(jobs: pd.DataFrame, platform: pd.Series, rates: Rates) -> pd.DataFrame:
    """Per job: ``billed`` (null where no rule applies or an input is missing) and ``billing-unit`` (its pool).

    Args:
        jobs: per-job metrics (``partition``, ``elapsed-seconds``, ``alloc-cpus``, ``n-nodes``, ``req-mem-bytes``,
            ``gpus``, ``gpu-type``, ``nvme-gib``).
        platform: the platform of each job (``puhti``, ``mahti``, ``roihu``, ``lumi`` or anything else).
        rates: the billing rates.
    """
    amount, pool = _amounts(jobs, platform, rates)
    names = np.array([*POOLS, None], dtype=object)
    return pd.DataFrame({"billed": amount, "billing-unit": names[pool]}, index=jobs.index)


def per_pool(jobs: pd.DataFrame, platform: pd.Series, rates: Rates) -> dict[str, np.ndarray]:
    """Pool → what each job is billed from it (:func:`bill`'s figure in the job's own pool, NaN in the others)."""
    amount, pool = _amounts(jobs, platform, rates)
    return {name: np.where(pool == i, amount, np.nan) for i, name in enumerate(POOLS)}


def _n(value: float) -> str:
    return f"{value:,.6g}"


def formula(job: dict[str, object], platform: str, rates: Rates) -> str | None:
    """How one job's figure is made, with its numbers: ``(60 × 1 + 1 × 10 + 0.1 × 64) × 2 h = 152.8 CSC GPU BU``.

    ``job`` is one row of per-job metrics; ``None`` when no rule applies or an input is missing.
    """
    frame = pd.DataFrame([job])
    result = bill(frame, pd.Series([platform]), rates).iloc[0]
    if pd.isna(result["billed"]):
        return None
    r = rates
    kind = _rule(platform.lower(), str(job.get("partition") or "").lower())

    def get(name: str) -> float:
        value = _column(frame, name).iloc[0]
        return 0.0 if pd.isna(value) else float(value)

    hours, cores, nodes, gpus = get("elapsed-seconds") / 3600, get("alloc-cpus"), get("n-nodes"), get("gpus")
    mem, nvme = get("req-mem-bytes") / 1024**3, get("nvme-gib")

    def plus_nvme(rate: float) -> str:
        return f" + {_n(rate)} × {_n(nvme)} GiB NVMe" if nvme else ""

    terms = {
        "puhti-cpu": f"({_n(r.puhti_bu_per_core_hour)} × {_n(cores)} cores + {_n(r.puhti_bu_per_gib_hour)} × "
                     f"{_n(mem)} GiB{plus_nvme(r.puhti_bu_per_nvme_gib_hour)})",
        "puhti-gpu": f"({_n(r.puhti_gpu_bu_per_gpu_hour)} × {_n(gpus)} GPUs + {_n(r.puhti_gpu_bu_per_core_hour)} × "
                     f"{_n(cores)} cores + {_n(r.puhti_gpu_bu_per_gib_hour)} × {_n(mem)} GiB"
                     f"{plus_nvme(r.puhti_bu_per_nvme_gib_hour)})",
        "mahti-node": f"{_n(r.mahti_bu_per_node_hour)} × {_n(nodes)} nodes",
        "mahti-core": f"({_n(r.mahti_bu_per_core_hour)} × {_n(cores)} cores{plus_nvme(r.mahti_bu_per_nvme_gib_hour)})",
        "mahti-gpu": (f"({_n(r.mahti_gpu_bu_per_slice_hour)} × {_n(gpus)} {MAHTI_SLICE} slices"
                      if str(job.get("gpu-type") or "").lower() == MAHTI_SLICE
                      else f"({_n(r.mahti_gpu_bu_per_gpu_hour)} × {_n(gpus)} A100 GPUs")
                     + f"{plus_nvme(r.mahti_bu_per_nvme_gib_hour)})",
        "roihu-core": f"(max({_n(r.roihu_bu_per_core_hour)} × {_n(cores)} cores, {_n(r.roihu_bu_per_gib_hour)} × "
                      f"{_n(mem)} GiB){plus_nvme(r.roihu_bu_per_storage_gib_hour)})",
        "roihu-hugemem": f"(max({_n(r.roihu_hugemem_bu_per_core_hour)} × {_n(cores)} cores, "
                         f"{_n(r.roihu_hugemem_bu_per_gib_hour)} × {_n(mem)} GiB)"
                         f"{plus_nvme(r.roihu_bu_per_storage_gib_hour)})",
        "roihu-node": f"({_n(r.roihu_bu_per_node_hour)} × {_n(nodes)} nodes"
                      f"{plus_nvme(r.roihu_bu_per_storage_gib_hour)})",
        "roihu-gpu": f"({_n(r.roihu_gpu_bu_per_gpu_hour)} × {_n(gpus)} GPUs"
                     f"{plus_nvme(r.roihu_bu_per_storage_gib_hour)})",
        "lumi-node": f"{_n(r.lumi_core_hours_per_node_hour)} × {_n(nodes)} nodes",
        "lumi-core": f"max({_n(cores)} cores, ⌈{_n(mem)} GiB / {_n(r.lumi_gb_per_core_hour)}⌉)",
        "lumi-gpu-node": f"{_n(r.lumi_gpu_hours_per_node_hour)} × {_n(nodes)} nodes",
        "lumi-gpu-gcd": f"{_n(r.lumi_gpu_hours_per_gcd_hour)} × max(⌈{_n(cores)} cores / {_n(r.lumi_cores_per_gcd)}⌉, "
                        f"⌈{_n(mem)} GiB / {_n(r.lumi_gb_per_gcd)}⌉, {_n(gpus)} GCDs)",
    }
    return f"{terms[kind]} × {_n(round(hours, 4))} h = {float(result['billed']):,.2f} {result['billing-unit']}"
