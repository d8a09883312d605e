"""SACCT: Slurm accounting of stored runs: filters, efficiency, timeline, queue wait, disk I/O, platforms, table."""

import streamlit as st

from core.serialize import frame_to_csv, frame_to_parquet
from core.services import charts, platforms
from core.services import runs as runs_service
from core.services import sacct as service
from core.services.jobs import JobKey
from core.store.base import ObjectStore
from dashboard import components, links


@st.cache_data(max_entries=16, show_spinner=False)
def run_infos(identity: str, bucket: str, key: tuple[tuple[str, str], ...], _store: ObjectStore,
              _runs: list[service.RunRef]) -> list[runs_service.RunInfo]:
    """Platform, rows and stored time of every run (one HEAD each), cached per store identity and etags."""
    return runs_service.describe_runs(_store, bucket, _runs)


components.header("SACCT", "Slurm accounting stored under ARTIFACTS/SACCT/ in the forwarder bucket.")
settings = components.settings()
store = components.store()
bucket = service.forwarder_bucket(settings)

with components.guard(f"Could not list {bucket}/ARTIFACTS/SACCT/"):
    runs = service.list_runs(store, settings)
if not runs:
    st.info(f"No SACCT runs in {bucket}/ARTIFACTS/SACCT/ yet: store one on the Upload sacct page.")
    st.page_link("views/upload.py", label="Upload sacct", icon=":material/upload_file:")
    st.stop()
by_name = {r.name: r for r in runs}
identity = components.store_identity(store)
with components.guard(f"Could not read the metadata of {bucket}/ARTIFACTS/SACCT/"):
    infos = {i.name: i for i in run_infos(identity, bucket, tuple((r.object, r.etag) for r in runs), store, runs)}
missing = links.unknown_values("runs", list(by_name))
if missing:
    links.stale("the SACCT run" + ("s" if len(missing) > 1 else ""), missing, "the runs still stored")
chosen = st.multiselect("Runs", list(by_name), default=service.default_runs(runs), key="runs",
                        bind="query-params", persist_state="session",
                        format_func=lambda n: f"{n} ({infos[n].platform or 'platform unknown'})" if n in infos else n,
                        help="Newest stored first; the page opens on the newest ones.")
if not chosen:
    st.info("Pick one or more runs.")
    st.stop()
with st.expander(f"{len(chosen)} runs: platform, rows, stored", icon=":material/table_rows:"):
    st.dataframe(runs_service.run_table([infos[n] for n in chosen if n in infos], settings.sacct_timezone),
                 hide_index=True, width="stretch", column_order=["run", "platform", "cluster", "rows", "version",
                                                                 "stored"],
                 column_config={"stored": st.column_config.DatetimeColumn("stored", format="YYYY-MM-DD HH:mm:ss z")})

with components.guard("Could not read the SACCT runs"):
    frames = [components.sacct_run(store, bucket, by_name[n].object, by_name[n].etag) for n in chosen]
frame = service.combine(frames)
key = tuple((by_name[n].object, by_name[n].etag) for n in chosen)

options = service.filter_options(frame)
with st.expander("Filters", expanded=True, icon=":material/filter_alt:"):
    c1, c2, c3, c4 = st.columns(4)
    filters = service.Filters(
        states=c1.multiselect("State", options["states"], help="the job's state (its own row)", key="state",
                              bind="query-params", persist_state="session"),
        partitions=c2.multiselect("Partition", options["partitions"], help="the job's partition", key="partition",
                                  bind="query-params", persist_state="session"),
        step_kinds=c3.multiselect("Row kind", options["step_kinds"],
                                  help="which sacct rows of the chosen jobs: job rows, batch, extern, numbered steps",
                                  key="kind", bind="query-params", persist_state="session"),
        job_name=c4.text_input("Job name contains", help="the job's name (its own row)", key="name",
                               bind="query-params", persist_state="session"),
    )
    st.caption(service.FILTER_SCOPE)
span = service.time_span(frame, settings.sacct_timezone)
if span is None:
    st.caption("No Submit, Start or End in these runs: no time range to filter by.")
else:
    picked = st.date_input("Jobs that ran between", value=span, min_value=span[0], max_value=span[1],
                           key="days", format="YYYY-MM-DD", bind="query-params", persist_state="session",
                           help=f"Days in {settings.sacct_timezone}, by each job's Start (else Submit, else End); "
                           "a job with none of them is left out once the range is narrowed.")
    if isinstance(picked, tuple) and len(picked) == 2 and tuple(picked) != span:
        filters.time_range = service.day_range(picked[0], picked[1], settings.sacct_timezone)
all_jobs = components.sacct_metrics(identity, key, frame)
selection = service.select(frame, all_jobs, filters)
jobs = selection.jobs

