"""SACCT: Slurm accounting of stored runs: filters, efficiency, timeline, queue wait, disk I/O, platforms, table."""

import streamlit as st

from core.serialize import frame_to_csv, frame_to_parquet
from core.services import charts, cost, history, platforms, sacct_selection, tables
from core.services import findings as findings_service
from core.services import runs as runs_service
from core.services import sacct as service
from core.services import sweeps as sweeps_service
from core.services.jobs import JobKey
from core.text import counted
from dashboard import components, links
from dashboard import sweeps as sweep_view

components.header("SACCT", "Slurm accounting stored under ARTIFACTS/SACCT/ in the forwarder bucket.")
settings = components.settings()
store = components.store()
bucket = service.forwarder_bucket(settings)

with components.guard(f"Could not list {bucket}/ARTIFACTS/SACCT/"):
    # Uploaded runs first (the page opens on the newest of them), then the history's months.
    uploaded = service.list_runs(store, settings)
    months = history.month_runs(history.list_months(store, settings))
    runs = uploaded + months
if not runs:
    st.info(f"No SACCT runs in {bucket}/ARTIFACTS/SACCT/ yet: store one on the Upload sacct page.")
    st.page_link("views/upload.py", label="Upload sacct", icon=":material/upload_file:")
    st.stop()
by_name = {r.name: r for r in runs}
# URL state by hand (no bind): a row click opens the job page with st.switch_page, which bound parameters block.
view_params = links.ViewParams("sacct", ("runs", "state", "partition", "kind", "name", "days", "view", "rows",
                                          "sweep"))
# The newest uploads, as the Overview counts them: never with the history's months, which hold the same jobs again
# (an upload is merged into the history). Without uploads, the history's newest months.
default_runs = service.default_runs(uploaded or months)
linked = view_params.get_all("runs")
missing = [n for n in linked if n not in by_name]
if missing:
    links.stale("the SACCT run" + ("s" if len(missing) > 1 else ""), missing, "the runs still stored")
links.seed_choices("sacct-runs", [n for n in linked if n in by_name] or default_runs, list(by_name))
chosen = st.multiselect("Runs", list(by_name), key="sacct-runs",
                        help="Newest stored first; the page opens on the newest ones. The chosen runs' platform, "
                        "rows and stored time are listed below.")
if chosen == default_runs and uploaded:
    st.caption(f"Showing {service.recent_runs_rule(len(chosen))}: the runs the Overview counts.")
elif chosen == default_runs:
    st.caption(f"Showing the history's {len(chosen)} newest cluster-months: no run was uploaded.")
view_params.set("runs", chosen)  # always: newer runs must not change what a shared link shows
if not chosen:
    st.info("Pick one or more runs.")
    st.stop()
# The chosen runs are read whole anyway: what each run is comes from the same reads, not a request per listed run.
with components.guard("Could not read the SACCT runs"):
    frame, described = components.sacct_frame(store, bucket, [by_name[n] for n in chosen])
infos = {i.name: i for i in described}
with st.expander(f"{len(chosen)} runs: platform, rows, stored", icon=":material/table_rows:"):
    components.dataframe(runs_service.run_table([infos[n] for n in chosen if n in infos], settings.sacct_timezone),
                         hide_index=True, width="stretch",
                         column_order=["run", "platform", "cluster", "rows", "version", "stored"],
                         column_config={"stored": st.column_config.DatetimeColumn("stored",
                                                                                  format="YYYY-MM-DD HH:mm:ss z")})

options = sacct_selection.filter_options(frame)
with st.expander("Filters", expanded=True, icon=":material/filter_alt:"):
    c1, c2, c3, c4 = st.columns(4)
    for param, choices in (("state", options["states"]), ("partition", options["partitions"]),
                           ("kind", options["step_kinds"])):
        links.seed_choices(f"sacct-{param}", view_params.get_all(param), choices)
    links.seed("sacct-name", view_params.get("name") or "")
    filters = sacct_selection.Filters(
        states=c1.multiselect("State", options["states"], help="the job's state (its own row)", key="sacct-state"),
        partitions=c2.multiselect("Partition", options["partitions"], help="the job's partition",
                                  key="sacct-partition"),
        step_kinds=c3.multiselect("Row kind", options["step_kinds"],
                                  help="which sacct rows of the chosen jobs: job rows, batch, extern, numbered steps",
                                  key="sacct-kind"),
        job_name=c4.text_input("Job name contains", help="the job's name (its own row)", key="sacct-name"),
    )
    st.caption(sacct_selection.FILTER_SCOPE)
for param, chosen_values in (("state", filters.states), ("partition", filters.partitions),
                             ("kind", filters.step_kinds), ("name", filters.job_name)):
    view_params.set(param, chosen_values)
span = sacct_selection.time_span(frame, settings.sacct_timezone)
if span is None:
    st.caption("No Submit, Start or End in these runs: no time range to filter by.")
