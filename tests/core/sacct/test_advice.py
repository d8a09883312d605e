"""Advice from sacct alone, checked by hand on real samples (core/demo_data/SOURCES-sacct.md) and small tables."""

from __future__ import annotations

import pandas as pd
import pytest

from core.sacct import job_metrics, parse_sacct
from core.sacct.advice import Thresholds, failures, job_findings, waste_summary
from tests import samples
from tests.samples import FIELDS_06, FIELDS_07

DEFAULT = Thresholds()


def _jobs(text: str | bytes, fields: list[str] | None = None, run: str = "r") -> pd.DataFrame:
    parsed = parse_sacct(text, fields=fields)
    assert parsed.warnings == []
    return job_metrics(parsed.frame).assign(run=run)


def _sample(name: str, fields: list[str] | None = None) -> pd.DataFrame:
    return _jobs(samples.sacct(name).read_bytes(), fields, run=name[:2])


def test_out_of_memory_says_what_it_ran_out_at_and_what_to_ask() -> None:
    notes = job_findings(_sample("07_slurmdog_parsable2_noheader_alpine.txt", FIELDS_07), DEFAULT)
    first = notes.iloc[0]  # out of memory comes first
    # Fact 3: 12051616.batch OUT_OF_MEMORY at MaxRSS 2565880K (2.45 GiB) of ReqMem 3840M (3.75 GiB, the job's total);
    # 1.5 × 3840M = 5760M, rounded up to whole GiB.
    assert (first["job-id"], first["finding"]) == ("12051616", "out of memory")
    assert first["figure"] == "ran out of memory at MaxRSS × NTasks 2.45 GiB of 3.75 GiB"
    assert first["advice"].startswith("--mem=6G")
    assert (notes["finding"] == "out of memory").sum() == 1


def test_time_advice_asks_for_the_longest_similar_job_plus_margin() -> None:
    text = ("JobID|JobName|State|Elapsed|Timelimit|AllocCPUS\n"
            "1|train|COMPLETED|01:00:00|1-00:00:00|1\n"
            "2|train|COMPLETED|01:30:00|1-00:00:00|1\n"
            "3|train|TIMEOUT|1-00:00:00|1-00:00:00|1\n"
            "4|short|COMPLETED|00:04:00|1-00:00:00|1\n"
            "5|train|RUNNING|00:30:00|1-00:00:00|1\n")
    notes = job_findings(_jobs(text), DEFAULT).set_index("job-id")
    # Jobs 1 and 2 used 4 % and 6 % of their day; the longest completed "train" ran 1:30:00, + 20 % = 1:48:00.
    assert sorted(notes.index) == ["1", "2"]
    assert notes.loc["1", "advice"].startswith("--time=01:48:00")
    assert notes.loc["1", "figure"] == "Elapsed 01:00:00 is 4% of Timelimit 1-00:00:00"
    # Job 1 left 23 h of its day unused on 1 core: more at stake than job 2's 22.5 h, so it comes first.
    assert notes.loc["1", "core-hours at stake"] == pytest.approx(23.0)
    assert list(notes.index) == ["1", "2"]


def test_memory_advice_from_the_peak_per_node_or_per_cpu() -> None:
    habrok = job_findings(_sample("06_hbjobinfo_parsable_snowman_noheader.txt", FIELDS_06), DEFAULT)
    note = habrok[(habrok["job-id"] == "7965768") & (habrok["finding"] == "memory over-requested")].iloc[0]
    # Fact 3: MaxRSS 1294440K of mem=10G (12 %); 1.2 × 1294440K = 1.48 GiB → --mem=2G.
    assert note["figure"] == "MaxRSS × NTasks 1.23 GiB is 12% of 10.00 GiB"
    assert note["advice"].startswith("--mem=2G")
    text = ("JobID|State|Elapsed|AllocCPUS|NNodes|ReqMem|MaxRSS|NTasks|TotalCPU\n"
            "1|COMPLETED|01:00:00|4|1|4000Mc|||\n"
            "1.0|COMPLETED|01:00:00|4|1||1000M|1|04:00:00\n"
            "2|COMPLETED|01:00:00|8|2|64G|||\n"
            "2.0|COMPLETED|01:00:00|8|2||1G|8|08:00:00\n")
    notes = job_findings(_jobs(text), DEFAULT).set_index("job-id")
    # Per-CPU request: 1.2 × 1000M over 4 CPUs = 300M per CPU.
    assert notes.loc["1", "advice"].startswith("--mem-per-cpu=300M")
    # 8 tasks × 1G = 8G of 64G; 1.2 × 8G = 9.6G over 2 nodes = 4.8G → 5G per node (sbatch's --mem is per node).
    assert notes.loc["2", "advice"].startswith("--mem=5G (per node, 2 nodes)")


