"""What a CPU job is billed on CSC's platforms, from its sacct figures (the rates are settings).

Sources, checked on 2026-11-30: CSC's https://docs.csc.fi/computing/hpc-billing/ (its source, CSCfi/csc-user-guide
``docs/computing/hpc-billing.md``, revision of 2026-08-05: Puhti and Mahti bill CPU BU since CSC's billing-unit
renewal of 2025-10-02, at the numbers they had before it; Roihu's rates came with Roihu in 2026) with the partition
lists of
https://docs.csc.fi/computing/running/batch-job-partitions/, and LUMI's
https://docs.lumi-supercomputer.eu/computing/jobs/billing/.

- Puhti CPU partitions: CPU billing units (BU) = (cores × BU per core-hour + memory GiB × BU per GiB-hour) × hours.
- Mahti: node-based partitions (``test``, ``medium``, ``large``, ``gc``) bill BU per node-hour, core-based ones
  (``small``, ``interactive``) BU per core-hour; memory is not billed.
- Roihu (CSC's successor of Puhti and Mahti): the larger of a core price and a memory price. ``test``, ``small``,
  ``longrun``, ``interactive``: max(cores × BU per core-hour, memory GiB × BU per GiB-hour) × hours; ``hugemem``
  and ``hugemem_longrun`` (XL nodes) the same with their own prices; ``medium`` and ``large`` BU per node-hour.
- LUMI (LUMI-C): CPU core-hours, not CSC BU. ``standard`` and ``bench`` allocate whole nodes (core-hours per node
  per hour); ``small``, ``debug`` and ``largemem`` bill max(cores, ⌈memory / GB per core⌉) per hour.

GPU partitions and unknown partitions are not billed here (GPU billing needs the GPU count, and a partition name
alone cannot be guessed): their figure is null. Local NVMe disk is not in sacct's default fields and is left out.
"""

from __future__ import annotations

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

#: The unit each platform's figure is in.
UNITS = {"puhti": "CSC BU", "mahti": "CSC BU", "roihu": "CSC BU", "lumi": "LUMI core-hours"}


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


def billed(jobs: pd.DataFrame, platform: pd.Series, rates: Rates) -> pd.Series:
    """What each job is billed (in its platform's :data:`UNITS`); null where the platform or partition is unknown.

    Args:
        jobs: per-job metrics (``partition``, ``elapsed-seconds``, ``alloc-cpus``, ``n-nodes``, ``req-mem-bytes``).
        platform: the platform of each job (``puhti``, ``mahti``, ``roihu``, ``lumi`` or anything else).
        rates: the billing rates.
    """
    def column(name: str) -> pd.Series:
        if name in jobs.columns:
            return pd.to_numeric(jobs[name], errors="coerce").astype("float64")
        return pd.Series(np.nan, index=jobs.index, dtype="float64")

    hours = column("elapsed-seconds") / 3600
    cores, nodes = column("alloc-cpus"), column("n-nodes")
    mem_gib = column("req-mem-bytes") / 1024**3
    partition = (jobs["partition"].astype("object") if "partition" in jobs.columns
                 else pd.Series(None, index=jobs.index, dtype="object")).fillna("").astype(str).str.lower()
    where = platform.astype(str).str.lower()
    out = pd.Series(np.nan, index=jobs.index, dtype="float64")
    puhti = (where == "puhti") & partition.isin(PUHTI_CPU)
    out[puhti] = ((cores * rates.puhti_bu_per_core_hour + mem_gib * rates.puhti_bu_per_gib_hour) * hours)[puhti]
    mahti_node = (where == "mahti") & partition.isin(MAHTI_NODE)
    out[mahti_node] = (nodes * rates.mahti_bu_per_node_hour * hours)[mahti_node]
    mahti_core = (where == "mahti") & partition.isin(MAHTI_CORE)
    out[mahti_core] = (cores * rates.mahti_bu_per_core_hour * hours)[mahti_core]
    for partitions, per_core, per_gib in ((ROIHU_CORE, rates.roihu_bu_per_core_hour, rates.roihu_bu_per_gib_hour),
                                          (ROIHU_HUGEMEM, rates.roihu_hugemem_bu_per_core_hour,
                                           rates.roihu_hugemem_bu_per_gib_hour)):
        roihu = (where == "roihu") & partition.isin(partitions)
        out[roihu] = (np.fmax(cores * per_core, mem_gib * per_gib) * hours)[roihu]
    roihu_node = (where == "roihu") & partition.isin(ROIHU_NODE)
    out[roihu_node] = (nodes * rates.roihu_bu_per_node_hour * hours)[roihu_node]
    lumi_node = (where == "lumi") & partition.isin(LUMI_NODE)
    out[lumi_node] = (nodes * rates.lumi_core_hours_per_node_hour * hours)[lumi_node]
    lumi_core = (where == "lumi") & partition.isin(LUMI_CORE)
    slices = np.ceil(mem_gib / rates.lumi_gb_per_core_hour)
    out[lumi_core] = (np.fmax(cores, slices) * hours)[lumi_core]
    return out
