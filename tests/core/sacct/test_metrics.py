"""Per-job metrics checked by hand on real samples (facts from core/demo_data/SOURCES-sacct.md)."""

from __future__ import annotations

import pandas as pd
import pytest

from core.sacct import job_metrics, parse_sacct
from tests import samples
from tests.samples import FIELDS_06, FIELDS_07

GiB, MiB, KiB = 1024**3, 1024**2, 1024


def _jobs(name: str, fields: list[str] | None = None) -> pd.DataFrame:
    return job_metrics(parse_sacct(samples.sacct(name).read_bytes(), fields=fields).frame).set_index("job-id")


def test_reqmem_without_suffix_is_the_whole_jobs_memory() -> None:
    # The job: 4 nodes, ReqMem 312.50G (Slurm >= 21.08 prints the job's total), peak 1600M in one task.
    text = ("JobID|NNodes|AllocCPUS|ReqMem|State|Elapsed|MaxRSS|NTasks\n"
            "9100|4|16|312.50G|COMPLETED|01:00:00||\n"
            "9100.0|4|16||COMPLETED|01:00:00|1600M|1\n")
    job = job_metrics(parse_sacct(text).frame).set_index("job-id").loc["9100"]
    assert job["req-mem-bytes"] == 312.5 * GiB  # was × 4 nodes = 1250 GiB
    assert job["memory-efficiency"] == pytest.approx(0.005)  # 0.5 %, was 0.125 %


def test_reqmem_per_node_and_per_cpu_suffixes_still_multiply() -> None:
    text = ("JobID|NNodes|AllocCPUS|ReqMem|State|Elapsed\n"
            "1|2|8|4Gn|COMPLETED|00:10:00\n"
            "2|2|8|1Gc|COMPLETED|00:10:00\n")
    jobs = job_metrics(parse_sacct(text).frame).set_index("job-id")
    assert jobs.loc["1", "req-mem-bytes"] == 8 * GiB
    assert jobs.loc["2", "req-mem-bytes"] == 8 * GiB


def test_alloctres_mem_is_the_authority() -> None:
    # Sample 08 prints no ReqMem; AllocTRES is billing=1,cpu=1,mem=7996M,node=1; the batch step's MaxRSS is 276869K.
    job = _jobs("08_tdhock_parsable2_manyfields.txt").loc["32641375"]
    assert job["req-mem-bytes"] == 7996 * MiB
    assert job["memory-efficiency"] == pytest.approx(276869 * KiB / (7996 * MiB))
    # When both are printed and disagree, what Slurm allocated wins.
    text = "JobID|NNodes|ReqMem|AllocTRES|State|Elapsed\n5|2|4Gn|cpu=2,mem=6G,node=2|COMPLETED|00:10:00\n"
    assert job_metrics(parse_sacct(text).frame).loc[0, "req-mem-bytes"] == 6 * GiB


def test_multi_node_jobs_of_a_real_sample() -> None:
    jobs = _jobs("06_hbjobinfo_parsable_snowman_noheader.txt", FIELDS_06)
    # 2296177: 4 nodes, 448 CPUs, ReqMem 256G and AllocTRES mem=256G: the job's memory is 256 GiB, not 1 TiB.
    assert jobs.loc["2296177", "n-nodes"] == 4
    assert jobs.loc["2296177", "req-mem-bytes"] == 256 * GiB
    # 7965768.batch (fact 3): MaxRSS 1294440K of the job's mem=10G.
    assert jobs.loc["7965768", "memory-efficiency"] == pytest.approx(1294440 * KiB / (10 * GiB))


def test_core_seconds_match_sacct_cputime() -> None:
    text = samples.sacct("06_hbjobinfo_parsable_snowman_noheader.txt").read_bytes()
    frame = parse_sacct(text, fields=FIELDS_06).frame
    jobs = job_metrics(frame).set_index("job-id")
    printed = frame[frame["step"] == ""].set_index("job-id")["cpu-time-seconds"]
    # Fact 1: CPUTime 1-04:33:44 = 102824 s = 8 CPUs × 12853 s.
    assert jobs.loc["4034541", "core-seconds"] == 102824
    both = printed.dropna().index
    assert len(both) > 50
    pd.testing.assert_series_equal(jobs.loc[both, "core-seconds"], printed.loc[both], check_names=False)


