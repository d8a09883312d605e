"""The weekly digest: the last seven days per project (sacct's Account), as one message each.

Per platform: jobs and failures, allocated core-hours (AllocCPUS × Elapsed), GPU-hours (GPUs in AllocTRES ×
Elapsed; "not recorded" when the run has no AllocTRES) and what was billed, one figure per pool (CSC CPU BU and GPU
BU on Puhti, Mahti and Roihu, LUMI core-hours and GPU-hours on LUMI: :mod:`core.billing`). Then the three findings
with the most core-hours at stake, with their advice, and links to SACCT on the runs and to each finding's job page.

A job belongs to the week when it ended in it (a job without an End: when it started, else was submitted). Only runs
stored since the week began are read: a run stored before holds no job that ended later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from core.delivery import Message
from core.errors import MonitorError, failure_message
from core.services import cost as cost_service
from core.services import findings as findings_service
from core.services import overview as overview_service
from core.services import runs as runs_service
from core.services import sacct as sacct_service
from core.services import sacct_selection
from core.services.notify import Channel, DashboardLinks, Outgoing, Report, deliver, ledger
from core.settings import Settings
from core.store.base import ObjectStore

#: Findings named per project.
COSTLIEST = 3
#: A job's account when sacct printed none.
NO_ACCOUNT = "(no account recorded)"


@dataclass(frozen=True)
class ProjectWeek:
    """One project's week: a row per platform, its costliest findings and the runs they come from."""

    project: str
    start: datetime
    end: datetime
    platforms: pd.DataFrame  # platform, jobs, failed, core-hours, gpu-hours, billed (per pool, text), billed jobs
    costliest: pd.DataFrame  # run, job-id, job-name, finding, advice, core-hours at stake
    runs: list[str]


def _job_extras(frame: pd.DataFrame) -> pd.DataFrame:
    """Per run and job id: the account (from the job's own row)."""
    rows = frame[frame["step"].fillna("") == ""] if "step" in frame.columns else frame
    out = pd.DataFrame({"run": rows["run"].astype(str), "job-id": rows["job-id"].astype(str)})
    account = rows["account"].astype("string").str.strip().str.lower() if "account" in rows.columns else None
    out["project"] = (account.where(account.fillna("") != "", NO_ACCOUNT).fillna(NO_ACCOUNT)
                      if account is not None else NO_ACCOUNT)
    return out.drop_duplicates(["run", "job-id"])



def weekly(store: ObjectStore, settings: Settings, now: datetime, *, days: int = 7) -> tuple[list[ProjectWeek],
                                                                                              list[str]]:
    """Each project's last ``days`` days, and the runs that could not be read (one line each)."""
    end = now.astimezone(UTC)
    start = end - timedelta(days=days)
    bucket = sacct_service.forwarder_bucket(settings)
    problems: list[str] = []
    frames, infos = [], []
    for run in sacct_service.list_runs(store, settings):
        if run.stored is not None and run.stored < start:
            continue
        try:
            frame, info = runs_service.load_described_run(store, bucket, run.object, settings.read_limits)
        except (MonitorError, ValueError) as exc:
            problems.append(failure_message(f"Could not read the SACCT run {bucket}/{run.object}", exc))
            continue
        frames.append(frame)
        infos.append(info)
    if not frames:
        return [], problems
    frame = sacct_service.combine(frames)
    jobs = sacct_selection.metrics(frame)
    jobs["run"] = jobs["run"].astype(str)
    jobs["job-id"] = jobs["job-id"].astype(str)
    jobs = jobs.merge(_job_extras(frame), on=["run", "job-id"], how="left")
    jobs["project"] = jobs["project"].fillna(NO_ACCOUNT)
    when = cost_service.job_day(jobs)
    jobs = jobs[(when >= start.timestamp()) & (when < end.timestamp())].reset_index(drop=True)
    if jobs.empty:
        return [], problems
    platforms = runs_service.platforms_of(infos)
    jobs = cost_service.priced(jobs, jobs["run"].map(platforms).fillna("unknown"), settings)
    hours = pd.to_numeric(jobs["elapsed-seconds"], errors="coerce") / 3600
    jobs["core-hours"] = pd.to_numeric(jobs["core-seconds"], errors="coerce") / 3600
    jobs["gpu-hours"] = jobs["gpus"].astype("float64") * hours
    jobs["failed"] = jobs["state"].astype("string").isin(sacct_selection.FAILED_STATES).fillna(False).astype(bool)
    notes = findings_service.findings(jobs, settings)
    weeks = []
    for project, mine in jobs.groupby("project", sort=True):
        rows = []
        for platform, part in mine.groupby("platform", sort=True):
            def total(column: str, part: pd.DataFrame = part) -> float | None:
                values = part[column].dropna()
                return float(values.sum()) if len(values) else None
            rows.append({"platform": platform, "jobs": len(part), "failed": int(part["failed"].sum()),
                         "core-hours": total("core-hours"), "gpu-hours": total("gpu-hours"),
                         "billed": "; ".join(f"{t.amount:,.1f} {t.pool}" for t in cost_service.pool_totals(part)),
                         "billed jobs": int(part["billed"].notna().sum())})
        keys = set(zip(mine["run"], mine["job-id"], strict=True))
        picked = notes[[(str(r), str(j)) in keys for r, j in zip(notes["run"], notes["job-id"], strict=True)]]
        picked = picked.sort_values("core-hours at stake", ascending=False, na_position="last").head(COSTLIEST)
        weeks.append(ProjectWeek(str(project), start, end, pd.DataFrame(rows), picked.reset_index(drop=True),
                                 sorted(mine["run"].unique().tolist())))
    return weeks, problems


