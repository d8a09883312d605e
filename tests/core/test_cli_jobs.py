"""``hpc-monitor jobs``: one row per job with the SACCT table's figures, in a table, CSV and JSON, and bad input."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from core.cli import main
from core.settings import ENV_NAMES
from tests import samples
from tests.core.sacct.test_gpu import FORMATS
from tests.core.test_cli import hpc_monitor, one_error_line

SACCT = ("JobID|JobName|Partition|State|Elapsed|Timelimit|AllocCPUS|NNodes|TotalCPU|AllocTRES|TRESUsageInAve|"
         "TRESUsageInMax\n"
         "11|idle|gpu|COMPLETED|02:00:00|04:00:00|10|1|01:00:00|cpu=10,gres/gpu:v100=1,gres/gpu=1,mem=64G,node=1||\n"
         "11.batch|batch||COMPLETED|02:00:00||10|1|01:00:00|cpu=10,gres/gpu:v100=1,gres/gpu=1,mem=64G|"
         "gres/gpuutil=0,gres/gpumem=0|gres/gpuutil=0,gres/gpumem=0\n"
         "12|cpu|small|COMPLETED|01:00:00|01:00:00|4|1|03:00:00|cpu=4,mem=8G,node=1||\n"
         "13|slice|gpusmall|RUNNING|00:30:00|01:00:00|4|1||cpu=4,gres/gpu:a100_1g.5gb=1,mem=17G,node=1||\n")


@pytest.fixture()
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(args: list[str], stdin: bytes = b"") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(args, stdin=io.BytesIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_json_rows_have_the_documented_keys_and_hand_computed_figures(clean: Path) -> None:
    code, out, err = run(["jobs", "-", "--platform", "puhti", "--format", "json"], SACCT.encode())
    assert code == 0, err
    rows = {r["job_id"]: r for r in json.loads(out)}
    idle, cpu = rows["11"], rows["12"]
    # Puhti gpu: (60 × 1 GPU + 1 × 10 cores + 0.1 × 64 GiB) × 2 h = 152.8 CSC GPU BU.
    assert idle["billed"] == pytest.approx(152.8) and idle["billing_unit"] == "CSC GPU BU"
    assert (idle["gpus"], idle["gpu_hours"], idle["gpu_util_percent"]) == (1, 2.0, 0.0)
    assert idle["cpu_efficiency_percent"] == pytest.approx(5.0) and idle["platform"] == "puhti"
    assert idle["advice"][0].startswith("idle GPUs: 1 v100 GPU allocated, 0 % use recorded")
    # Puhti small: (4 + 0.1 × 8) × 1 h = 4.8 CSC CPU BU; a CPU job has 0 GPUs and no GPU use recorded.
    assert cpu["billed"] == pytest.approx(4.8) and cpu["billing_unit"] == "CSC CPU BU" and "GPU" not in \
        cpu["billing_unit"]
    assert (cpu["gpus"], cpu["gpu_util_percent"]) == (0, None)
    # The platform is puhti, but gpusmall is Mahti's: not billed (null), and the running job is not efficient yet.
    assert rows["13"]["billed"] is None and rows["13"]["cpu_efficiency_percent"] is None
    assert isinstance(idle["job_id"], str) and isinstance(idle["gpus"], int)


def test_platform_from_cluster_beats_the_option_and_running_jobs_are_billed_so_far(clean: Path) -> None:
    text = ("JobID|Cluster|Partition|State|Elapsed|AllocCPUS|NNodes|AllocTRES\n"
            "1|mahti|gpusmall|RUNNING|00:30:00|4|1|cpu=4,gres/gpu:a100_1g.5gb=1,mem=17G,node=1\n")
    code, out, err = run(["jobs", "--platform", "puhti", "--format", "json"], text.encode())
    assert code == 0, err
    row = json.loads(out)[0]
    # 15 GPU BU per slice-hour × 0.5 h so far.
    assert (row["platform"], row["billed"], row["billed_so_far"]) == ("mahti", pytest.approx(7.5), True)


def test_table_and_csv(clean: Path) -> None:
    code, out, err = run(["jobs", "-", "--platform", "puhti"], SACCT.encode())
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["JobID", "State", "Platform", "Partition", "Elapsed", "CPUs", "CPUEff", "MemEff",
                                "GPUs", "GPU-h", "GPUUse", "Billed", "Unit"]
    first = lines[1].split()
    assert first[:5] == ["11", "COMPLETED", "puhti", "gpu", "02:00:00"] and first[-4:] == ["152.8", "CSC", "GPU",
                                                                                            "BU"]
    assert lines[2].startswith("    idle GPUs: ")
    code, out, err = run(["jobs", "-", "--platform", "puhti", "--format", "csv"], SACCT.encode())
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["job_id"] for r in rows] == ["11", "12", "13"] and rows[0]["billing_unit"] == "CSC GPU BU"
    assert rows[0]["advice"].startswith("idle GPUs") and rows[1]["gpu_util_percent"] == ""


@pytest.mark.parametrize("name", list(FORMATS))
def test_every_input_format(clean: Path, name: str) -> None:
    source = clean / "sacct.txt"
    source.write_text(FORMATS[name])
    code, out, err = run(["jobs", str(source), "--platform", "puhti", "--format", "json"])
    assert code == 0, err
    rows = {r["job_id"]: r for r in json.loads(out)}
    assert rows["101"]["billed"] == pytest.approx(152.8) and rows["101"]["gpu_util_percent"] == 0
    assert rows["105"]["gpus"] == 0 and rows["105"]["billing_unit"] == "CSC CPU BU"


def test_bad_input_is_one_line_and_a_non_zero_exit(clean: Path) -> None:
    code, out, err = run(["jobs", "-"], b"this is not sacct output\n")
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("hpc-monitor: error: The sacct input was not accepted")
    code, _, err = run(["jobs", str(clean / "missing.txt")])
    assert code == 1 and "cannot read" in err
    code, _, err = run(["jobs", "-", "--platform", "hyak"], SACCT.encode())
    assert code == 1 and "platform 'hyak' is not one of" in err


def test_input_without_job_ids_is_refused_in_one_line_saying_to_keep_jobid(clean: Path) -> None:
    # CSC's split tables ("Resources:", "Time:") print no JobID: their rows are not jobs, and an empty table would
    # say there were none.
    code, out, err = run(["jobs", str(samples.sacct("04_csc_mahti_fixedwidth_split.txt"))])
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and err.startswith("hpc-monitor: error: The input has no JobID field")
    assert "Keep JobID in sacct's --format" in err
    code, out, _ = run(["jobs", "-"], b"JobID|State\n")  # no rows, but JobID: no jobs, said as an empty table
    assert code == 0 and out.startswith("JobID")


def test_as_a_command(tmp_path: Path) -> None:
    result = hpc_monitor(["jobs", "-", "--platform", "puhti", "--format", "json"], {}, tmp_path, SACCT.encode())
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["billing_unit"] == "CSC GPU BU"
    bad = hpc_monitor(["jobs", "-"], {}, tmp_path, b"\x00\x01binary")
    assert one_error_line(bad).startswith("hpc-monitor: error: The sacct input was not accepted")
