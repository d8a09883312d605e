"""core.services.sacct: stored sacct runs, their filters and per-job metrics."""

from __future__ import annotations

from core.demo import SACCT_RUNS, seed_demo
from core.sacct import parse_sacct
from core.services import findings as findings_service
from core.services import runs, sacct, sacct_selection
from core.settings import Settings
from core.store.local import LocalStore
from tests import samples


def test_sacct_runs_filters_and_metrics(store: LocalStore, settings: Settings) -> None:
    seed_demo(store, settings)
    samples.seed_public_runs(store, settings, ["hyak-default"])  # a big public run beside the demo's
    listed = sacct.list_runs(store, settings)
    assert len(listed) == len(SACCT_RUNS) + 1
    hyak = next(r for r in listed if r.name.endswith("hyak-default"))
    frame = sacct.combine([runs.load_described_run(store, "mlch-for-air", hyak.object)[0]])
    assert len(frame) == 2292
    jobs = sacct_selection.metrics(frame)
    only_jobs = sacct_selection.select(frame, jobs, sacct_selection.Filters(step_kinds=["job"])).rows
    assert len(only_jobs) == 753
    timeouts = sacct_selection.select(frame, jobs, sacct_selection.Filters(states=["TIMEOUT"], step_kinds=["job"]))
    assert set(timeouts.rows["state"]) == {"TIMEOUT"}
    assert len(jobs) == 753
    # Hyak's default fields have no TotalCPU: efficiency is unknown, not zero.
    assert jobs["cpu-efficiency"].isna().all()
    selection = sacct_selection.select(frame, jobs, sacct_selection.Filters(states=["TIMEOUT"]))
    summary = sacct_selection.summary(selection, settings.advice)
    assert summary.median_cpu_efficiency is None and summary.cpu_efficiency_jobs == 0
    assert summary.jobs == len(selection.jobs) == (selection.rows["step"] == "").sum()
    assert set(selection.jobs["state"]) == {"TIMEOUT"} and summary.failed == summary.jobs


def test_findings_csv_has_the_headers_the_page_shows(settings: Settings) -> None:
    from core.sacct import parse_sacct

    text = "JobID|JobName|State|Elapsed|AllocCPUS|TotalCPU\n1|<b>x</b>|COMPLETED|01:00:00|8|02:00:00\n"
    jobs = sacct_selection.metrics(parse_sacct(text).frame.assign(run="r"))
    notes = findings_service.findings(jobs, settings)
    lines = findings_service.findings_csv(notes).decode().splitlines()
    assert lines[0] == ("Run,JobID,JobName,State,Finding,Figure,Threshold,Ask next time,Billed at stake,Billing unit,"
                        "Core-hours at stake")
    # Job names stay as the file wrote them: the CSV is data, not markup.
    assert lines[1].startswith("r,1,<b>x</b>,COMPLETED,idle cores,") and "--cpus-per-task=3" in lines[1]


def test_a_runs_sentence_names_the_commonest_failures_and_counts_the_rest() -> None:
    # 15 kinds of failure: exit code k on 20 - k jobs (the commonest first), and 3 completed jobs.
    codes = [f"{k}:0" for k in range(1, 16) for _ in range(20 - k)]
    lines = [f"{i}|FAILED|{code}|00:10:00" for i, code in enumerate(codes)]
    lines += [f"{len(codes) + i}|COMPLETED|0:0|00:10:00" for i in range(3)]
    jobs = sacct_selection.metrics(parse_sacct("JobID|State|ExitCode|Elapsed\n" + "\n".join(lines) + "\n").frame
                         .assign(run="r"))
    text = findings_service.run_waste_text(jobs)
    named = ", ".join(f"FAILED (exit {k}:0) ×{20 - k}" for k in range(1, findings_service.FAILURE_KINDS_SHOWN + 1))
    rest = sum(20 - k for k in range(findings_service.FAILURE_KINDS_SHOWN + 1, 16))
    assert f"{len(codes):,} failed: {named} and 5 other kinds ({rest} jobs)" in text