else:
    days = st.session_state.get("sacct-days")
    if isinstance(days, tuple) and len(days) == 2 and not span[0] <= days[0] <= days[1] <= span[1]:
        del st.session_state["sacct-days"]  # the chosen runs changed: their own span
    links.seed("sacct-days", sacct_selection.parse_days(view_params.get("days"), span) or span)
    picked = st.date_input("Jobs that ran between", min_value=span[0], max_value=span[1],
                           key="sacct-days", format="YYYY-MM-DD",
                           help=f"Days in {settings.sacct_timezone}, by each job's Start (else Submit, else End); "
                           "a job with none of them is left out once the range is narrowed.")
    if isinstance(picked, tuple) and len(picked) == 2 and tuple(picked) != span:
        filters.time_range = sacct_selection.day_range(picked[0], picked[1], settings.sacct_timezone)
        view_params.set("days", f"{picked[0]:%Y-%m-%d}..{picked[1]:%Y-%m-%d}")
    elif isinstance(picked, tuple) and len(picked) == 2:
        view_params.set("days", None)
all_jobs = components.sacct_metrics(store, bucket, [by_name[n] for n in chosen], [frame])
selection = sacct_selection.select(frame, all_jobs, filters)
run_platforms = runs_service.platforms_of(infos.values())
jobs = cost.priced(selection.jobs, cost.job_platforms(selection.jobs, run_platforms), settings)

summary = sacct_selection.summary(selection, settings.advice)
totals = cost.pool_totals(jobs)
m = st.columns(6 + max(1, len(totals)))
m[0].metric("Jobs", f"{summary.jobs:,}")
m[1].metric("Steps", f"{summary.steps:,}")
m[2].metric("Failed / timed out", f"{summary.failed:,}")
m[3].metric("CPU-hours used", "—" if summary.used_cpu_hours is None else f"{summary.used_cpu_hours:,.1f}",
            help="TotalCPU: the CPU time the jobs' processes used")
m[4].metric("Core-hours allocated", "—" if summary.core_hours is None else f"{summary.core_hours:,.1f}",
            help="Elapsed × AllocCPUS (sacct's CPUTime): what the allocations held, used or not")
m[5].metric("Median CPU eff.", "—" if summary.median_cpu_efficiency is None
            else f"{summary.median_cpu_efficiency:.1%}", help="TotalCPU / (Elapsed × AllocCPUS) of the finished jobs "
            f"that ran at least {summary.min_minutes:g} min (ADVICE_MIN_MINUTES), as the findings judge them")
for i, total in enumerate(totals):
    m[6 + i].metric(total.pool, f"{total.amount:,.1f}", help=f"Billed from the {total.pool} pool over "
                    f"{total.jobs:,} jobs at the rates in the settings; pools are never added together")
if not totals:
    m[6].metric("Billed", "—", help="No job's platform and partition have a billing rule (README: billing)")
st.caption(sacct_selection.summary_counts(summary) + " " + cost.totals_caption(totals, cost.unbilled(jobs)))
if jobs.empty:
    st.info("No job matches these filters.")
    st.stop()

# One view at a time: only the chosen chart is built, so a filter change on a big run stays quick.
VIEWS = ["States", "Elapsed", "Efficiency", "Findings", "Sweeps", "Timeline", "Queue wait", "Disk I/O", "Platforms",
         "Table"]
links.seed("sacct-view", view_params.get("view") if view_params.get("view") in VIEWS else "States")
view = st.segmented_control("View", VIEWS, key="sacct-view", label_visibility="collapsed") or "States"
view_params.keep("view", view, "States")
if view == "States":
    st.plotly_chart(charts.state_counts(jobs), width="stretch")
elif view == "Elapsed":
    st.plotly_chart(charts.elapsed_per_job(jobs), width="stretch")
elif view == "Efficiency":
    st.plotly_chart(charts.efficiency(jobs), width="stretch")
    st.caption(charts.EFFICIENCY_HELP)
    st.plotly_chart(charts.cpu_vs_memory(jobs), width="stretch")
elif view == "Findings":
    notes = findings_service.findings(jobs, settings)
    st.caption(findings_service.findings_help(settings))
    st.subheader(f"{counted(len(notes), 'finding')} on {notes['job-id'].nunique() if len(notes) else 0:,} of "
                 f"{len(jobs):,} jobs")
    components.sacct_table(tables.headed_table(notes, findings_service.FINDING_HEADERS, settings.sacct_timezone),
                           key="findings", selectable=False)
    st.download_button("Findings as CSV", data=findings_service.findings_csv(notes),
                       file_name="sacct-findings.csv", mime="text/csv", icon=":material/download:")
    by_platform = jobs
    for by, title in (("run", "Per run"), ("platform", "Per platform")):
        st.subheader(title)
        st.caption("Idle core-hours = Σ (Elapsed × AllocCPUS − TotalCPU); unused memory GiB-hours = Σ (memory "
                   "allocated − MaxRSS × NTasks) × Elapsed; each over the finished jobs that print them.")
        components.sacct_table(tables.headed_table(findings_service.waste(by_platform, by),
                                                   findings_service.WASTE_HEADERS, settings.sacct_timezone),
                               key=f"waste-{by}", selectable=False)
        components.sacct_table(tables.headed_table(findings_service.failure_counts(by_platform, by),
                                                   findings_service.FAILURE_HEADERS, settings.sacct_timezone),
                               key=f"failures-{by}", selectable=False)
