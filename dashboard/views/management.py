"""Management: the orchestration state of every HPC platform (jobs, configs, transfers, workspace quotas)."""

import streamlit as st

from core.services import charts, palette
from core.services import management as service
from core.services.jobs import JobKey
from dashboard import components, links

components.header("Management", "Orchestration state per HPC platform, from MANAGEMENT/ in the submitter bucket.")
settings = components.settings()
store = components.store()
bucket = service.submitter_bucket(settings)

with components.guard(f"Could not list {bucket}/MANAGEMENT/"):
    names = service.list_management(store, settings)
if not names:
    st.info(f"No management object in {bucket}/MANAGEMENT/ yet. The forwarder writes one when a pipeline starts.")
    st.stop()
missing = links.unknown_values("object", names)
if missing:
    links.stale("the management object", missing, "the newest one")
name = st.selectbox("Management object", names, index=len(names) - 1, key="object", bind="query-params",
                    persist_state="session")
refresh = st.toggle("Auto-refresh every 30 s", value=False, help="For live runs: re-read the object periodically.")


def _status_style(value: object) -> str:
    colour = service.PHASE_COLOURS.get(str(value))
    return f"background-color: {colour}; color: {palette.text_colour(colour)}; font-weight: 600" if colour else ""


@st.fragment(run_every=30 if refresh else None)
def show() -> None:
    with components.guard(f"Could not read {bucket}/{name}"):
        orchestration = components.cached_read(service.load_orchestration, store, bucket, name)  # HEAD: etag
    platforms = service.platform_order(orchestration)
    counts = service.phase_counts(orchestration)
    cols = st.columns(4)
    cols[0].metric("Platforms", len(platforms))
    cols[1].metric("Jobs", int(counts["jobs"].sum()) if not counts.empty else 0)
    running = counts[counts["status"].isin(["running", "pending", "submitted"])]["jobs"].sum()
    cols[2].metric("Active", int(running))
    cols[3].metric("Failed", int(counts[counts["status"] == "failed"]["jobs"].sum()))
    st.plotly_chart(charts.phase_bars(counts), width="stretch")
    st.caption(f"{orchestration.name} · {bucket}/{name}")
    missing = links.unknown_values("platform", platforms)
    if missing:
        links.stale("the platform", missing, "the first platform")
    tabs = st.tabs(platforms, key="platform", bind="query-params")
    for tab, platform_name in zip(tabs, platforms, strict=True):
        platform = orchestration.platforms[platform_name]
        with tab:
            jobs = service.job_table(platform)
            st.subheader("Jobs")
            if jobs.empty:
                st.info("No jobs on this platform.")
            else:
                st.caption("Select a row to open the job's page (its sacct record and logs).")
                picked = st.dataframe(jobs.style.map(_status_style, subset=["status"]), hide_index=True,
                                      width="stretch", on_select="rerun", selection_mode="single-row",
                                      key=f"jobs-{name}-{platform_name}")
                if picked.selection.rows:
                    job_id = jobs["job id"].iat[picked.selection.rows[0]]
                    if job_id is None:
                        st.info("This job has no Slurm id yet: it was not submitted.")
                    else:
                        st.switch_page(links.JOB, query_params=JobKey(
                            str(job_id), platform=platform_name, management_object=name).query_params())
            left, right = st.columns(2)
            with left:
                st.subheader("Configs")
                configs = service.configs_view(platform)
                if configs is None:
                    st.info("No configs given for this platform.")
                else:
                    st.text("Modules: " + ", ".join(configs.modules))
                    st.text(f"Venv: {configs.venv_name} at {configs.venv_path}")
                    st.text("Venv modules: " + ", ".join(configs.venv_modules))
                    st.text("Packages: " + ", ".join(configs.venv_packages))
            with right:
                st.subheader("File transfers")
                transfers = service.transfer_table(platform)
                if transfers.empty:
                    st.info("No file transfers.")
                else:
                    st.dataframe(transfers, hide_index=True, width="stretch")
            st.subheader("Workspaces")
            spaces = service.workspace_table(platform)
            if spaces.empty:
                st.info("No workspace quotas yet: the submitter adds them after its first visit to the platform.")
            else:
                st.dataframe(spaces, hide_index=True, width="stretch", column_config={
                    "capacity used": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1),
                    "files used": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1),
                })


show()
