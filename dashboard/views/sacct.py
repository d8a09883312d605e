"""SACCT: Slurm accounting of stored runs: filters, efficiency, timeline, queue wait, disk I/O, table."""

import streamlit as st

from core.serialize import frame_to_csv, frame_to_parquet
from core.services import charts
from core.services import sacct as service
from dashboard import components

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
chosen = st.multiselect("Runs", list(by_name), default=service.default_runs(runs))
if not chosen:
    st.info("Pick one or more runs.")
    st.stop()

identity = components.store_identity(store)
with components.guard("Could not read the SACCT runs"):
    frames = [components.sacct_run(store, bucket, by_name[n].object, by_name[n].etag) for n in chosen]
frame = service.combine(frames)
key = tuple((by_name[n].object, by_name[n].etag) for n in chosen)

options = service.filter_options(frame)
with st.expander("Filters", expanded=True, icon=":material/filter_alt:"):
    c1, c2, c3, c4 = st.columns(4)
    filters = service.Filters(
        states=c1.multiselect("State", options["states"]),
        partitions=c2.multiselect("Partition", options["partitions"]),
        step_kinds=c3.multiselect("Row kind", options["step_kinds"], help="job rows, batch, extern, numbered steps"),
        job_name=c4.text_input("Job name contains"),
    )
filtered = service.apply_filters(frame, filters)
all_jobs = components.sacct_metrics(identity, key, frame)
jobs = all_jobs.merge(filtered[["run", "job-id"]].drop_duplicates(), on=["run", "job-id"])

summary = service.summary(filtered, jobs)
m = st.columns(5)
m[0].metric("Jobs", f"{summary.jobs:,}")
m[1].metric("Steps", f"{summary.steps:,}")
m[2].metric("Failed / timed out", f"{summary.failed:,}")
m[3].metric("CPU hours", "—" if summary.cpu_hours is None else f"{summary.cpu_hours:,.1f}")
m[4].metric("Median CPU efficiency", "—" if summary.median_cpu_efficiency is None
            else f"{summary.median_cpu_efficiency:.0%}")
if filtered.empty:
    st.info("No rows match these filters.")
    st.stop()

# One view at a time: only the chosen chart is built, so a filter change on a big run stays quick.
VIEWS = ["States", "Elapsed", "Efficiency", "Timeline", "Queue wait", "Disk I/O", "Table"]
view = st.segmented_control("View", VIEWS, default="States", key="sacct_view", label_visibility="collapsed") or "States"
if view == "States":
    st.plotly_chart(charts.state_counts(jobs), width="stretch")
elif view == "Elapsed":
    st.plotly_chart(charts.elapsed_per_job(jobs), width="stretch")
elif view == "Efficiency":
    st.plotly_chart(charts.efficiency(jobs), width="stretch")
    st.plotly_chart(charts.cpu_vs_memory(jobs), width="stretch")
elif view == "Timeline":
    st.plotly_chart(charts.job_timeline(jobs), width="stretch")
elif view == "Queue wait":
    st.plotly_chart(charts.queue_wait(jobs), width="stretch")
elif view == "Disk I/O":
    st.plotly_chart(charts.disk_io(filtered), width="stretch")
else:
    rows = st.radio("Rows", ["Jobs with efficiency", "All sacct rows"], horizontal=True)
    table = jobs if rows.startswith("Jobs") else filtered
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        **{c: st.column_config.NumberColumn(format="%.0f s") for c in table.columns if c.endswith("-seconds")},
        **{c: st.column_config.NumberColumn(format="percent") for c in table.columns if c.endswith("-efficiency")},
        **{c: st.column_config.NumberColumn(format="%.0f") for c in table.columns if c.endswith("-time")},
    })
    d1, d2 = st.columns(2)
    d1.download_button("CSV", data=lambda: frame_to_csv(table), file_name="sacct.csv", mime="text/csv",
                       icon=":material/download:")
    d2.download_button("Parquet", data=lambda: frame_to_parquet(table.reset_index(drop=True)),
                       file_name="sacct.parquet", icon=":material/download:")
