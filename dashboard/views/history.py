"""History: a year of collected and uploaded accounting per week or month, grouped, from the history dataset."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import streamlit as st

from core.services import history as service
from core.services import sacct as sacct_service
from core.services import sacct_selection
from dashboard import components, links

components.header("History", "Jobs collected by hpc-monitor collect and stored by uploads, per week or month, from "
                  "ARTIFACTS/SACCT/history/ in the forwarder bucket.")
settings = components.settings()
store = components.store()
bucket = sacct_service.forwarder_bucket(settings)
with components.guard(f"Could not list {bucket}/{service.HISTORY_PREFIX}"):
    months = service.list_months(store, settings)
span = service.month_range(months)
if span is None:
    st.info(f"No history in {bucket}/{service.HISTORY_PREFIX} yet: run `hpc-monitor collect` where sacct works, "
            "or store sacct output on the Upload sacct page.")
    st.page_link("views/upload.py", label="Upload sacct", icon=":material/upload_file:")
    st.stop()

view = links.ViewParams("history", ("period", "group", "days", "figure"))
today = datetime.now(ZoneInfo(settings.sacct_timezone)).date()
c1, c2, c3, c4 = st.columns([1, 1, 2, 2])
links.seed_choice("history-period", view.get("period") or "month", service.PERIODS)
links.seed_choice("history-group", view.get("group") or "platform", list(service.GROUPS))
links.seed_choice("history-figure", view.get("figure") or "jobs", service.FIGURES)
period = c1.segmented_control("Per", service.PERIODS, key="history-period", width="stretch") or "month"
group = c2.selectbox("Grouped by", list(service.GROUPS), key="history-group")
figure = c4.selectbox("Chart", service.FIGURES, key="history-figure",
                      help="Efficiencies are medians of the finished jobs that ran (seff's definitions); failure "
                      "rate counts FAILED, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, BOOT_FAIL and DEADLINE among the "
                      "finished jobs; "
                      "core-hours are Elapsed × AllocCPUS; GPU-hours Elapsed × the GPUs in AllocTRES; billing per "
                      "platform's pool (core.billing); queue wait is Start − Submit of the jobs that started.")
links.seed("history-days", sacct_selection.parse_days(view.get("days"), span) or span)
picked = c3.date_input("Jobs that started between", min_value=span[0], max_value=span[1], key="history-days",
                       format="YYYY-MM-DD", help=f"Days in {settings.sacct_timezone}, by each job's Start (else "
                       "Submit).")
first, last = (picked if isinstance(picked, tuple) and len(picked) == 2 else span)
view.keep("period", period, "month")
view.keep("group", group, "platform")
view.keep("figure", figure, "jobs")
view.keep("days", f"{first:%Y-%m-%d}..{last:%Y-%m-%d}", f"{span[0]:%Y-%m-%d}..{span[1]:%Y-%m-%d}")

for note in service.month_notes(months, first, last, today):
    st.caption(f":material/info: {links.plain(note)}")

needed = service.months_to_read(months, first, last)
with components.guard("Could not read the history"):
    table = components.history_table(store, needed, period, group, first, last)
if table.empty:
    st.info("No job started in the chosen days.")
    st.stop()
counted = int(table["jobs"].sum())
st.caption(f"{counted:,} jobs in {len(needed)} stored cluster-months; efficiencies and the failure rate count "
           f"the {int(table['finished jobs'].sum()):,} finished jobs.")
if figure == "GPU-hours" and table["GPU-hours"].isna().all():
    st.info("GPU-hours: not recorded (no job printed AllocTRES with gres/gpu).")
event = st.plotly_chart(service.chart(table, figure, period), key="history-chart", on_select="rerun",
                        selection_mode="points")
points = event.selection.points if event and event.selection else []
if points:
    point = points[0]
    start = date.fromisoformat(str(point["x"])[:10])
    value = point["customdata"][0] if point.get("customdata") else ""
    with components.guard("Could not read the history"):
        jobs = components.history_jobs(store, needed)
    st.switch_page(links.SACCT, query_params=service.sacct_link(months, start, period, group, value, jobs))
st.caption("A click on a bar opens those jobs on the SACCT page (the bar's days; its partition or job name).")
cut = sacct_selection.cut_values_caption(table["group"], group) if group != "platform" else ""
if cut:
    st.caption(f":material/content_cut: {links.plain(cut)}")
components.dataframe(service.table_text(table), hide_index=True, width="stretch",
                     column_config={"period": st.column_config.DateColumn(f"{period} starting", format="YYYY-MM-DD"),
                            "group": st.column_config.TextColumn(group),
                            "failure rate": st.column_config.NumberColumn("failure rate %"),
                            "median CPU eff.": st.column_config.NumberColumn("median CPU eff. %"),
                            "median memory eff.": st.column_config.NumberColumn("median memory eff. %"),
                            "median time eff.": st.column_config.NumberColumn("median time eff. %")})

st.subheader("This month against the last")
recent_months = service.months_to_read(months, today.replace(day=1), today)
if not recent_months:
    st.caption(service.comparison_note(months, today))
else:
    with components.guard("Could not read the history"):
        # The months the chart read hold them already when the chosen days reach this month (the default): no read.
        read_already = {(m.cluster, m.month) for m in recent_months} <= {(m.cluster, m.month) for m in needed}
        compared = components.history_comparison(store, needed if read_already else recent_months, today)
    components.dataframe(compared, width="stretch")