def test_idle_cores_get_the_cores_their_cpu_time_supports() -> None:
    text = ("JobID|State|Elapsed|AllocCPUS|TotalCPU|NTasks\n"
            "1|COMPLETED|01:00:00|8|02:00:00|\n"
            "2|COMPLETED|01:00:00|8|07:00:00|\n"
            "3|COMPLETED|01:00:00|1|00:10:00|\n"
            "4|COMPLETED|01:00:00|16|00:00:00|\n"
            "4.batch|COMPLETED|01:00:00|16|00:00:00|1\n")
    notes = job_findings(_jobs(text), DEFAULT).set_index("job-id")
    # Job 1 kept 2 of 8 cores busy (25 %): 2 × 1.2 = 2.4 → 3; 6 idle core-hours. Job 2 (88 %) and the single-core
    # job 3 get no note.
    assert notes.loc["1", "advice"].startswith("--cpus-per-task=3")
    assert notes.loc["1", "core-hours at stake"] == pytest.approx(6.0)
    assert sorted(notes.index) == ["1", "4"]
    assert "TotalCPU is 0" in notes.loc["4", "advice"]
    # Without its steps (sacct -X) a TotalCPU of 0 is not recorded: no note says the job used nothing.
    alone = text.replace("4.batch|COMPLETED|01:00:00|16|00:00:00|1\n", "")
    assert "4" not in set(job_findings(_jobs(alone), DEFAULT)["job-id"])


def test_thresholds_decide_who_gets_a_note() -> None:
    text = "JobID|State|Elapsed|AllocCPUS|TotalCPU\n1|COMPLETED|01:00:00|8|02:00:00\n"
    assert len(job_findings(_jobs(text), Thresholds(cpu_efficiency_percent=20))) == 0
    assert len(job_findings(_jobs(text), Thresholds(min_minutes=120))) == 0
    assert len(job_findings(_jobs(text), DEFAULT)) == 1


def test_waste_and_failures_per_run() -> None:
    text = ("JobID|State|ExitCode|Elapsed|AllocCPUS|TotalCPU|ReqMem|MaxRSS\n"
            "1|COMPLETED|0:0|02:00:00|4|04:00:00|10G|\n"
            "1.0|COMPLETED|0:0|02:00:00|4|04:00:00||2G\n"
            "2|FAILED|1:0|01:00:00|2|00:30:00||\n"
            "3|RUNNING|0:0|05:00:00|8|00:00:00||\n")
    summary = waste_summary(_jobs(text), "run").iloc[0]
    # Job 1: 8 core-hours held, 4 used; job 2: 2 held, 0.5 used → 5.5 idle core-hours over 2 finished jobs.
    assert summary["wasted core-hours"] == pytest.approx(5.5) and summary["jobs with CPU time"] == 2
    # Job 1: (10 − 2) GiB unused for 2 h.
    assert summary["unused memory GiB-hours"] == pytest.approx(16.0) and summary["jobs with memory"] == 1
    assert (summary["jobs"], summary["finished jobs"], summary["failed jobs"]) == (3, 2, 1)
    alpine = failures(_sample("07_slurmdog_parsable2_noheader_alpine.txt", FIELDS_07), "run")
    # Fact 5: 12 TIMEOUT and 5 FAILED job rows; the FAILED ones by exit code.
    assert alpine[["state", "exit-code", "jobs"]].values.tolist() == [
        ["TIMEOUT", "0:0", 12], ["FAILED", "9:0", 4], ["FAILED", "1:0", 1]]


def test_out_of_memory_advice_says_the_rounded_ask_truthfully() -> None:
    # --mem=100M ran out: 1.5 × 100M is 150 MiB, which sbatch is asked in 100M steps: --mem=200M, at least 1.5 ×.
    text = ("JobID|State|Elapsed|AllocCPUS|ReqMem|MaxRSS\n1|OUT_OF_MEMORY|00:10:00|1|100M|\n"
            "1.batch|OUT_OF_MEMORY|00:10:00|1||\n")
    note = job_findings(_jobs(text), DEFAULT).iloc[0]
    assert note["finding"] == "out of memory"
    assert note["advice"] == "--mem=200M (at least 1.5 × the request, 150.00 MiB)"
    assert note["figure"] == "ran out of memory; 100.00 MiB requested"


