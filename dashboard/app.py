"""The HPC MLOps monitor: ``streamlit run dashboard/app.py``."""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from core.demo import seed_new_store
from core.naming import format_user
from core.services import sacct as sacct_service
from core.services import session as session_service
from core.services import upload as upload_service
from core.settings import load_settings
from core.store.local import LocalStore
from dashboard import components, links

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

# The page icon is a file the app serves itself: a Material icon code would make every browser fetch the favicon
# from a public font server (failing where there is no internet, and telling that server who is looking).
st.set_page_config(page_title="HPC MLOps monitor", page_icon=str(Path(__file__).parent / "static" / "icon.png"),
                   layout="wide")


@st.cache_resource(show_spinner="Preparing the demo data…")
def _seed_local_store(root: str, prefix: str, user: str, timezone: str) -> int:
    """Seed a new embedded store once per process and root; a store that already holds buckets is left as it is.

    The demo's SACCT runs stand for uploads, so their jobs go into the history as an upload's do.
    """
    store, settings = LocalStore(root), load_settings()
    written = seed_new_store(store, settings).written
    if written:
        upload_service.merge_stored_runs(store, settings, sacct_service.list_runs(store, settings))
    return len(written)


# The demo is seeded for the configured pipeline user only, whatever user a session picks.
configured = load_settings()
if configured.store == "local":
    _seed_local_store(str(configured.local_store_path.resolve()), configured.bucket_prefix, configured.pipeline_user,
                      configured.sacct_timezone)

pages = [
    st.Page("views/overview.py", title="Overview", icon=":material/dashboard:", url_path="overview", default=True),
    st.Page("views/buckets.py", title="Buckets", icon=":material/inventory_2:", url_path="buckets"),
    st.Page("views/management.py", title="Management", icon=":material/account_tree:", url_path="management"),
    st.Page("views/pipeline.py", title="Pipeline", icon=":material/view_timeline:", url_path="pipeline"),
    st.Page("views/times.py", title="Times", icon=":material/timer:", url_path="times"),
    st.Page("views/sacct.py", title="SACCT", icon=":material/query_stats:", url_path="sacct"),
    st.Page("views/history.py", title="History", icon=":material/calendar_month:", url_path="history"),
    st.Page("views/upload.py", title="Upload sacct", icon=":material/upload_file:", url_path="upload"),
    st.Page("views/logs.py", title="Logs", icon=":material/article:", url_path="logs"),
    # Reached from the rows of Management, SACCT and Logs (a job needs an id), so not listed in the sidebar.
    st.Page("views/job.py", title="Job", icon=":material/work_history:", url_path="job", visibility="hidden"),
    st.Page("views/sign_in.py", title="Sign in", icon=":material/login:", url_path="sign-in"),
]
navigation = st.navigation(pages)

with st.sidebar:
    # Kept in the URL by hand, not bound: st.switch_page (a row click opening the job page) cannot leave a URL that
    # holds bound parameters. A link's ?pipeline= starts the session's choice; the widget's state wins afterwards.
    if components.PIPELINE_USER_KEY not in st.session_state:
        st.session_state[components.PIPELINE_USER_KEY] = st.query_params.get(
            components.PIPELINE_USER_KEY) or configured.pipeline_user
    chosen_user = st.text_input("Pipeline user", key=components.PIPELINE_USER_KEY,
                                help="Whose pipeline buckets the pages show (for this browser session only).")
    if chosen_user.strip() and not format_user(chosen_user):
        st.warning(f"{links.plain(chosen_user)} has no letters or digits for bucket names: showing "
                   f"{links.plain(configured.pipeline_user)}.", icon=":material/person_off:")
    if chosen_user.strip() and chosen_user.strip() != configured.pipeline_user:
        st.query_params[components.PIPELINE_USER_KEY] = chosen_user.strip()
    elif components.PIPELINE_USER_KEY in st.query_params:
        del st.query_params[components.PIPELINE_USER_KEY]
    settings = components.settings()
    active = session_service.describe(settings, components.session_state())
    if active is None:
        st.warning("Not signed in", icon=":material/lock:")
    else:
        st.subheader(active.kind, divider="gray")
        st.text(f"{active.location}\nsigned in as {active.user}\npipeline user {active.pipeline_user}")
        if active.kind == "Swift" and st.button("Sign out", icon=":material/logout:"):
            st.session_state[components.SESSION_KEY] = None
            st.rerun()

with components.run_scope():
    navigation.run()
