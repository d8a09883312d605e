"""What a CPU job is billed on CSC's platforms, from its sacct figures (the rates are settings).

Sources, checked on 2026-11-30: CSC's https://docs.csc.fi/computing/hpc-billing/ (its source, CSCfi/csc-user-guide
``docs/computing/hpc-billing.md``, revision of 2026-08-05: the Puhti and Mahti rates are those of CSC's billing-unit
renewal of 2025-10-02, unchanged since) with the partition lists of
https://docs.csc.fi/computing/running/batch-job-partitions/, and LUMI's
https://docs.lumi-supercomputer.eu/computing/jobs/billing/.

- Puhti CPU partitions: CPU billing units (BU) = (cores × BU per core-hour + memory GiB × BU per GiB-hour) × hours.
- Mahti: node-based partitions (``test``, ``medium``, ``large``, ``gc``) bill BU per node-hour, core-based ones
  (``small``, ``interactive``) BU per core-hour; memory is not billed.
- LUMI (LUMI-C): CPU core-hours, not CSC BU. ``standard`` and ``bench`` allocate whole nodes (core-hours per node
  per hour); ``small``, ``debug`` and ``largemem`` bill max(cores, ⌈memory / GB per core⌉) per hour.

Roihu, CSC's successor of Puhti and Mahti, bills by other rules (the larger of a core and a memory price) and is
not a platform of this dashboard yet: its runs are ``other`` and not billed.
GPU partitions and unknown partitions are not billed here (GPU billing needs the GPU count, and a partition name
alone cannot be guessed): their figure is null. Local NVMe disk is not in sacct's default fields and is left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Puhti's CPU partitions (docs.csc.fi/computing/running/batch-job-partitions).
PUHTI_CPU = frozenset({"test", "small", "large", "longrun", "hugemem", "hugemem_longrun", "interactive"})
#: Mahti's CPU partitions, node-based (``gc``: Grand Challenge projects) and core-based.
MAHTI_NODE = frozenset({"test", "medium", "large", "gc"})
MAHTI_CORE = frozenset({"small", "interactive"})
#: LUMI-C partitions, whole-node and core/memory-based (docs.lumi-supercomputer.eu/runjobs/scheduled-jobs/partitions).
LUMI_NODE = frozenset({"standard", "bench"})
LUMI_CORE = frozenset({"small", "debug", "largemem"})

#: The unit each platform's figure is in.
UNITS = {"puhti": "CSC BU", "mahti": "CSC BU", "lumi": "LUMI core-hours"}


@dataclass(frozen=True)
class Rates:
    """Billing rates (defaults: CSC's and LUMI's published ones, see the README)."""

    puhti_bu_per_core_hour: float = 1.0
    puhti_bu_per_gib_hour: float = 0.1
    mahti_bu_per_node_hour: float = 100.0
    mahti_bu_per_core_hour: float = 1.0
    lumi_core_hours_per_node_hour: float = 128.0
    lumi_gb_per_core_hour: float = 2.0


def billed(jobs: pd.DataFrame, platform: pd.Series, rates: Rates) -> pd.Series:
    """What each job is billed (in its platform's :data:`UNITS`); null where the platform or partition is unknown.

    Args:
        jobs: per-job metrics (``partition``, ``elapsed-seconds``, ``alloc-cpus``, ``n-nodes``, ``req-mem-bytes``).
        platform: the platform of each job (``puhti``, ``mahti``, ``lumi`` or anything else).
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
    lumi_node = (where == "lumi") & partition.isin(LUMI_NODE)
    out[lumi_node] = (nodes * rates.lumi_core_hours_per_node_hour * hours)[lumi_node]
    lumi_core = (where == "lumi") & partition.isin(LUMI_CORE)
    slices = np.ceil(mem_gib / rates.lumi_gb_per_core_hour)
    out[lumi_core] = (np.fmax(cores, slices) * hours)[lumi_core]
    return out
