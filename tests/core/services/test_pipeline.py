"""core.services.pipeline: one pipeline run joined across Management, TIMES and SACCT by the README's rules."""

from __future__ import annotations

import pandas as pd
import pytest

from core.demo import seed_demo
from core.models import Job, Status
from core.services import management, pipeline, runs, sacct, tables
from core.settings import Settings
from core.store.local import LocalStore


def _load(store: LocalStore, settings: Settings, name: str) -> pipeline.PipelineRun:
    bucket = sacct.forwarder_bucket(settings)
    return pipeline.load_pipeline_run(store, settings, name,
                                      lambda ref: runs.load_described_run(store, bucket, ref.object))


@pytest.mark.parametrize(("name", "times"), [("MANAGEMENT/3.json", "run-3"), ("MANAGEMENT/old/12.json", "run-12"),
                                             ("MANAGEMENT/latest.json", None)])
def test_a_management_object_names_its_times_run(name: str, times: str | None) -> None:
    assert pipeline.times_run_of(name) == times


def test_run_one_of_the_demo_joins_stages_and_every_platforms_jobs(store: LocalStore, settings: Settings) -> None:
    seed_demo(store, settings)
    run = _load(store, settings, "MANAGEMENT/1.json")
    assert run.times_run == "run-1" and run.notes == []
    assert run.stages["stage"].tolist() == ["start", "config", "run", "store"]
    # 16 jobs: the sweep's 8 tasks grouped under 3462001.
    assert len(run.jobs) == 16 and (run.jobs["group"] == "3462001").sum() == 8
    assert set(run.jobs["platform"]) == {"puhti", "mahti", "roihu", "lumi"}
    train = run.jobs.set_index("job-id").loc["21538102"]
    assert (train["wait-seconds"], train["run-seconds"], train["gpus"]) == (1320, 6480, 4)
    assert train["gpu-hours"] == pytest.approx(7.2)  # 4 GPUs × 1.8 h
    # Every job was submitted while the run stage ran: its figures are the jobs'.
    stages = pipeline.stage_summary(run).set_index("stage")
    assert stages.loc["run", "jobs"] == 16 and stages.loc["run", "failed"] == 2
    assert stages.loc["start", "jobs"] == 0 and pd.isna(stages.loc["start", "core-hours"])  # nothing recorded
    platforms = pipeline.platform_summary(run).set_index("platform")
    assert platforms.loc["mahti", "billed CSC CPU BU"] == pytest.approx(100 * 309 / 3600)  # 3459879, medium
    # The sweep's 8 MIG slices: 15 GPU BU per slice-hour, in their own pool.
    sweep = run.jobs[run.jobs["group"] == "3462001"]
    assert sweep["gpus"].tolist() == [1.0] * 8  # each a typed GPU (gres/gpu:a100_1g.5gb=1) on AllocTRES
    slices = sweep["run-seconds"].sum() / 3600
    assert platforms.loc["mahti", "billed CSC GPU BU"] == pytest.approx(15 * slices)
    path = pipeline.critical_path(run)
    assert path["job-id"].tolist()[-1] == "7340020"  # LUMI's finetune ended last
    bars = pipeline.segments(run)
    assert set(bars["kind"]) == {"stage", "wait", "run"}
    assert (bars["end"] >= bars["begin"]).all()
    # The page's tables read as every table does: hours with one decimal, durations as [D-]HH:MM:SS, no word for
    # a figure not recorded.
    shown = tables.headed_table(pipeline.platform_summary(run), pipeline.PLATFORM_HEADERS, "UTC")
    assert shown.text("core-hours").str.fullmatch(r"[\d,]+\.\d").all()
    assert shown.text("wall time").str.fullmatch(r"(\d+-)?\d\d:\d\d:\d\d").all()
    assert shown.text("billed CSC CPU BU").tolist() == [
        "" if pd.isna(v) else f"{v:,.1f}" for v in pipeline.platform_summary(run)["billed CSC CPU BU"]]
    stage_table = tables.headed_table(pipeline.stage_summary(run), pipeline.STAGE_HEADERS, "UTC")
    assert stage_table.text("core-hours").iloc[0] == ""  # the start stage submitted no job
    path_table = tables.headed_table(path, pipeline.PATH_HEADERS, "UTC")
    assert path_table.text("run").str.fullmatch(r"(\d+-)?\d\d:\d\d:\d\d").all()


def _demo_with_roihu_job(store: LocalStore, settings: Settings, path: str, name: str) -> None:
    """The demo, with run 3's Management and a submitted Roihu job 899999 of ``path`` added stored as ``name``."""
    from core.serialize import dump_management

    seed_demo(store, settings)
    bucket = management.submitter_bucket(settings)
    orchestration = management.load_orchestration(store, bucket, "MANAGEMENT/3.json")
    orchestration.platforms["roihu"].jobs.append(Job(path=path, id="899999",
                                                     status=Status(start=True, config=True, submit=True)))
    store.put_object(bucket, name, dump_management(orchestration))


def test_what_cannot_be_matched_is_named(store: LocalStore, settings: Settings) -> None:
    _demo_with_roihu_job(store, settings, "/users/mvirtane/x.sh", "MANAGEMENT/latest.json")
    run = _load(store, settings, "MANAGEMENT/latest.json")
    assert run.notes[0] == "MANAGEMENT/latest.json has no run number, so no TIMES run can be matched to it."
    assert sorted(run.notes[1:]) == [
        "lumi: /users/virtanem/export.sh has no job id (never submitted; new).",
        "mahti: /users/mvirtane/sweep.sh has no job id (never submitted; started).",
        "roihu: job 899999 (/users/mvirtane/x.sh) has no sacct record yet in the stored roihu runs.",
    ]
    assert run.stages.empty
    # Two runs side by side: run 2 waited longer on Puhti than run 1.
    first, second = (_load(store, settings, f"MANAGEMENT/{n}.json") for n in (1, 2))
    compared = pipeline.compare(first, second)
    puhti = compared[(compared["platform"] == "puhti") & (compared["figure"] == "queue wait seconds")].iloc[0]
    assert puhti["change"] == puhti["MANAGEMENT/2.json"] - puhti["MANAGEMENT/1.json"] > 0


def test_a_jobs_gpus_are_read_as_on_every_page_also_from_allocgres(store: LocalStore, settings: Settings) -> None:
    """A site whose sacct prints AllocGRES and no AllocTRES: the job's GPUs are the pages' reading, not unknown."""
    from core.sacct import parse_sacct
    from core.services import upload

    _demo_with_roihu_job(store, settings, "/users/mvirtane/gres.sh", "MANAGEMENT/3.json")
    text = ("JobID|JobName|Partition|State|Submit|Start|End|Elapsed|AllocCPUS|AllocGRES\n"
            "899999|gres|gpu|COMPLETED|2026-01-05T10:00:00|2026-01-05T10:10:00|2026-01-05T11:40:00|01:30:00|8|"
            "gpu:2\n")
    upload.store_run(store, settings, "roihu-gres", parse_sacct(text), platform="roihu")
    run = _load(store, settings, "MANAGEMENT/3.json")
    job = run.jobs.set_index("job-id").loc["899999"]
    assert (job["gpus"], job["gpu-hours"]) == (2.0, pytest.approx(3.0))  # 2 GPUs × 1.5 h
