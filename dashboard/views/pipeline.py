"""Pipeline: one pipeline run (a Management object) with its TIMES stages and Slurm jobs on one time axis."""

from datetime import UTC, datetime

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.services import charts, tables
from core.services import pipeline as service
from core.services import runs as runs_service
from core.services import sacct as sacct_service
from core.services.jobs import JobKey
from core.services.palette import state_colour
from core.text import plotly_plain
from dashboard import components, links

components.header("Pipeline", "One pipeline run end to end: its stages, its Slurm jobs per platform, where the time "
                  "and the cost went.")
settings = components.settings()
store = components.store()
with components.guard("Could not list the pipeline runs"):
    names = service.pipeline_runs(store, settings)
if not names:
    st.info("No Management object yet: a pipeline run appears here once the forwarder writes one.")
    st.stop()

view = links.ViewParams("pipeline", ("object", "compare"))
linked = view.get("object")
if linked and linked not in names:
    links.stale("the Management object", [linked], "the newest one")
links.seed_choice("pipeline-object", linked if linked in names else names[-1], names)
left, right = st.columns(2)
chosen = left.selectbox("Pipeline run (Management object)", names, key="pipeline-object")
view.set("object", chosen)
others = [n for n in names if n != chosen]
linked_compare = view.get("compare")
links.seed_choice("pipeline-compare", linked_compare if linked_compare in others else "", ["", *others])
compare_with = right.selectbox("Compare with", ["", *others], key="pipeline-compare",
                               format_func=lambda n: n or "(no comparison)")
view.set("compare", compare_with or None)
forwarder = sacct_service.forwarder_bucket(settings)


def read_run(ref: sacct_service.RunRef) -> tuple[pd.DataFrame, runs_service.RunInfo]:
    return components.described_run(store, forwarder, ref.object, ref.etag)


with components.guard(f"Could not gather the pipeline run {chosen}"):
    run = service.load_pipeline_run(store, settings, chosen, read_run)
st.caption(f"{links.plain(run.name)} · {links.plain(chosen)} · TIMES run {links.plain(run.times_run or '—')}. "
           "Matching: TIMES run-<n> for MANAGEMENT/<n>.json; a job's sacct rows from the stored runs of its "
           "platform by job id (array tasks and het components grouped under their job).")
for note in run.notes:
    st.info(links.plain(note), icon=":material/link_off:")


def timeline(pipeline: service.PipelineRun) -> go.Figure:
    bars = service.segments(pipeline)
    figure = go.Figure()
    zone = settings.sacct_timezone
    lanes = list(dict.fromkeys(bars["lane"]))
    for (kind, state), group in bars.groupby(["kind", "state"], sort=False):
        begin = pd.to_datetime(group["begin"], unit="s", utc=True).dt.tz_convert(zone)
        millis = (group["end"] - group["begin"]).clip(lower=1) * 1000
        took = charts.durations(group["end"] - group["begin"]).text
        colour = "#5b6770" if kind == "stage" else state_colour(state)
        name = "TIMES stage" if kind == "stage" else (f"{state} · queue wait" if kind == "wait" else str(state))
        figure.add_bar(y=group["lane"].map(plotly_plain), x=millis, base=begin, orientation="h", name=name,
                       marker={"color": colour, "opacity": 0.35 if kind == "wait" else 1.0},
                       customdata=group[["job-id"]].map(plotly_plain).assign(took=took.to_numpy()).to_numpy(),
                       hovertemplate="%{y}<br>%{base|%Y-%m-%d %H:%M:%S} + %{customdata[1]}<br>job %{customdata[0]}"
                                     "<extra>%{fullData.name}</extra>")
    figure.update_layout(barmode="overlay", height=max(320, 26 * len(lanes) + 120),
                         title={"text": "Stages and jobs on one time axis",
                                "subtitle": {"text": f"queue wait (pale) then run, coloured by final state; {zone}"}},
                         legend={"orientation": "h", "y": -0.15}, margin={"l": 10, "r": 10})
    figure.update_yaxes(categoryorder="array", categoryarray=[plotly_plain(lane) for lane in reversed(lanes)])
    figure.update_xaxes(type="date")
    return figure


clicked = st.plotly_chart(timeline(run), width="stretch", key="pipeline-timeline", on_select="rerun",
                          selection_mode="points")
