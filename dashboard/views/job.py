"""Job: one Slurm job's Management entry, sacct rows with the seff summary, and its logs with the errors found."""

import pandas as pd
import streamlit as st

from core.errors import InvalidInput
from core.services import findings as findings_service
from core.services import jobs as service
from core.services import logs as logs_service
from core.services import sacct as sacct_service
from core.services import sweeps as sweeps_service
from core.services import tables
from core.services.sacct import RunRef
from core.services.times import pipeline_bucket
from core.units import iec_size
from dashboard import components, links
from dashboard import sweeps as sweep_view

settings = components.settings()
view = links.ViewParams("job", ("job", "run", "platform", "object"))
try:
    job_id = service.parse_job_id(view.get("job"))
except InvalidInput as exc:
    components.header("Job", "One Slurm job: its Management entry, its accounting and its logs.")
    st.error(f"This link does not name a job: {links.plain(str(exc))}.", icon=":material/link_off:")
    st.caption("Open a job from a row of the Management jobs table, the SACCT table or the Logs page.")
    for page, label in ((links.MANAGEMENT, "Management"), (links.SACCT, "SACCT"), (links.LOGS, "Logs")):
        st.page_link(page, label=label, icon=":material/arrow_back:")
    st.stop()

components.header(f"Job {job_id}", "What happened: its Management entry, its sacct record and its logs.")
store = components.store()
key = service.JobKey(job_id, view.get("run"), view.get("platform"), view.get("object"))
forwarder = sacct_service.forwarder_bucket(settings)


def read_run(ref: RunRef) -> pd.DataFrame:
    return components.described_run(store, forwarder, ref.object, ref.etag)[0]


with components.guard(f"Could not gather job {job_id}"):
    job = service.load_job(store, settings, key, read_run)
for note in job.notes:
    st.warning(links.plain(note), icon=":material/link_off:")

# --- Management -------------------------------------------------------------------------------------------------
st.subheader("Management", divider="gray")
entry = job.management
if "management" in job.unreadable:
    st.warning(links.plain(job.unreadable["management"]), icon=":material/block:")
elif entry is None:
    where = f" on {links.plain(key.platform)}" if key.platform else ""
    st.info(f"No Management entry for job {job_id}{where}: the submitter did not record it (or it was another "
            "pipeline's job).", icon=":material/info:")
else:
    c1, c2, c3 = st.columns(3)
    c1.metric("Platform", links.plain(entry.platform))
    c2.metric("Status", links.plain(entry.phase))
    c3.page_link(links.MANAGEMENT, label="Open in Management", icon=":material/account_tree:",
                 query_params={"object": entry.object, "platform": entry.platform})
    st.text(f"Script: {entry.script}\nManagement object: {entry.object}")
    st.caption("Status flags, in the order a job goes through them")
    components.dataframe({flag: ["✔" if on else "·"] for flag, on in entry.flags}, hide_index=True, width="stretch")
    st.caption("File transfers of the platform")
    components.dataframe(entry.transfers, hide_index=True, width="stretch")

# --- Accounting ---------------------------------------------------------------------------------------------------
st.subheader("Accounting (sacct)", divider="gray")
if "accounting" in job.unreadable:
    st.warning(links.plain(job.unreadable["accounting"]), icon=":material/block:")
elif not job.runs:
    st.info(f"No sacct record of job {job_id} in the stored SACCT runs. Store the run's sacct output on the Upload "
            "sacct page to see its accounting here.", icon=":material/info:")
    st.page_link("views/upload.py", label="Upload sacct", icon=":material/upload_file:")
