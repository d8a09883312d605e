"""Management: the orchestration state of every HPC platform (jobs, configs, transfers, workspace quotas)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import streamlit as st

from core.services import charts, cost, palette
from core.services import management as service
from core.services import runs as runs_service
from core.services import sacct as sacct_service
from core.services.jobs import JobKey
from core.text import markdown_plain
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
# URL state by hand (no bind): a row click opens the job page with st.switch_page, which bound parameters block.
view = links.ViewParams("management", ("object", "platform"))
linked = view.get("object")
if linked is not None and linked not in names:
    links.stale("the management object", [linked], "the newest one")
    linked = None
links.seed_choice("management-object", linked or names[-1], names)
name = st.selectbox("Management object", names, key="management-object")
view.set("object", name)  # always: a newer object must not change what a shared link shows
st.page_link(links.PIPELINE, label=f"This pipeline run on one time axis ({links.plain(name)})",
             icon=":material/view_timeline:", query_params={"object": name})
refresh = st.toggle("Auto-refresh every 30 s", value=False, help="For live runs: re-read the object periodically.")


def _status_style(value: object) -> str:
    colour = service.PHASE_COLOURS.get(str(value))
    return f"background-color: {colour}; color: {palette.text_colour(colour)}; font-weight: 600" if colour else ""


@st.fragment(run_every=30 if refresh else None)
def show() -> None:
    with components.guard(f"Could not read {bucket}/{name}"):
        current = service.current_state(store, settings, name)  # one HEAD per refresh: read again if it changed
        orchestration = components.cached_read(service.load_orchestration, store, bucket, name, current.etag,
                                               settings.read_limits)
    platforms = service.platform_order(orchestration)
    counts = service.phase_counts(orchestration)
    cols = st.columns(4)
    cols[0].metric("Platforms", len(platforms))
    cols[1].metric("Jobs", int(counts["jobs"].sum()) if not counts.empty else 0)
    running = counts[counts["status"].isin(["running", "pending", "submitted"])]["jobs"].sum()
    cols[2].metric("Active", int(running))
    cols[3].metric("Failed", int(counts[counts["status"] == "failed"]["jobs"].sum()))
    st.plotly_chart(charts.phase_bars(counts, order=platforms), width="stretch")
    with st.expander("Cost so far, per platform", icon=":material/payments:"):
        forwarder = sacct_service.forwarder_bucket(settings)
        with components.guard(f"Could not read the SACCT runs of {forwarder}"):
            runs = sacct_service.list_runs(store, settings)
            frame, infos = components.sacct_frame(store, forwarder, runs) if runs else (None, [])
        if frame is None:
            st.info("No SACCT run stored yet: the cost comes from the stored runs that hold these jobs.")
        else:
            measured = components.sacct_metrics(store, forwarder, runs, [frame])
            priced = cost.priced(measured, cost.job_platforms(measured, runs_service.platforms_of(infos)), settings)
            spent = cost.pipeline_cost(cost.management_job_ids(orchestration), priced)
            components.dataframe(spent, hide_index=True, width="stretch", column_config={
                pool: st.column_config.NumberColumn(format="%,.1f") for pool in spent.columns[3:]})
            st.caption(f"Jobs of this Management object found in the {len(runs):,} stored SACCT runs of the same "
                       "platform, billed at the rates in the settings, one column per pool (pools are never added "
                       "together); a running job counts what it has been billed so far.")
    changed = current.last_changed
    now = datetime.now(UTC)
    stale = service.is_stale(changed, now, settings)
    age = "" if changed is None else f", {int((now - changed).total_seconds() // 60):,} min ago"
    when = "unknown" if changed is None else \
        changed.astimezone(ZoneInfo(settings.sacct_timezone)).strftime("%Y-%m-%d %H:%M:%S %Z")
    st.caption(f"{links.plain(orchestration.name)} · {links.plain(f'{bucket}/{name}')} · last changed {when}{age}")
    linked = view.get("platform")
    if linked is not None and linked not in platforms:
        links.stale("the platform", [linked], "the first platform")
        linked = None
    # Platform names come from the object: labels are escaped, the URL keeps the name itself. The linked platform
    # seeds the tabs' state once; a `default=` that followed the URL would make a new widget (and undo the click)
    # each time the URL changed.
    tab_key = f"platform-{name}"
    if linked is not None:
        links.seed(tab_key, markdown_plain(linked))
    tabs = st.tabs([markdown_plain(p) for p in platforms], key=tab_key, on_change="rerun")
    shown = next((p for tab, p in zip(tabs, platforms, strict=True) if tab.open), linked)
    view.keep("platform", shown, platforms[0])
    for tab, platform_name in zip(tabs, platforms, strict=True):
        platform = orchestration.platforms[platform_name]
        with tab:
            attention = service.platform_attention(platform_name, platform, stale=stale)
            # Warnings, not errors: the page itself worked; an error box means the page could not do its job.
            if not attention.failed.empty:
                st.warning(f"{len(attention.failed)} failed: job "
                         + ", ".join(links.plain(j) for j in service.job_names(attention.failed)),
                         icon=":material/error:")
            if not attention.stuck.empty:
                count = len(attention.stuck)
                st.warning(f"{count} active job{'s' if count > 1 else ''}, but the object has not changed for over "
                           f"{settings.stuck_after_minutes:g} min: job "
                           + ", ".join(links.plain(j) for j in service.job_names(attention.stuck)),
                           icon=":material/hourglass_disabled:")
            if attention.empty:
                st.success("Nothing needs attention on this platform.", icon=":material/check:")
            jobs = service.job_table(platform)
            st.subheader("Jobs")
            if jobs.empty:
                st.info("No jobs on this platform.")
            else:
                st.caption("Select a row to open the job's page (its sacct record and logs).")
                picked = components.dataframe(jobs.style.map(_status_style, subset=["status"]), hide_index=True,
                                              width="stretch", on_select="rerun", selection_mode="single-row",
                                              key=f"jobs-{name}-{platform_name}")
                if picked.selection.rows:
                    job_id = jobs["job id"].iat[picked.selection.rows[0]]
                    if job_id is None:
                        st.info("This job has no Slurm id yet: it was not submitted.")
                    else:
                        links.open_job(JobKey(str(job_id), platform=platform_name,
                                              management_object=name).query_params())
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
                    components.dataframe(transfers, hide_index=True, width="stretch")
            st.subheader("Workspaces")
            spaces = service.workspace_table(platform)
            if spaces.empty:
                st.info("No workspace quotas yet: the submitter adds them after its first visit to the platform.")
            else:
                components.dataframe(spaces, hide_index=True, width="stretch", column_config={
                    "capacity used": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1),
                    "files used": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1),
                })


show()