for point in (clicked.selection.points if clicked else []):
    job_id = str((point.get("customdata") or [""])[0])
    match = run.jobs[run.jobs["job-id"] == job_id] if job_id else run.jobs.iloc[0:0]
    if not match.empty:  # a job's bar opens its job page; a stage's bar has no job
        row = match.iloc[0]
        links.open_job(JobKey(job_id, str(row["run"]), str(row["platform"]), chosen).query_params())

st.subheader("Jobs", divider="gray")
st.caption("Click a job's bar in the chart, or select its row here, to open its job page; the Job page column holds "
           "the same link to copy.")
jobs = run.jobs.copy()
jobs["job page"] = [
    "job?" + "&".join(f"{k}={v}" for k, v in JobKey(str(j), str(r), str(p), chosen).query_params().items())
    for j, r, p in zip(jobs["job-id"], jobs["run"], jobs["platform"], strict=True)]
zone = settings.sacct_timezone
for column in ("submit", "start", "end"):
    jobs[column] = pd.to_datetime(jobs[column], unit="s", utc=True).dt.tz_convert(zone)
shown_columns = ["job page", "platform", "group", "job-id", "script", "state", "partition", "submit", "start", "end",
                 "wait-seconds", "run-seconds", "cores", "gpus", "core-hours", "gpu-hours", "billed", "unit"]
# Durations as [D-]HH:MM:SS text padded to sort as the numbers (tables.aligned_durations).
clocked = jobs[shown_columns].assign(**{c: tables.aligned_durations(jobs[c]) for c in ("wait-seconds", "run-seconds")})
picked = components.dataframe(
             clocked, hide_index=True, width="stretch", key="pipeline-jobs", on_select="rerun",
             selection_mode="single-row",
             column_config={"job page": st.column_config.LinkColumn("Job page", display_text=r"job\?job=([^&]+)"),
                            **{c: st.column_config.DatetimeColumn(c, format="YYYY-MM-DDTHH:mm:ss")
                               for c in ("submit", "start", "end")},
                            "wait-seconds": st.column_config.TextColumn("Queue wait", alignment="right"),
                            "run-seconds": st.column_config.TextColumn("Run", alignment="right"),
                            "core-hours": st.column_config.NumberColumn(format="%.2f"),
                            "gpu-hours": st.column_config.NumberColumn("GPU-hours", format="%.2f"),
                            "billed": st.column_config.NumberColumn("Billed", format="%.2f"),
                            "unit": st.column_config.TextColumn("Pool")})
if picked.selection.rows:
    row = run.jobs.iloc[picked.selection.rows[0]]
    links.open_job(JobKey(str(row["job-id"]), str(row["run"]), str(row["platform"]), chosen).query_params())

c1, c2 = st.columns(2)
with c1:
    st.subheader("Per platform", divider="gray")
    st.caption("Wall time: first submit → last end. Billed: one column per pool (CSC CPU BU, CSC GPU BU, LUMI "
               "core-hours, LUMI GPU-hours), never added across pools; empty where nothing was recorded.")
    components.sacct_table(tables.headed_table(service.platform_summary(run), service.PLATFORM_HEADERS, zone),
                           key="pipeline-platforms", selectable=False)
with c2:
    st.subheader("Per stage", divider="gray")
    st.caption("The jobs submitted while a stage ran.")
    components.sacct_table(tables.headed_table(service.stage_summary(run), service.STAGE_HEADERS, zone),
                           key="pipeline-stages", selectable=False)

st.subheader("Critical path", divider="gray")
st.caption("From the job that ended last, back through the job that ended last before each one was submitted: the "
           "waits and runs that made the run as long as it was. Dependencies are read from the times (Management "
           "does not record them).")
components.sacct_table(tables.headed_table(service.critical_path(run), service.PATH_HEADERS, zone),
                       key="pipeline-path", selectable=False)

if compare_with:
    with components.guard(f"Could not gather the pipeline run {compare_with}"):
        other = service.load_pipeline_run(store, settings, compare_with, read_run)
    this_run, other_run = links.plain(chosen), links.plain(compare_with)
    st.subheader(f"{this_run} against {other_run}", divider="gray")
    st.caption(f"Per platform, both runs' figures and the change: {this_run} minus {other_run}.")
    components.dataframe(service.compare_text(service.compare(other, run), zone), hide_index=True, width="stretch",
                         key="pipeline-compare-table")
    st.plotly_chart(timeline(other), width="stretch", key="pipeline-timeline-compare")
st.caption(f"Read at {datetime.now(UTC).strftime('%Y-%m-%d %H:%M:%S')} UTC.")