def _figure(value: object, unit: str = "") -> str:
    if value is None or pd.isna(value):
        return "not recorded"
    return f"{float(value):,.1f}{f' {unit}' if unit else ''}"  # type: ignore[arg-type]


def digest_message(week: ProjectWeek, settings: Settings,
                   budget: Sequence[cost_service.PoolBudget] = ()) -> Message:
    """The week of one project as a message (plain text; one line per platform, the budget, then the findings)."""
    links = DashboardLinks(settings.dashboard_url)
    zone = ZoneInfo(settings.sacct_timezone)
    span = f"{week.start.astimezone(zone):%Y-%m-%d} – {week.end.astimezone(zone):%Y-%m-%d}"
    jobs, failed = int(week.platforms["jobs"].sum()), int(week.platforms["failed"].sum())
    lines = [f"Project {week.project}, {span} ({settings.sacct_timezone}): {jobs:,} jobs, {failed:,} failed.", "",
             "Per platform (core-hours allocated = AllocCPUS × Elapsed; GPU-hours from AllocTRES):"]
    for row in week.platforms.to_dict("records"):
        if not row["billed"]:
            billed_text = "not billed (a platform or partitions without rates)"
        elif row["billed jobs"] < row["jobs"]:
            billed_text = (f"billed {row['billed']} for {row['billed jobs']:,} of its jobs (the others ran in "
                           "partitions without rates, or printed no GPU count)")
        else:
            billed_text = f"billed {row['billed']}"
        lines.append(f"- {row['platform']}: {row['jobs']:,} jobs, {row['failed']:,} failed, "
                     f"{_figure(row['core-hours'])} core-hours, {_figure(row['gpu-hours'])} GPU-hours, {billed_text}")
    job_links: list[tuple[str, str]] = []
    if budget:
        lines += ["", "Budget (BUDGET_* allocations against every stored run):"]
        lines += [f"- {pool.sentence()}{' Needs attention.' if pool.needs_attention else ''}" for pool in budget]
    if week.costliest.empty:
        lines += ["", "No finding this week."]
    else:
        lines += ["", f"The {len(week.costliest)} costliest findings:"]
        for index, note in enumerate(week.costliest.to_dict("records"), start=1):
            at_stake = note["core-hours at stake"]
            stake = "" if at_stake is None or pd.isna(at_stake) else f" ({float(at_stake):,.1f} core-hours at stake)"
            name = " ".join(str(note["job-name"]).split()) if not pd.isna(note["job-name"]) else ""
            lines.append(f"{index}. job {note['job-id']}{f' ({name})' if name else ''} in {note['run']}: "
                         f"{note['finding']}{stake}. Advice: {note['advice']}")
            link = (f"Job {note['job-id']}", links.job(str(note["job-id"]), str(note["run"])))
            if link not in job_links:
                job_links.append(link)
    subject = f"Week of project {week.project}: {jobs:,} jobs, {failed:,} failed ({span})"
    return Message(subject, "\n".join(lines), (("SACCT", links.sacct(week.runs)), *job_links))


def send_digests(store: ObjectStore, settings: Settings, now: datetime, targets: list[Channel], *,
                 dry_run: bool = False) -> Report:
    """Send each project's week once per channel and day (a second run the same day sends nothing)."""
    weeks, problems = weekly(store, settings, now)
    report = Report(problems=problems)
    budget: list[cost_service.PoolBudget] = []
    if weeks:  # the budget's pools: the stored allocations and the BUDGET_* settings
        view = overview_service.build_overview(store, settings, now)
        budget = view.budget
        report.problems.extend(p for p in view.problems if p not in report.problems)
    day = now.astimezone(ZoneInfo(settings.sacct_timezone)).date().isoformat()
    book = ledger(store, settings)
    scan = book.scan()
    for channel in targets:
        keyed = {f"{channel.name}:digest:{week.project}:{day}": week for week in weeks}
        done = book.done(keyed, scan)
        report.already += len(done)
        new = {key: week for key, week in keyed.items() if key not in done}
        if dry_run:
            report.sent.extend(Outgoing(channel.name, digest_message(week, settings, budget), (key,))
                               for key, week in new.items())
            continue
        won = book.claim(new) if new else []
        if book.late:
            report.late[channel.name] = book.late
        for claim in won:
            message = digest_message(new[claim.key], settings, budget)
            deliver(book, channel, Outgoing(channel.name, message, (claim.key,)), [claim], now, report)
    return report