def test_out_of_memory_without_a_printed_request_says_so() -> None:
    text = "JobID|State|Elapsed|AllocCPUS\n1|OUT_OF_MEMORY|00:10:00|1\n"
    note = job_findings(_jobs(text), DEFAULT).iloc[0]
    assert note["figure"] == "ran out of memory; ReqMem was not printed"
    assert "no requested" not in note["figure"]


def test_gpu_findings_idle_first_by_billing_at_stake_and_not_recorded_is_no_finding() -> None:
    from core.billing import Rates, bill

    text = ("JobID|JobName|Partition|State|Elapsed|AllocCPUS|NNodes|AllocTRES|TRESUsageInAve|TRESUsageInMax\n"
            "1|idle|gpu|COMPLETED|02:00:00|40|1|cpu=40,gres/gpu:v100=4,gres/gpu=4,mem=100G||\n"
            "1.batch|batch||COMPLETED|02:00:00|40|1||gres/gpuutil=0,gres/gpumem=0|gres/gpuutil=0,gres/gpumem=0\n"
            "2|low|gpu|COMPLETED|01:00:00|10|1|cpu=10,gres/gpu:v100=2,gres/gpu=2,mem=50G||\n"
            "2.batch|batch||COMPLETED|01:00:00|10|1||gres/gpuutil=40,gres/gpumem=40G|gres/gpuutil=80,gres/gpumem=48G\n"
            "3|mig|gpusmall|COMPLETED|01:00:00|4|1|cpu=4,gres/gpu:a100_1g.5gb=1,mem=17G||\n"
            "4|short|gpu|COMPLETED|00:01:00|10|1|cpu=10,gres/gpu=1,mem=10G||\n"
            "4.batch|batch||COMPLETED|00:01:00|10|1||gres/gpuutil=0|gres/gpuutil=0\n"
            "5|small-mem|gpumedium|COMPLETED|01:00:00|32|1|cpu=32,gres/gpu:a100=1,mem=100G||\n"
            "5.0|py||COMPLETED|01:00:00|32|1||gres/gpuutil=90,gres/gpumem=1G|gres/gpuutil=95,gres/gpumem=2G\n")
    jobs = _jobs(text)
    platform = pd.Series(["puhti", "puhti", "mahti", "puhti", "mahti"], index=jobs.index)
    jobs = pd.concat([jobs, bill(jobs, platform, Rates())], axis=1)
    notes = job_findings(jobs, DEFAULT)
    gpu = notes[notes["finding"].isin(["idle GPUs", "low GPU use", "GPU memory unused"])]
    # Job 1: (60 × 4 + 40 + 0.1 × 100) × 2 = 580 CSC GPU BU all at stake; job 2: (120 + 10 + 5) × 1 = 135, 80 % of it.
    assert gpu["job-id"].tolist()[:2] == ["1", "2"] and notes.iloc[0]["job-id"] == "1"
    first = notes.iloc[0]
    assert first["finding"] == "idle GPUs" and first["billed at stake"] == pytest.approx(580)
    assert first["figure"] == "4 v100 GPUs allocated, 0 % use recorded (gres/gpuutil); 580.0 CSC GPU BU at stake"
    assert "--partition=small" in first["advice"]
    second = gpu.iloc[1]
    assert second["finding"] == "low GPU use" and second["billed at stake"] == pytest.approx(135 * 0.8)
    # 2 GPUs at 20 %: 0.4 GPUs busy + 20 % margin → 1 GPU.
    assert second["advice"].startswith("--gres=gpu:v100:1")
    # The MIG slice recorded no use (not recorded, not 0 %) and the 1-minute job is too short: no GPU note.
    assert not gpu["job-id"].isin(["3", "4"]).any()
    # Job 5 used 2 GiB of a 40 GiB A100: a slice would do.
    mem = gpu[gpu["finding"] == "GPU memory unused"].iloc[0]
    assert mem["job-id"] == "5" and mem["advice"].startswith("--gres=gpu:a100_1g.5gb:1")
