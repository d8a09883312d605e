"""CSC and LUMI billing of CPU jobs, checked against the examples of their billing pages."""

from __future__ import annotations

import pandas as pd
import pytest

from core.billing import Rates, billed

GiB = 1024**3


def test_billing_per_platform_and_partition() -> None:
    jobs = pd.DataFrame({
        "partition": ["small", "medium", "small", "standard", "small", "small", "gpu", "small", None],
        "alloc-cpus": [4, 256, 8, 256, 4, 4, 10, 4, 4],
        "n-nodes": [1, 2, 1, 2, 1, 1, 1, 1, 1],
        "req-mem-bytes": [8 * GiB, 0, 0, 0, 32 * GiB, 4 * GiB, 64 * GiB, 8 * GiB, 8 * GiB],
        "elapsed-seconds": [7200, 3 * 3600, 3600, 3600, 24 * 3600, 24 * 3600, 3600, 3600, 3600],
    })
    platform = pd.Series(["puhti", "mahti", "mahti", "lumi", "lumi", "lumi", "puhti", "other", "puhti"])
    got = billed(jobs, platform, Rates()).tolist()
    # Puhti: (4 cores × 1 + 8 GiB × 0.1) × 2 h. Mahti medium: 2 nodes × 100 × 3 h; small: 8 cores × 1 h.
    assert got[:3] == pytest.approx([9.6, 600.0, 8.0])
    # LUMI: 2 whole nodes × 128 core-hours; LUMI's own examples: 4 cores + 32 GB for a day = 384 core-hours,
    # 4 cores + 4 GB for a day = 96.
    assert got[3:6] == pytest.approx([256.0, 384.0, 96.0])
    # A GPU partition, another cluster and an unknown partition are not billed here.
    assert all(pd.isna(v) for v in got[6:])


def test_mahti_grand_challenge_partition_is_billed_per_node() -> None:
    # Mahti's gc partition allocates whole nodes like medium and large (docs.csc.fi batch job partitions).
    jobs = pd.DataFrame({"partition": ["gc", "GC"], "alloc-cpus": [256, 25600], "n-nodes": [2, 200],
                         "req-mem-bytes": [0, 0], "elapsed-seconds": [3600, 1800]})
    got = billed(jobs, pd.Series(["mahti", "mahti"]), Rates()).tolist()
    assert got == pytest.approx([200.0, 10000.0])


def test_roihu_bills_the_larger_of_cores_and_memory() -> None:
    jobs = pd.DataFrame({
        "partition": ["small", "small", "hugemem", "medium", "gpumedium"],
        "alloc-cpus": [4, 8, 8, 768, 72],
        "n-nodes": [1, 1, 1, 2, 1],
        "req-mem-bytes": [16 * GiB, 8 * GiB, 1000 * GiB, 0, 217 * GiB],
        "elapsed-seconds": [7200, 3600, 3600, 3600, 3600],
    })
    got = billed(jobs, pd.Series(["roihu"] * 5), Rates()).tolist()
    # docs.csc.fi's own example: 4 cores and 16 GiB for 2 h in small = max(0.75 × 4, 0.375 × 16) × 2 = 12 CPU BU.
    # 8 cores and 8 GiB: the cores cost more (6 vs 3). hugemem: max(12 × 8, 0.25 × 1000) = 250. medium: 2 × 288.
    assert got[:4] == pytest.approx([12.0, 6.0, 250.0, 576.0])
    assert pd.isna(got[4])  # GPU BU, not billed here
