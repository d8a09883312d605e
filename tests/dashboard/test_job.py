"""The job page (AppTest): opened by its URL, it joins Management, sacct and logs, and says what is missing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from core.models import Job, Orchestration, Status
from core.sacct import parse_sacct
from core.serialize import dump_management, frame_to_parquet, load_management
from core.store.local import LocalStore
from tests.dashboard.conftest import shown, texts

OpenPage = Callable[..., AppTest]


def _job_page(open_page: OpenPage, **params: str) -> AppTest:
    at = open_page("views/job.py", params=params)
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_job_page_joins_management_sacct_and_logs(open_page: OpenPage, store_dir: Path) -> None:
    at = _job_page(open_page, job="3459879", platform="mahti", object="MANAGEMENT/1.json")
    assert not at.error and not at.warning
    assert at.title[0].value == "Job 3459879"
    # Run 1 stored its results: the job's last flag is "stored".
    assert {m.label: m.value for m in at.metric} == {"Platform": "mahti", "Status": "stored"}
    shown = texts(at)
    assert "Script: /users/mvirtane/ray-cluster.sh" in shown
    flags = at.dataframe[0].value
    assert list(flags.columns[:5]) == ["start", "config", "submit", "pending", "running"]
    assert flags.iloc[0].tolist() == ["✔", "✔", "✔", "✔", "✔", "·", "✔", "·", "·", "✔"]
    assert "CPU Efficiency: 0.37% of 21:58:24 core-walltime" in shown
    # Sizes read as seff prints them for this job ("Memory Utilized: 374.88 MB", "36.61% of 1.00 GB"): two decimals.
    assert "Memory Utilized: 374.88 MiB" in shown
    assert "Memory Efficiency: 36.61% of 1.00 GiB" in shown
    rows = next(d.value for d in at.dataframe if "JobID" in d.value.columns and "Elapsed" in d.value.columns)
    assert rows["State"].tolist() == ["COMPLETED"] * 4
    advice = next(d.value for d in at.dataframe if "Ask next time" in d.value.columns)
    assert advice["Ask next time"].tolist() == ["--cpus-per-task=2 (busy cores + 20%)", "--mem=500M (peak + 20%)"]
    # Labels render Markdown, so the object names in them are escaped.
    seff_size = len(LocalStore(store_dir).get_object("mlch-pipe-user-example-com", "LOGS/seff-3459879.txt")[1])
    assert [e.label for e in at.expander] == ["output\\: LOGS/slurm\\-3459879\\.out \\(16\\.88 KiB\\)",
                                              f"seff report\\: LOGS/seff\\-3459879\\.txt \\({seff_size} B\\)"]
    assert "No error lines found" in shown
    assert any(c.value.startswith("Job ID: 3459879\nCluster: mahti\nState: COMPLETED") for c in at.code)


def test_job_page_shows_the_errors_of_a_cancelled_job_in_context(open_page: OpenPage) -> None:
    at = _job_page(open_page, job="3461753", run="user-example-com-mahti-2024-05")
    assert {m.label: m.value for m in at.metric} == {"Platform": "mahti", "Status": "cancelled"}
    errors = next(c.value for c in at.code if "CANCELLED AT" in c.value)
    marked = [line for line in errors.splitlines() if line.startswith(">")]
    assert len(marked) == 3 and all("slurmstepd: error" in line for line in marked)
    assert "srun: Job step aborted" in errors  # context before the first error line
    assert "3 error lines in 1 place (" in texts(at)


def _add_job(store_dir: Path, job_id: str, status: Status) -> None:
    """A Management object (the newest) listing one more Mahti job besides run 3's."""
    store = LocalStore(store_dir)
    bucket = "mlch-sub-air-user-example-com"
    orchestration = Orchestration.model_validate(load_management(store.get_object(bucket, "MANAGEMENT/3.json")[1]))
    orchestration.platforms["mahti"].jobs.append(Job(path="/users/mvirtane/sweep.sh", id=job_id, status=status))
    store.put_object(bucket, "MANAGEMENT/4.json", dump_management(orchestration))


def test_job_page_says_which_pieces_are_missing(open_page: OpenPage, store_dir: Path) -> None:
    # Just submitted: in Management, not yet in any collected sacct run, no log yet.
    _add_job(store_dir, "3499999", Status(start=True, config=True, submit=True))
    at = _job_page(open_page, job="3499999", run="no-such-run")
    shown = texts(at)
    assert [w.value for w in at.warning] == ["SACCT run no\\-such\\-run is not stored; searched every stored run "
                                             "instead\\."]
    assert {m.label: m.value for m in at.metric}["Status"] == "submitted"
    assert "No sacct record of job 3499999" in shown
    assert "No log of job 3499999 in LOGS/ yet" in shown and "when the job ends" in shown