def test_unfinished_jobs_have_no_efficiency() -> None:
    cedar = _jobs("09_tdhock_parsable2_multiuser.txt")  # 386 PENDING and 186 RUNNING rows, nothing finished
    assert not cedar["finished"].any()
    assert cedar[["cpu-efficiency", "time-efficiency", "memory-efficiency"]].isna().all().all()
    habrok = _jobs("06_hbjobinfo_parsable_snowman_noheader.txt", FIELDS_06)
    # Fact 5: 7219441 is PENDING with a 3-day Timelimit: no time efficiency (it was 0 %).
    pending = habrok.loc["7219441"]
    assert pending["timelimit-seconds"] == 259200 and pd.isna(pending["time-efficiency"])
    running = habrok[habrok["state"] == "RUNNING"]
    assert len(running) and running["cpu-efficiency"].isna().all() and not running["finished"].any()
    alpine = _jobs("07_slurmdog_parsable2_noheader_alpine.txt", FIELDS_07)
    # Fact 4: 13707683 is RUNNING; fact 1: 11965642 TIMEOUT, TotalCPU 4.410 s of 43226 s on 1 CPU.
    assert pd.isna(alpine.loc["13707683", "cpu-efficiency"])
    assert alpine.loc["11965642", "cpu-efficiency"] == pytest.approx(4.410 / 43226)
    # Jobs cancelled before they started ran for 0 s: finished, but nothing to measure.
    never = alpine[alpine["elapsed-seconds"] == 0]
    assert len(never) == 3 and never["finished"].all() and never["cpu-efficiency"].isna().all()


def test_out_of_memory_in_a_step_marks_the_job() -> None:
    alpine = _jobs("07_slurmdog_parsable2_noheader_alpine.txt", FIELDS_07)
    # Fact 3: 12051616 is "CANCELLED by 2000886" but its batch step ended OUT_OF_MEMORY at MaxRSS 2565880K.
    assert alpine.loc["12051616", "out-of-memory"]
    assert alpine.loc["12051616", "max-rss"] == 2565880 * KiB
    assert alpine["out-of-memory"].sum() == 1


def test_a_job_is_its_cluster_and_job_id() -> None:
    text = ("JobID|Cluster|State|Elapsed|AllocCPUS|TotalCPU\n"
            "42|puhti|COMPLETED|01:00:00|2|01:00:00\n"
            "42|mahti|COMPLETED|02:00:00|4|08:00:00\n"
            "42.batch|mahti|COMPLETED|02:00:00|4|08:00:00\n")
    jobs = job_metrics(parse_sacct(text).frame).set_index("cluster")
    assert len(jobs) == 2
    assert jobs.loc["puhti", "cpu-efficiency"] == pytest.approx(0.5)
    assert jobs.loc["mahti", "cpu-efficiency"] == pytest.approx(1.0)
    assert jobs.loc["mahti", "steps"] == 1 and jobs.loc["puhti", "steps"] == 0


def test_runs_computed_in_one_pass_equal_each_run_alone() -> None:
    # Two runs with the same job ids, one of them a job printed only through its steps (no job row).
    first = parse_sacct("JobID|State|Elapsed|AllocCPUS|TotalCPU\n"
                        "7|COMPLETED|01:00:00|2|01:00:00\n"
                        "9.batch|FAILED|00:10:00|1|00:05:00\n"
                        "8|RUNNING|00:30:00|4|\n").frame
    second = parse_sacct("JobID|State|Elapsed|AllocCPUS|TotalCPU\n"
                         "7|COMPLETED|02:00:00|4|04:00:00\n"
                         "7.0|COMPLETED|02:00:00|4|04:00:00\n").frame
    frame = pd.concat([first.assign(run="a"), second.assign(run="b")], ignore_index=True)
    together = job_metrics(frame, by=("run",))
    alone = pd.concat([job_metrics(part).assign(run=run) for run, part in (("a", first), ("b", second))],
                      ignore_index=True)
    assert list(together.columns) == ["run", *alone.columns.drop("run")]
    assert list(together["run"] + together["job-id"]) == ["a7", "a8", "a9", "b7"]
    pd.testing.assert_frame_equal(together, alone[together.columns], check_dtype=False)
    assert together.loc[0, "cpu-efficiency"] == pytest.approx(0.5) and together.loc[3, "elapsed-seconds"] == 7200
