"""Overview: what needs attention for the pipeline user, each item a link to the page that shows it."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from core.models import Orchestration
from core.services import cost
from core.services import management as management_service
from core.services import overview as service
from core.services import runs as runs_service
from core.services import sacct as sacct_service
from core.services.jobs import JobKey
from core.services.sacct import RunRef
from core.services.sacct_selection import FAILED_STATES
from core.store.base import ObjectEntry
from dashboard import components, links

#: How many items each section lists as links (the rest are counted).
LINKS = 8


def plain(text: object) -> str:
    """Text from storage made inert for a Markdown label (page links render Markdown)."""
    return links.plain(str(text))


settings = components.settings()
components.header("Overview", f"What needs attention in the pipeline of {plain(settings.pipeline_user)}.")
store = components.store()
refresh = st.toggle("Auto-refresh every 60 s", key="refresh", bind="query-params",
                    help="Re-read runs and Management objects every minute while this page is open.")


def _load(bucket: str, run: RunRef) -> tuple[pd.DataFrame, runs_service.RunInfo]:
    return components.described_run(store, bucket, run.object, run.etag)


def _measure(bucket: str, runs: list[RunRef], frames: list[pd.DataFrame]) -> pd.DataFrame:
    return components.sacct_metrics(store, bucket, runs, frames)


def _load_budget(bucket: str, entry: ObjectEntry) -> dict[str, float]:
    # The listing's etag keys the cache: a rerun reads the allocations again only when they changed.
    return components.cached_read(cost.read_allocations, store, bucket, entry.name, entry.hash or "")


def _load_management(bucket: str, obj: management_service.ManagementObject) -> Orchestration:
    # The listing's etag keys the cache: no HEAD and no download while the object is unchanged.
    return components.cached_read(management_service.load_orchestration, store, bucket, obj.name, obj.etag or None,
                                  settings.read_limits)


def _job_link(run: str, job_id: str, label: str) -> None:
    st.page_link(links.JOB, label=label, icon=":material/work_history:",
                 query_params=JobKey(job_id, run=run).query_params())


@st.fragment(run_every=60 if refresh else None)
def show() -> None:
    now = datetime.now(UTC)
    with components.guard("Could not read the overview", progress="Reading runs and Management objects…"):
        view = service.build_overview(store, settings, now, load=_load,
                                      load_management=_load_management, measure=_measure,
                                      load_budget=_load_budget)
    for problem in view.problems:
        st.warning(plain(problem), icon=":material/error:")
    st.caption(f"Read at {now.astimezone(ZoneInfo(settings.sacct_timezone)).strftime('%Y-%m-%d %H:%M:%S %Z')}.")

    left, right = st.columns(2)
    with left:
        failed = view.failed_jobs
        st.subheader(f"Failed jobs: {len(failed):,}", divider="red" if len(failed) else "green")
        rule = sacct_service.recent_runs_rule(view.runs_searched)
        states = ", ".join(FAILED_STATES[:-1]) + f" or {FAILED_STATES[-1]}"
        st.caption(f"{states} jobs, and jobs with a step that ran out of memory, of {rule}: the runs the SACCT page "
                   "opens on.")
        if failed.empty:
            st.success("No failed job in the newest runs.", icon=":material/check:")
        for job in failed.head(LINKS).to_dict("records"):
            _job_link(str(job["run"]), str(job["job-id"]),
                      f"{plain(job['state'])} · job {plain(job['job-id'])} · {plain(job['run'])} "
                      f"({plain(job['platform'])})")
        if len(failed) > LINKS:
            st.caption(f"…and {len(failed) - LINKS:,} more: see the SACCT page (State filter).")

        st.subheader(f"Quotas over {settings.quota_alert_percent:g} %: {len(view.quotas):,}",
                     divider="red" if len(view.quotas) else "green")
        st.caption(f"Workspaces of the most recently changed Management object ({view.management_read} read).")
        if view.quotas.empty:
            st.success("Every workspace quota has room.", icon=":material/check:")
        else:
            components.dataframe(view.quotas, hide_index=True, width="stretch", column_config={
                "capacity used": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1),
                "files used": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1),
            })
            for platform in dict.fromkeys(view.quotas["platform"]):
                st.page_link(links.MANAGEMENT, label=f"Workspaces on {plain(platform)}",
                             icon=":material/account_tree:", query_params={"platform": str(platform)})

    with right:
        st.subheader(f"Stuck pipelines: {len(view.stuck):,}", divider="orange" if view.stuck else "green")
        st.caption(f"Management objects with active jobs that have not changed for over "
                   f"{settings.stuck_after_minutes:g} minutes.")
        if not view.stuck:
            st.success("Every pipeline with active jobs changed recently.", icon=":material/check:")
        for pipeline in view.stuck[:LINKS]:
            hours, minutes = divmod(int(pipeline.minutes), 60)
            with st.container(border=True):
                st.text(f"{pipeline.name} ({pipeline.object}): no change for {hours} h {minutes:02d} min, "
                        f"{len(pipeline.active_jobs)} active jobs")
                st.page_link(links.MANAGEMENT, label=f"Open {plain(pipeline.object)}",
                             icon=":material/account_tree:", query_params={"object": pipeline.object})

        st.subheader("Pipeline runs", divider="gray")
        st.caption("The most recently changed Management objects, each one pipeline run: its stages and jobs on one "
                   "time axis.")
        for name in view.pipeline_runs[:3]:
            st.page_link(links.PIPELINE, label=f"Pipeline run {plain(name)}", icon=":material/view_timeline:",
                         query_params={"object": name})

        st.subheader("Newest runs", divider="gray")
        st.caption(f"{sacct_service.recent_runs_rule(len(view.newest_runs)).capitalize()}.")
        if not view.newest_runs:
            st.info("No SACCT run stored yet.")
        else:
            components.dataframe(runs_service.run_table(view.newest_runs, settings.sacct_timezone), hide_index=True,
                                 width="stretch", column_order=["run", "platform", "cluster", "rows", "stored"],
                                 column_config={"stored": st.column_config.DatetimeColumn("stored",
                                                                                  format="YYYY-MM-DD HH:mm z")})
            for run in view.newest_runs:
                st.page_link(links.SACCT, label=f"{plain(run.name)} ({plain(run.platform or 'unknown')})",
                             icon=":material/query_stats:", query_params={"runs": run.name})

    attention = [b for b in view.budget if b.needs_attention]
    st.subheader(f"Spend and budget{f': {len(attention)} need attention' if attention else ''}",
                 divider="red" if attention else "gray")
    st.caption(f"Billed per pool over the jobs of the {view.runs_billed:,} stored SACCT runs. " + cost.BUDGET_HELP)
    if not view.spend:
        st.info("No stored job is billed yet (its run's platform and partition need a billing rule).")
    else:
        spend = st.columns(len(view.spend))
        for column, total in zip(spend, view.spend, strict=True):
            column.metric(f"{total.pool} spent", f"{total.amount:,.1f}", help=f"over {total.jobs:,} billed jobs")
    if not view.budget:
        st.caption("No allocation set: ARTIFACTS/BUDGET.json in the forwarder bucket (pool → allocation), or "
                   "BUDGET_CSC_CPU_BU, BUDGET_CSC_GPU_BU, BUDGET_LUMI_CORE_HOURS and BUDGET_LUMI_GPU_HOURS, show what "
                   "is left and when it runs out.")
    for pool in view.budget:
        line = pool.sentence()
        if pool.needs_attention:
            st.warning(plain(line), icon=":material/savings:")
        else:
            st.text(line)
        st.progress(min(1.0, pool.used_share), text=f"{pool.pool}: {pool.used_share:.0%} used")


show()
