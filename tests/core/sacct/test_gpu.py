"""GPUs per job from sacct alone, in every format the parser reads: allocation, type, GPU-hours and recorded use."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.sacct import job_metrics, parse_sacct
from core.sacct.gpu import Distinct

FIELDS = ["JobID", "JobName", "Partition", "State", "Elapsed", "AllocCPUS", "NNodes", "AllocTRES", "ReqTRES",
          "TRESUsageInAve", "TRESUsageInMax"]
ROWS = [
    # A V100 job on Puhti whose GPU stayed idle (recorded 0), its batch step carrying the use.
    ["101", "train", "gpu", "COMPLETED", "02:00:00", "10", "1",
     "billing=70,cpu=10,gres/gpu:v100=1,gres/gpu=1,mem=64G,node=1", "billing=70,cpu=10,gres/gpu=1,mem=64G,node=1",
     "", ""],
    ["101.batch", "batch", "", "COMPLETED", "02:00:00", "10", "1", "cpu=10,gres/gpu:v100=1,gres/gpu=1,mem=64G,node=1",
     "", "cpu=01:00:00,gres/gpumem=0,gres/gpuutil=0,mem=1G", "cpu=01:00:00,gres/gpumem=0,gres/gpuutil=0,mem=2G"],
    # Typed entries only (no untyped total): the sum of the typed counts. Slurm adds up a task's GPUs: 348 % and a
    # 120 GiB peak over 4 A100s are 87 % and 30 GiB each.
    ["102", "big", "gpumedium", "COMPLETED", "01:00:00", "64", "1", "cpu=64,gres/gpu:a100=4,mem=400G,node=1", "",
     "", ""],
    ["102.0", "python", "", "COMPLETED", "01:00:00", "64", "1", "cpu=64,gres/gpu:a100=4,mem=400G,node=1", "",
     "cpu=10:00:00,gres/gpumem=80G,gres/gpuutil=348", "cpu=10:00:00,gres/gpumem=120G,gres/gpuutil=396"],
    # A MIG slice, submitted with --gres=gpu:a100_1g.5gb:1; no use recorded (MIG): not recorded, never 0.
    ["103", "slice", "gpusmall", "COMPLETED", "03:00:00", "4", "1", "cpu=4,gres/gpu:a100_1g.5gb=1,mem=17500M,node=1",
     "", "", ""],
    # --gpus=8 on LUMI small-g: GCDs; NVMe-less, untyped.
    ["104", "gcds", "small-g", "COMPLETED", "00:30:00", "56", "1", "billing=4,cpu=56,gres/gpu=8,mem=480G,node=1", "",
     "", ""],
    # A CPU-only job: 0 GPUs, not unknown.
    ["105", "cpu", "small", "COMPLETED", "01:00:00", "4", "1", "billing=4,cpu=4,mem=8G,node=1", "", "", ""],
    # A pending GPU job: no AllocTRES yet, its ReqTRES says 2.
    ["106", "wait", "gpu", "PENDING", "00:00:00", "0", "1", "", "billing=140,cpu=20,gres/gpu=2,mem=100G,node=1",
     "", ""],
    # Local NVMe on Puhti: gres/nvme=100 (GiB).
    ["107", "nvme", "gpu", "RUNNING", "00:15:00", "10", "1", "cpu=10,gres/gpu=1,gres/nvme=100,mem=32G,node=1", "",
     "", ""],
]


def _parsable(delimiter: str = "|", trailing: bool = False) -> str:
    end = delimiter if trailing else ""
    return "\n".join(delimiter.join(r) + end for r in [FIELDS, *ROWS]) + "\n"


def _fixed_width() -> str:
    widths = [max(len(r[i]) for r in [FIELDS, *ROWS]) for i in range(len(FIELDS))]
    lines = [" ".join(f.rjust(w) for f, w in zip(FIELDS, widths, strict=True)),
             " ".join("-" * w for w in widths)]
    lines += [" ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) for r in ROWS]
    return "\n".join(lines) + "\n"


def _tres_list(text: str) -> list[dict[str, object]]:
    """A TRES text as Slurm's JSON lists it: memory allocations in MiB, usage sizes in bytes, times as counts."""
    items: list[dict[str, object]] = []
    for part in filter(None, text.split(",")):
        name, _, value = part.partition("=")
        kind, _, sub = name.partition("/")
        if value[-1:] in "KMG" and value[:-1].isdigit():
            scale = {"K": 2**10, "M": 2**20, "G": 2**30}[value[-1]]
            number = int(value[:-1]) * scale // (2**20 if kind == "mem" else 1)
        elif value.isdigit():
            number = int(value)
        else:  # cpu time as HH:MM:SS: milliseconds
            hours, minutes, seconds = (int(x) for x in value.split(":"))
            number = (hours * 3600 + minutes * 60 + seconds) * 1000
        items.append({"type": kind, "name": sub, "id": 1, "count": number})
    return items


