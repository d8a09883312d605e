"""CSC and LUMI billing of CPU jobs, checked against the examples of their billing pages."""

from __future__ import annotations

import pandas as pd
import pytest

from core.billing import Rates, bill

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
    got = bill(jobs, platform, Rates())["billed"].tolist()
    # Puhti: (4 cores × 1 + 8 GiB × 0.1) × 2 h. Mahti medium: 2 nodes × 100 × 3 h; small: 8 cores × 1 h.
    assert got[:3] == pytest.approx([9.6, 600.0, 8.0])
    # LUMI: 2 whole nodes × 128 core-hours; LUMI's own examples: 4 cores + 32 GB for a day = 384 core-hours,
    # 4 cores + 4 GB for a day = 96.
    assert got[3:6] == pytest.approx([256.0, 384.0, 96.0])
    # A GPU partition without a printed GPU count, another cluster and an unknown partition are not billed.
    assert all(pd.isna(v) for v in got[6:])


def test_mahti_grand_challenge_partition_is_billed_per_node() -> None:
    # Mahti's gc partition allocates whole nodes like medium and large (docs.csc.fi batch job partitions).
    jobs = pd.DataFrame({"partition": ["gc", "GC"], "alloc-cpus": [256, 25600], "n-nodes": [2, 200],
                         "req-mem-bytes": [0, 0], "elapsed-seconds": [3600, 1800]})
    got = bill(jobs, pd.Series(["mahti", "mahti"]), Rates())["billed"].tolist()
    assert got == pytest.approx([200.0, 10000.0])


def test_roihu_bills_the_larger_of_cores_and_memory() -> None:
    jobs = pd.DataFrame({
        "partition": ["small", "small", "hugemem", "medium", "gpumedium"],
        "alloc-cpus": [4, 8, 8, 768, 72],
        "n-nodes": [1, 1, 1, 2, 1],
        "req-mem-bytes": [16 * GiB, 8 * GiB, 1000 * GiB, 0, 217 * GiB],
        "elapsed-seconds": [7200, 3600, 3600, 3600, 3600],
    })
    got = bill(jobs, pd.Series(["roihu"] * 5), Rates())["billed"].tolist()
    # docs.csc.fi's own example: 4 cores and 16 GiB for 2 h in small = max(0.75 × 4, 0.375 × 16) × 2 = 12 CPU BU.
    # 8 cores and 8 GiB: the cores cost more (6 vs 3). hugemem: max(12 × 8, 0.25 × 1000) = 250. medium: 2 × 288.
    assert got[:4] == pytest.approx([12.0, 6.0, 250.0, 576.0])
    assert pd.isna(got[4])  # a GPU partition whose GPU count was not printed: not billed


def _gpu_jobs() -> tuple[pd.DataFrame, pd.Series]:
    rows = [
        # platform, partition, cores, nodes, memory GiB, hours, GPUs, type, NVMe GiB
        ("puhti", "gpu", 10, 1, 64, 2, 1, "v100", 0),  # the example: 152.8 GPU BU
        ("puhti", "gputest", 40, 1, 200, 0.25, 4, "v100", 100),
        ("puhti", "small", 4, 1, 8, 2, 0, None, 50),
        ("mahti", "gpumedium", 256, 2, 980, 2, 8, "a100", 0),
        ("mahti", "gpusmall", 4, 1, 17, 3, 1, "a100_1g.5gb", 0),
        ("mahti", "gpusmall", 32, 1, 100, 1, 1, "a100", 100),
        ("roihu", "gpumedium", 144, 1, 434, 5, 2, "gh200", 0),  # CSC's own example: 2000 GPU BU
        ("roihu", "vizinteractive", 32, 1, 183, 1, 1, "l40", 50),
        ("lumi", "standard-g", 224, 4, 1920, 24, 32, None, 0),  # LUMI's own example: 384 GPU-hours
        ("lumi", "small-g", 14, 1, 60, 24, 2, None, 0),  # LUMI's: 2 GCDs for 24 h = 24 GPU-hours
        ("lumi", "small-g", 7, 1, 128, 24, 1, None, 0),  # LUMI's: 1 GCD with 128 GB for 24 h = 24 GPU-hours
        ("lumi", "dev-g", 32, 1, 16, 1, 1, None, 0),  # 32 cores = 4 slices of 8: 0.5 × 4 = 2
        ("puhti", "gpu", 10, 1, 64, 2, None, None, 0),  # GPU count not printed: not billed
    ]
    jobs = pd.DataFrame(rows, columns=["platform", "partition", "alloc-cpus", "n-nodes", "mem", "hours", "gpus",
                                       "gpu-type", "nvme-gib"])
    jobs["req-mem-bytes"] = jobs.pop("mem") * GiB
    jobs["elapsed-seconds"] = jobs.pop("hours") * 3600
    return jobs, jobs.pop("platform")


