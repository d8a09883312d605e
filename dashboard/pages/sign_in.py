"""Sign in: the embedded local store, or Swift with Keystone password authentication."""

import streamlit as st

from core.services import session as session_service
from dashboard import components

components.header("Sign in", "Choose the object store. Swift credentials stay in this browser session only.")
settings = components.settings()
choice = st.radio("Store", ["Local store (demo data)", "Swift + Keystone (CSC Allas)"],
                  index=1 if settings.store == "swift" else 0, horizontal=True, key="sign_in_store")

if choice.startswith("Local"):
    st.write(f"The embedded store keeps its objects under `{settings.local_store_path}`.")
    if st.button("Use the local store", type="primary", icon=":material/folder_open:"):
        st.session_state[components.SESSION_KEY] = session_service.local_session()
        st.success("Using the local store.")
else:
    with st.form("swift_sign_in"):
        auth_url = st.text_input("Keystone URL", value=settings.csc_auth_url)
        username = st.text_input("User name", value=settings.csc_username or "")
        password = st.text_input("Password", type="password", value="")
        project = st.text_input("Project", value=settings.csc_project_name or "", help="e.g. project_2001234")
        left, right = st.columns(2)
        user_domain = left.text_input("User domain", value=settings.csc_user_domain_name)
        project_domain = right.text_input("Project domain", value=settings.csc_project_domain_name or "Default")
        submitted = st.form_submit_button("Sign in", type="primary", icon=":material/login:")
    if submitted:
        with components.guard("Sign-in failed"), st.spinner("Authenticating with Keystone…"):
            state = session_service.sign_in_swift(
                settings, username=username, password=password, project_name=project,
                user_domain_name=user_domain, project_domain_name=project_domain, auth_url=auth_url,
            )
        st.session_state[components.SESSION_KEY] = state
        st.success(f"Signed in as {state['username']} ({state['project_name']}).", icon=":material/check_circle:")