def _json() -> str:
    jobs: dict[str, dict[str, object]] = {}
    for r in ROWS:
        job_id, _, step = r[0].partition(".")
        hours, minutes, seconds = (int(x) for x in r[4].split(":"))
        elapsed = hours * 3600 + minutes * 60 + seconds
        if not step:
            mem = next((p[4:] for p in r[7].split(",") if p.startswith("mem=")), "")
            mib = int(mem[:-1]) * (1024 if mem.endswith("G") else 1) if mem else 0
            jobs[job_id] = {"job_id": int(job_id), "name": r[1], "partition": r[2], "state": {"current": [r[3]]},
                            "required": {"CPUs": int(r[5]), "memory_per_node": {"set": bool(mib), "number": mib}},
                            "time": {"elapsed": elapsed}, "allocation_nodes": int(r[6]),
                            "tres": {"allocated": _tres_list(r[7]), "requested": _tres_list(r[8])}, "steps": []}
        else:
            steps = jobs[job_id]["steps"]
            assert isinstance(steps, list)
            steps.append({"step": {"id": f"{job_id}.{step}", "name": r[1]}, "state": [r[3]],
                          "time": {"elapsed": elapsed}, "tres": {"allocated": _tres_list(r[7]), "requested": {
                              "average": _tres_list(r[9]), "max": _tres_list(r[10])}}})
    return json.dumps({"jobs": list(jobs.values())})


FORMATS = {"parsable2": _parsable(), "parsable": _parsable(trailing=True), "fixed width": _fixed_width(),
           "json": _json()}


@pytest.mark.parametrize("name", list(FORMATS))
def test_gpus_type_hours_and_use_in_every_format(name: str) -> None:
    parsed = parse_sacct(FORMATS[name])
    assert parsed.warnings == [], parsed.warnings
    jobs = job_metrics(parsed.frame).set_index("job-id")
    assert jobs["gpus"].to_dict() == {"101": 1, "102": 4, "103": 1, "104": 8, "105": 0, "106": 2, "107": 1}
    assert jobs.loc["101", "gpu-type"] == "v100" and jobs.loc["102", "gpu-type"] == "a100"
    assert jobs.loc["103", "gpu-type"] == "a100_1g.5gb" and pd.isna(jobs.loc["104", "gpu-type"])
    # GPU-hours = GPUs × Elapsed: 1 × 2 h; 4 × 1 h; 1 × 3 h; 8 GCDs × 0.5 h.
    assert jobs.loc[["101", "102", "103", "104"], "gpu-hours"].tolist() == pytest.approx([2.0, 4.0, 3.0, 4.0])
    # Use recorded: 0 % on the idle job, 87 % (Ave) on the busy one; the slice recorded nothing.
    assert jobs.loc["101", "gpu-util"] == 0 and jobs.loc["102", "gpu-util"] == 87
    assert pd.isna(jobs.loc["103", "gpu-util"]) and pd.isna(jobs.loc["105", "gpu-util"])
    assert jobs.loc["102", "gpu-mem-max"] == 30 * 2**30
    assert jobs.loc["107", "nvme-gib"] == 100 and jobs.loc["105", "nvme-gib"] == 0