else:
    st.text("In SACCT run" + ("s: " if len(job.runs) > 1 else ": ") + ", ".join(job.runs))
    for run in job.runs:
        st.page_link(links.SACCT, label=links.plain(f"Open {run} in SACCT"), icon=":material/query_stats:",
                     query_params={"runs": run})
    left, right = st.columns([2, 3])
    with left:
        st.caption("seff-style summary" + (f" (run {links.plain(job.runs[0])})" if len(job.runs) > 1 else ""))
        if job.seff is None:
            st.info("The record has no row for the job itself (only steps), so there is no summary.")
        else:
            cluster = job.rows["cluster"].dropna().iat[0] if "cluster" in job.rows and \
                job.rows["cluster"].notna().any() else None
            st.code(service.seff_text(job_id, job.seff, cluster), language=None, wrap_lines=True)
    with right:
        st.caption(f"Job and step rows ({len(job.rows)}): durations [D-]HH:MM:SS, sizes in binary units, times in "
                   f"{settings.sacct_timezone}")
        components.sacct_table(tables.row_table(job.rows, settings.sacct_timezone), key="job-rows",
                               selectable=False)
    st.caption("GPUs and cost" + (f" (run {links.plain(job.runs[0])})" if len(job.runs) > 1 else ""))
    first_ref = next((r for r in sacct_service.list_runs(store, settings) if r.name == job.runs[0]), None)
    platform = components.described_run(store, forwarder, first_ref.object, first_ref.etag)[1].platform \
        if first_ref is not None else None
    priced = service.job_cost(job.rows[job.rows["run"] == job.runs[0]], job_id, platform, settings)
    findings = job.findings
    if priced is not None:
        findings = priced.findings
        st.code(priced.summary_text(), language=None, wrap_lines=True)
        if not priced.steps.empty:
            st.caption("GPU use per step (TRESUsageInAve gres/gpuutil; peak TRESUsageInMax gres/gpumem)")
            components.dataframe(priced.steps, hide_index=True, width="stretch", column_config={
                "GPU use %": st.column_config.NumberColumn(format="%.0f %%"),
                "peak GPU memory GiB": st.column_config.NumberColumn(format="%.2f GiB")})
    st.caption("Advice")
    if findings.empty:
        st.text("No finding for this job.")
        st.caption(findings_service.findings_help(settings))
    else:
        st.caption(findings_service.findings_help(settings))
        components.sacct_table(tables.headed_table(findings, findings_service.FINDING_HEADERS,
                                                   settings.sacct_timezone), key="job-findings",
                               selectable=False)
    array = sweeps_service.array_of(job.rows, job_id, settings)
    array_id = sweeps_service.task_of_array(job_id)
    if array is not None:
        st.subheader(f"Array: {array[0].tasks:,} tasks", divider="gray")
        sweep_view.show(array[0], array[1], settings, key="job-array")
    elif array_id is not None:
        st.page_link(links.JOB, label=f"This is a task of array {array_id}: the array's summary and sweep advice",
                     icon=":material/stacks:", query_params=service.JobKey(array_id, run=job.runs[0]).query_params())

# --- Logs -------------------------------------------------------------------------------------------------------
st.subheader("Logs", divider="gray")
if "logs" in job.unreadable:
    st.warning(links.plain(job.unreadable["logs"]), icon=":material/block:")
elif not job.logs:
    st.info(service.missing_log_note(job), icon=":material/info:")
for ref in job.logs:
    with st.expander(links.plain(f"{ref.kind}: {ref.object} ({iec_size(ref.size)})"), expanded=True,
                     icon=":material/article:"):
        with components.guard(f"Could not read {pipeline_bucket(settings)}/{ref.object}"):
            text = components.cached_read(logs_service.read_log_object, store,
                                          pipeline_bucket(settings), ref.object, ref.etag)
        st.page_link(links.LOGS, label="Open in Logs", icon=":material/article:", query_params={"object": ref.object})
        if ref.kind == "seff report":
            st.code(text, language=None, wrap_lines=True)
            continue
        blocks = logs_service.error_blocks(text)
        if blocks:
            places = f"{len(blocks)} place" + ("s" if len(blocks) > 1 else "")
            st.caption(f"{sum(len(b.hit_lines) for b in blocks)} error lines in {places} "
                       "(marked with >, two lines of context either side)")
            st.code("\n…\n".join(b.as_text() for b in blocks), language=None, wrap_lines=True,
                    height=400 if sum(len(b.lines) for b in blocks) > 20 else "content")
        else:
            st.caption("No error lines found (error, exception, traceback, cancelled, killed, out of memory, "
                       "time limit).")
        st.caption("Last 30 lines")
        st.code(logs_service.tail(text, 30), language=None, wrap_lines=True)