def test_a_failed_job_without_its_log_says_the_log_is_missing(open_page: OpenPage, store_dir: Path) -> None:
    _add_job(store_dir, "3499998", Status(start=True, config=True, submit=True, pending=True, running=True,
                                          failed=True))
    at = _job_page(open_page, job="3499998")
    shown = texts(at)
    assert {m.label: m.value for m in at.metric}["Status"] == "failed"
    assert "although the job has ended" in shown and "when the job ends" not in shown


def test_every_demo_job_page_has_its_record_and_log(open_page: OpenPage) -> None:
    # The failed sweep task: its accounting, its seff report and its log with the error, no missing piece.
    at = _job_page(open_page, job="3462001_5")
    shown = texts(at)
    assert "No sacct record" not in shown and "No log of job" not in shown
    assert "State: FAILED" in shown
    labels = [e.label for e in at.expander]
    assert labels[0].startswith("output\\: LOGS/slurm\\-3462001\\_5\\.out")
    assert labels[1].startswith("seff report\\: LOGS/seff\\-3462001\\_5\\.txt")
    assert any("CUDA out of memory" in c.value for c in at.code)


def test_job_page_refuses_a_link_without_a_job(open_page: OpenPage) -> None:
    at = _job_page(open_page, job="[x](javascript:alert(1))")
    # The URL's text is shown escaped, never as a Markdown link.
    assert [e.value for e in at.error] == [
        "This link does not name a job: '\\[x\\]\\(javascript\u2060\\:alert\\(1\\)\\)' is not a Slurm job id."]
    assert not at.metric and not at.dataframe


def test_job_page_shows_gpus_use_per_step_and_the_billing_formula(open_page: OpenPage, store_dir: Path) -> None:
    text = ("JobID|JobName|Partition|State|Elapsed|AllocCPUS|NNodes|ReqMem|TotalCPU|AllocTRES|TRESUsageInAve|"
            "TRESUsageInMax\n"
            "7100001|train|gpu|COMPLETED|02:00:00|10|1|64G|10:00:00|cpu=10,gres/gpu:v100=1,gres/gpu=1,mem=64G,node=1||\n"
            "7100001.batch|batch||COMPLETED|02:00:00|10|1||10:00:00||gres/gpuutil=0,gres/gpumem=0|"
            "gres/gpuutil=0,gres/gpumem=0\n")
    frame = parse_sacct(text).frame
    LocalStore(store_dir).put_object("mlch-for-air", "ARTIFACTS/SACCT/user-example-com-puhti-gpu.parquet",
                                     frame_to_parquet(frame), metadata={"version": 1, "platform": "puhti"})
    at = _job_page(open_page, job="7100001", run="user-example-com-puhti-gpu")
    summary = next(c.value for c in at.code if c.value.startswith("GPUs: "))
    assert summary.splitlines() == [
        "GPUs: 1 (v100)", "GPU-hours: 2.00 (GPUs × Elapsed)", "GPU use: 0 % (gres/gpuutil per GPU, the busiest step)",
        "Peak GPU memory: 0 B (gres/gpumem)",
        "Billed (CSC GPU BU): (60 × 1 GPUs + 1 × 10 cores + 0.1 × 64 GiB) × 2 h = 152.80 CSC GPU BU"]
    steps = next(d.value for d in at.dataframe if "GPU use %" in d.value.columns)
    assert steps["step"].tolist() == ["batch"] and steps["GPU use %"].tolist() == [0.0]
    advice = next(d.value for d in at.dataframe if "Ask next time" in d.value.columns)
    assert advice.iloc[0]["Finding"] == "idle GPUs" and advice.iloc[0]["Billed at stake"] == 152.8


def test_a_forbidden_bucket_costs_only_its_section_of_the_job_page(open_page: Callable[..., AppTest],
                                                                    store_dir: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from core.errors import Forbidden

    real = LocalStore.list_objects

    def forbidding(self: LocalStore, bucket: str, **kwargs: Any) -> Any:
        if bucket == "mlch-for-air":
            raise Forbidden("access forbidden: this bucket belongs to another project or user", bucket=bucket)
        return real(self, bucket, **kwargs)

    monkeypatch.setattr(LocalStore, "list_objects", forbidding)
    at = open_page("views/job.py", params={"job": "3459879"})
    assert not at.exception and not at.error, [e.value for e in at.error]
    warnings = [shown(str(w.value)) for w in at.warning]
    assert any(w.startswith("Could not list mlch-for-air/ARTIFACTS/SACCT/") and "forbidden" in w for w in warnings)
    assert [m.value for m in at.metric if m.label == "Platform"]  # the Management section is there
    assert at.expander, "the job's logs are there"