def test_without_any_tres_field_the_gpu_count_is_unknown_not_zero() -> None:
    jobs = job_metrics(parse_sacct("JobID|Partition|Elapsed\n1|gpu|01:00:00\n").frame)
    assert pd.isna(jobs.loc[0, "gpus"]) and pd.isna(jobs.loc[0, "gpu-hours"])


def test_alloc_gres_of_older_releases() -> None:
    text = ("JobID|Elapsed|AllocGRES\n1|01:00:00|gpu:v100:2\n2|01:00:00|gpu:4(IDX:0-3)\n3|01:00:00|\n"
            "4|01:00:00|gpu:tesla:1,mic:0\n")
    jobs = job_metrics(parse_sacct(text).frame)
    assert jobs["gpus"].tolist() == [2, 4, 0, 1]
    assert [None if pd.isna(kind) else kind for kind in jobs["gpu-type"]] == ["v100", None, None, "tesla"]


def test_tres_numbers_and_sizes() -> None:
    tres = pd.Series(["cpu=00:01:00,gres/gpumem=1536M,gres/gpuutil=45", "gres/gpumem=1000", None, "mem=1G", ""])
    values = Distinct(tres, len(tres))
    assert values.number("gres/gpumem", size=True).tolist()[:2] == [1536 * 2**20, 1000]
    util = values.number("gres/gpuutil")
    assert util[0] == 45 and np.isnan(util[1:]).all()
    assert values.number("mem", size=True)[3] == 2**30


def test_gpu_use_is_per_gpu_though_slurm_adds_up_a_tasks_gpus() -> None:
    """Slurm's GPU plugins add each GPU of a task into its gres/gpuutil and gres/gpumem; Ave is over tasks, Tot sums
    them. The figures shown are per GPU."""
    text = ("JobID|Partition|State|Elapsed|NTasks|AllocTRES|TRESUsageInAve|TRESUsageInMax|TRESUsageInTot\n"
            # One task on 2 A100s recorded 100 %: one GPU busy and one idle, or both half busy: 50 % each.
            "1|gpumedium|COMPLETED|01:00:00||cpu=32,gres/gpu:a100=2,mem=100G|||\n"
            "1.batch||COMPLETED|01:00:00|1|cpu=32,gres/gpu:a100=2,mem=100G|gres/gpuutil=100,gres/gpumem=30G|"
            "gres/gpuutil=100,gres/gpumem=30G|gres/gpuutil=100,gres/gpumem=30G\n"
            # 2 tasks, 2 GPUs each: the tasks' total 300 % over 4 GPUs is 75 %; a task's 40 GiB peak is 20 GiB a GPU.
            "2|gpumedium|COMPLETED|01:00:00||cpu=64,gres/gpu:a100=4,mem=200G|||\n"
            "2.0||COMPLETED|01:00:00|2|cpu=64,gres/gpu:a100=4,mem=200G|gres/gpuutil=150,gres/gpumem=36G|"
            "gres/gpuutil=160,gres/gpumem=40G|gres/gpuutil=300,gres/gpumem=72G\n"
            # No TRESUsageInTot: Ave × NTasks over the step's GPUs (its AllocTRES printed none: the job's).
            "3|gpumedium|COMPLETED|01:00:00||cpu=64,gres/gpu:a100=4,mem=200G|||\n"
            "3.0||COMPLETED|01:00:00|2|cpu=64,mem=200G|gres/gpuutil=150|gres/gpuutil=160|\n")
    parsed = parse_sacct(text)
    assert parsed.warnings == []
    jobs = job_metrics(parsed.frame).set_index("job-id")
    assert jobs.loc["1", "gpu-util"] == 50 and jobs.loc["1", "gpu-mem-max"] == 15 * 2**30
    assert jobs.loc["2", "gpu-util"] == 75 and jobs.loc["2", "gpu-mem-max"] == 20 * 2**30
    assert jobs.loc["3", "gpu-util"] == 75
