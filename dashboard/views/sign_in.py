"""Sign in: the embedded local store, or Swift with Keystone password authentication."""

import streamlit as st

from core.services import session as session_service
from core.text import markdown_plain
from dashboard import components

components.header("Sign in", "Choose the object store. Swift credentials stay in this browser session only.")
flash = st.session_state.pop("sign_in_flash", None)
if flash is not None:
    (st.success if flash[0] == "success" else st.error)(markdown_plain(flash[1]))
settings = components.settings()
choice = st.radio("Store", ["Local store (demo data)", "Swift + Keystone (CSC Allas)"],
                  index=1 if settings.store == "swift" else 0, horizontal=True, key="sign_in_store")

if choice.startswith("Local"):
    st.write(f"The embedded store keeps its objects under `{settings.local_store_path}`.")
    if st.button("Use the local store", type="primary", icon=":material/folder_open:"):
        st.session_state[components.SESSION_KEY] = session_service.local_session()
        st.success("Using the local store.")
else:
    # The password field gets a new key after each attempt and the page reruns, so a password never stays in a
    # widget; the other fields are filled again from the last attempt (never the password) or from .env.
    last = st.session_state.get("sign_in_last") or {}
    attempt = st.session_state.setdefault("sign_in_attempt", 0)
    with st.form("swift_sign_in"):
        auth_url = st.text_input("Keystone URL", value=last.get("auth_url", settings.csc_auth_url),
                                 help="Only the configured Keystone URLs are accepted (CSC_AUTH_URL, KEYSTONE_URLS).")
        username = st.text_input("User name", value=last.get("username", settings.csc_username or ""))
        password = st.text_input("Password", type="password", key=f"sign_in_password_{attempt}")
        project = st.text_input("Project", value=last.get("project", settings.csc_project_name or ""),
                                help="e.g. project_2001234")
        left, right = st.columns(2)
        user_domain = left.text_input("User domain", value=last.get("user_domain", settings.csc_user_domain_name))
        project_domain = right.text_input(
            "Project domain", value=last.get("project_domain", settings.csc_project_domain_name or "Default"))
        submitted = st.form_submit_button("Sign in", type="primary", icon=":material/login:")
    if submitted:
        st.session_state["sign_in_attempt"] = attempt + 1
        st.session_state["sign_in_last"] = {"auth_url": auth_url, "username": username, "project": project,
                                            "user_domain": user_domain, "project_domain": project_domain}
        with st.spinner("Authenticating with Keystone…"):
            outcome = components.attempt("Sign-in failed", lambda: session_service.sign_in_swift(
                settings, username=username, password=password, project_name=project,
                user_domain_name=user_domain, project_domain_name=project_domain, auth_url=auth_url,
            ))
        if isinstance(outcome, str):
            st.session_state["sign_in_flash"] = ("error", outcome)
        else:
            st.session_state[components.SESSION_KEY] = outcome
            st.session_state["sign_in_flash"] = (
                "success", f"Signed in as {outcome['username']} ({outcome['project_name']}).")
        st.rerun()