summary = service.summary(selection)
m = st.columns(6)
m[0].metric("Jobs", f"{summary.jobs:,}")
m[1].metric("Steps", f"{summary.steps:,}")
m[2].metric("Failed / timed out", f"{summary.failed:,}")
m[3].metric("CPU-hours used", "—" if summary.used_cpu_hours is None else f"{summary.used_cpu_hours:,.1f}",
            help="TotalCPU: the CPU time the jobs' processes used")
m[4].metric("Core-hours allocated", "—" if summary.core_hours is None else f"{summary.core_hours:,.1f}",
            help="Elapsed × AllocCPUS (sacct's CPUTime): what the allocations held, used or not")
m[5].metric("Median CPU eff.", "—" if summary.median_cpu_efficiency is None
            else f"{summary.median_cpu_efficiency:.1%}", help="TotalCPU / (Elapsed × AllocCPUS), finished jobs only")
st.caption(service.summary_counts(summary))
if jobs.empty:
    st.info("No job matches these filters.")
    st.stop()

# One view at a time: only the chosen chart is built, so a filter change on a big run stays quick.
VIEWS = ["States", "Elapsed", "Efficiency", "Timeline", "Queue wait", "Disk I/O", "Platforms", "Table"]
view = st.segmented_control("View", VIEWS, default="States", key="view", label_visibility="collapsed",
                            bind="query-params", persist_state="session") or "States"
if view == "States":
    st.plotly_chart(charts.state_counts(jobs), width="stretch")
elif view == "Elapsed":
    st.plotly_chart(charts.elapsed_per_job(jobs), width="stretch")
elif view == "Efficiency":
    st.plotly_chart(charts.efficiency(jobs), width="stretch")
    st.caption(charts.EFFICIENCY_HELP)
    st.plotly_chart(charts.cpu_vs_memory(jobs), width="stretch")
elif view == "Timeline":
    st.plotly_chart(charts.job_timeline(jobs), width="stretch")
elif view == "Queue wait":
    st.plotly_chart(charts.queue_wait(jobs), width="stretch")
elif view == "Disk I/O":
    st.plotly_chart(charts.disk_io(selection.rows), width="stretch")
elif view == "Platforms":
    by_platform = platforms.with_platform(jobs, runs_service.platforms_of(infos.values()))
    compared = platforms.comparison(by_platform)
    st.caption("Each run's platform is the one it was stored with (sacct's Cluster, or the choice on Upload).")
    top_left, top_right = st.columns(2)
    top_left.plotly_chart(platforms.queue_wait_figure(by_platform, compared), width="stretch")
    top_right.plotly_chart(platforms.failure_figure(compared), width="stretch")
    bottom_left, bottom_right = st.columns(2)
    bottom_left.plotly_chart(platforms.efficiency_figure(by_platform, compared), width="stretch")
    bottom_right.plotly_chart(platforms.core_hours_figure(compared), width="stretch")
    st.dataframe(compared, hide_index=True, width="stretch", column_config={
        "failure rate": st.column_config.NumberColumn(format="percent"),
        "CPU efficiency median": st.column_config.NumberColumn(format="percent"),
        "memory efficiency median": st.column_config.NumberColumn(format="percent"),
        "queue wait median min": st.column_config.NumberColumn("queue wait median (min)", format="%.1f"),
        "core-hours": st.column_config.NumberColumn(format="%,.1f"),
    })
else:
    rows = st.radio("Rows", ["One row per job", "All sacct rows"], horizontal=True, key="rows",
                    bind="query-params", persist_state="session",
                    help="All sacct rows: the job and step rows of the chosen jobs that pass Row kind")
    source = jobs if rows.startswith("One") else selection.rows
    table = (service.job_table(source, settings.sacct_timezone) if rows.startswith("One")
             else service.row_table(source, settings.sacct_timezone))
    st.caption(f"{len(table.frame):,} rows; durations [D-]HH:MM:SS, sizes in binary units, times in "
               f"{settings.sacct_timezone}. Select a row to open its job's page.")
    picked_rows = components.sacct_table(table, key=f"sacct-table-{rows}")
    if picked_rows:
        row = source.iloc[picked_rows[0]]
        st.switch_page(links.JOB, query_params=JobKey(str(row["job-id"]), run=str(row["run"])).query_params())
    d1, d2 = st.columns(2)
    d1.download_button("CSV", data=lambda: frame_to_csv(table.frame), file_name="sacct.csv", mime="text/csv",
                       icon=":material/download:")
    d2.download_button("Parquet", data=lambda: frame_to_parquet(table.frame), file_name="sacct.parquet",
                       icon=":material/download:")
