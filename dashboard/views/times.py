"""Times: stage timings of pipeline runs, one run or several side by side."""

import streamlit as st

from core.services import charts, tables
from core.services import times as service
from dashboard import components, links

components.header("Times", "Stage timings (start, config, run, cancel, store) from TIMES/ in the pipeline bucket.")
settings = components.settings()
store = components.store()
bucket = service.pipeline_bucket(settings)

with components.guard(f"Could not list {bucket}/TIMES/"):
    objects = service.run_objects(store, settings)
runs = sorted(objects)
if not runs:
    st.info(f"No TIMES objects in {bucket}/TIMES/ yet. Pipeline runs write TIMES/<run>.parquet when they finish.")
    st.stop()
missing = links.unknown_values("runs", runs)
if missing:
    links.stale("the run" + ("s" if len(missing) > 1 else ""), missing, "the runs still stored")
chosen = st.multiselect("Runs", runs, default=runs, key="runs", bind="query-params", persist_state="session")
if not chosen:
    st.info("Pick one or more runs to compare.")
    st.stop()
with components.guard("Could not read the TIMES objects"):
    frame = service.combine_runs({run: components.cached_read(service.read_run, store, bucket, objects[run].name,
                                                              objects[run].hash, settings.read_limits)
                                  for run in chosen})
summary = service.run_summary(frame)
cols = st.columns(3)
cols[0].metric("Runs", len(chosen))
cols[1].metric("Median wall time", tables.duration_text(summary["wall time"].median()) or "—",
               help="First stage's begin to last stage's end, [D-]HH:MM:SS")
cols[2].metric("Slowest stage (most runs)", links.plain(summary["slowest stage"].mode().iat[0]))
st.plotly_chart(charts.times_timeline(frame), width="stretch")
st.plotly_chart(charts.stage_bars(frame), width="stretch")
components.dataframe(summary.assign(**{c: tables.aligned_durations(summary[c]) for c in ("stages total", "wall time")}),
             hide_index=True, width="stretch", column_config={
                 "stages total": st.column_config.TextColumn(alignment="right"),
                 "wall time": st.column_config.TextColumn(alignment="right")})
with st.expander("Stage table"):
    components.dataframe(frame.drop(columns=["start", "finish"]), hide_index=True, width="stretch")