elif view == "Sweeps":
    found = sweeps_service.find(jobs)
    if not found:
        view_params.set("sweep", None)
        st.info("No sweep among these jobs: no job array with two or more tasks, and no name shared by three or more "
                "jobs of a run.", icon=":material/info:")
    else:
        by_key = {s.key: s for s in found}
        linked_sweep = view_params.get("sweep")
        if linked_sweep and linked_sweep not in by_key:
            links.stale("the sweep", [linked_sweep], "the largest one")
        links.seed_choice("sacct-sweep", linked_sweep if linked_sweep in by_key else found[0].key, list(by_key))
        picked_sweep = by_key[st.selectbox("Sweep", list(by_key), key="sacct-sweep",
                                           format_func=lambda k: by_key[k].label,
                                           help="Job arrays (largest first), then names shared by three or more "
                                           "jobs of one run.")]
        view_params.keep("sweep", picked_sweep.key, found[0].key)
        sweep_view.show(picked_sweep, sweeps_service.summary(jobs, picked_sweep, settings), settings, key="sweep")
        if picked_sweep.kind == "array":
            st.page_link(links.JOB, label=f"Job page of array {links.plain(picked_sweep.ident)}",
                         icon=":material/work_history:",
                         query_params=JobKey(picked_sweep.ident, run=picked_sweep.run).query_params())
elif view == "Timeline":
    st.plotly_chart(charts.job_timeline(jobs), width="stretch")
    st.caption(sacct_selection.timeline_counts(jobs, charts.MAX_BARS))
elif view == "Queue wait":
    st.plotly_chart(charts.queue_wait(jobs), width="stretch")
elif view == "Disk I/O":
    st.plotly_chart(charts.disk_io(selection.rows), width="stretch")
elif view == "Platforms":
    by_platform = platforms.with_platform(jobs, run_platforms)
    compared = platforms.comparison(by_platform)
    st.caption("Each run's platform is the one it was stored with (sacct's Cluster, or the choice on Upload).")
    top_left, top_right = st.columns(2)
    top_left.plotly_chart(platforms.queue_wait_figure(by_platform, compared), width="stretch")
    top_right.plotly_chart(platforms.failure_figure(compared), width="stretch")
    bottom_left, bottom_right = st.columns(2)
    bottom_left.plotly_chart(platforms.efficiency_figure(by_platform, compared), width="stretch")
    bottom_right.plotly_chart(platforms.core_hours_figure(compared), width="stretch")
    gpu_left, gpu_right = st.columns(2)
    gpu_left.plotly_chart(platforms.gpu_hours_figure(compared), width="stretch")
    gpu_right.plotly_chart(platforms.billing_figure(by_platform, compared), width="stretch")
    components.dataframe(compared, hide_index=True, width="stretch", column_config={
        "failure rate": st.column_config.NumberColumn(format="percent"),
        "CPU efficiency median": st.column_config.NumberColumn(format="percent"),
        "memory efficiency median": st.column_config.NumberColumn(format="percent"),
        "queue wait median min": st.column_config.NumberColumn("queue wait median (min)", format="%.1f"),
        "core-hours": st.column_config.NumberColumn(format="%,.1f"),
        "GPU-hours": st.column_config.NumberColumn(format="%,.1f"),
    })
else:
    ROWS = ["One row per job", "All sacct rows"]
    links.seed("sacct-rows", view_params.get("rows") if view_params.get("rows") in ROWS else ROWS[0])
    rows = st.radio("Rows", ROWS, horizontal=True, key="sacct-rows",
                    help="All sacct rows: the job and step rows of the chosen jobs that pass Row kind") or ROWS[0]
    view_params.keep("rows", rows, ROWS[0])
    source = jobs if rows.startswith("One") else selection.rows
    table = (tables.job_table(source, settings.sacct_timezone) if rows.startswith("One")
             else tables.row_table(source, settings.sacct_timezone))
    st.caption(f"{len(table.frame):,} rows; durations [D-]HH:MM:SS, sizes in binary units, times in "
               f"{settings.sacct_timezone}. Select a row to open its job's page.")
    picked_rows = components.sacct_table(table, key=f"sacct-table-{rows}")
    if picked_rows:
        row = source.iloc[picked_rows[0]]
        links.open_job(JobKey(str(row["job-id"]), run=str(row["run"])).query_params())
    d1, d2 = st.columns(2)
    d1.download_button("CSV", data=lambda: frame_to_csv(table.frame), file_name="sacct.csv", mime="text/csv",
                       icon=":material/download:")
    d2.download_button("Parquet", data=lambda: frame_to_parquet(table.frame), file_name="sacct.parquet",
                       icon=":material/download:")
