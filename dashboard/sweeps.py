"""An array's or sweep's summary, as the SACCT page and the job page of an array show it."""

import pandas as pd
import streamlit as st

from core.services import sacct_selection
from core.services import sweeps as service
from core.settings import Settings
from dashboard import components, links


def show(sweep: service.Sweep, summary: service.SweepSummary, settings: Settings, *, key: str) -> None:
    """Tasks per state, the runtime histogram, efficiencies, failed tasks and the advice for the next sweep."""
    zone = settings.sacct_timezone
    failed = len(summary.failed)
    m = st.columns(3)
    m[0].metric("Tasks", f"{summary.tasks:,}")
    m[1].metric("Failed, timed out or out of memory", f"{failed:,}")
    m[2].metric("States", f"{len(summary.states):,}")
    cut = sacct_selection.cut_values_caption(pd.Series([sweep.ident]), "job name") if sweep.kind == "name" else ""
    if cut:
        st.caption(f":material/content_cut: {links.plain(cut)}")
    st.markdown("**Advice for the next sweep**")
    st.caption(f"From the whole distribution: the request that would have covered "
               f"{service.COVERAGE:.0%} of the tasks, plus the margin (ADVICE_MARGIN_PERCENT "
               f"{settings.advice.margin_percent:g} %), not the largest outlier alone.")
    for advice in (summary.time, summary.memory):
        text = f"{advice.directive}: {advice.reason}" if advice.directive else advice.reason
        (st.success if advice.directive else st.warning)(links.plain(text), icon=":material/tips_and_updates:")
    left, right = st.columns([1, 2])
    with left:
        st.caption("Tasks per state")
        components.sacct_table(service.state_table(summary, zone), key=f"{key}-states", selectable=False)
    with right:
        st.caption("Efficiency of the finished tasks (seff's definitions); blank where no task recorded it")
        components.sacct_table(service.efficiency_table(summary, zone), key=f"{key}-efficiency", selectable=False)
    st.plotly_chart(service.runtime_histogram(summary), width="stretch", key=f"{key}-histogram")
    st.caption(f"Failed tasks with their exit codes ({failed:,})")
    if failed:
        components.sacct_table(service.failed_table(summary, zone), key=f"{key}-failed", selectable=False)
    else:
        st.text("No task failed.")