def test_gpu_billing_per_platform_in_its_own_pool() -> None:
    jobs, platform = _gpu_jobs()
    got = bill(jobs, platform, Rates())
    expected = [
        (60 * 1 + 1 * 10 + 0.1 * 64) * 2,  # 152.8
        (60 * 4 + 40 + 0.1 * 200 + 0.006 * 100) * 0.25,  # 75.15
        (4 + 0.1 * 8 + 0.006 * 50) * 2,  # CPU BU, with NVMe: 10.2
        8 * 100 * 2,  # 1600: A100s
        15 * 3,  # a100_1g.5gb slice: 45
        100 + 0.01 * 100,  # one A100 + NVMe: 101
        2 * 200 * 5,  # 2000
        200 + 0.02 * 50,  # 201
        4 * 4 * 24,  # 384
        0.5 * 2 * 24,  # 24
        0.5 * 2 * 24,  # ceil(128 / 64) = 2 slices: 24
        0.5 * 4 * 1,  # 2
    ]
    assert got["billed"].tolist()[:12] == pytest.approx(expected)
    assert pd.isna(got["billed"].iloc[12]) and pd.isna(got["billing-unit"].iloc[12])
    assert got["billing-unit"].tolist()[:12] == ["CSC GPU BU", "CSC GPU BU", "CSC CPU BU", "CSC GPU BU",
                                                 "CSC GPU BU", "CSC GPU BU", "CSC GPU BU", "CSC GPU BU",
                                                 "LUMI GPU-hours", "LUMI GPU-hours", "LUMI GPU-hours",
                                                 "LUMI GPU-hours"]


def test_formula_says_how_the_figure_was_made() -> None:
    from core.billing import formula

    rows = _gpu_jobs()[0].to_dict("records")
    assert formula(rows[0], "puhti", Rates()) == ("(60 × 1 GPUs + 1 × 10 cores + 0.1 × 64 GiB) × 2 h "
                                                  "= 152.80 CSC GPU BU")
    assert formula(rows[4], "mahti", Rates()) == "(15 × 1 a100_1g.5gb slices) × 3 h = 45.00 CSC GPU BU"
    assert formula(rows[9], "lumi", Rates()) == "0.5 × max(⌈14 cores / 8⌉, ⌈60 GiB / 64⌉, 2 GCDs) × 24 h = 24.00 " \
                                                "LUMI GPU-hours"
    assert formula(rows[12], "puhti", Rates()) is None


def test_gpu_rates_are_settings() -> None:
    from core.settings import load_settings

    settings = load_settings(None, {"BILLING_PUHTI_GPU_BU_PER_GPU_HOUR": "30", "BILLING_ROIHU_GPU_BU_PER_GPU_HOUR":
                                    "100"})
    jobs, platform = _gpu_jobs()
    got = bill(jobs, platform, settings.billing)["billed"]
    assert got.iloc[0] == pytest.approx((30 + 10 + 6.4) * 2) and got.iloc[6] == pytest.approx(1000)
