"""Sign-in and the store of one browser session.

A browser session keeps a small serialisable dict (``SessionState``) in its own Streamlit session state: which
store, and for Swift the user's credentials, storage URL and current token. Nothing is shared between sessions: the
store object is rebuilt from that dict on every run (cheap: no request is made until a page asks for data), and
writes a renewed token back into it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from core.auth import Credentials, authenticate, map_keystone_error, storage_endpoint
from core.errors import AuthenticationFailed, SettingsError
from core.settings import Settings
from core.store.base import ObjectStore
from core.store.local import LocalStore
from core.store.swift import SwiftStore

#: Keys of the per-session dict.
SessionState = dict[str, Any]


@dataclass(frozen=True)
class ActiveStore:
    """What the sidebar shows: the store kind, where it is and who is signed in (never a secret)."""

    kind: str
    location: str
    user: str
    pipeline_user: str


def local_session() -> SessionState:
    """The session of the embedded local store."""
    return {"kind": "local"}


def default_session(settings: Settings) -> SessionState | None:
    """The session a new browser starts with: the local store unless the settings name Swift (then sign in)."""
    return local_session() if settings.store == "local" else None


def sign_in_swift(
    settings: Settings,
    *,
    username: str,
    password: str,
    project_name: str,
    user_domain_name: str | None = None,
    project_domain_name: str | None = None,
    auth_url: str | None = None,
) -> SessionState:
    """Authenticate against Keystone now and return the session dict.

    ``auth_url`` must be CSC_AUTH_URL or one of KEYSTONE_URLS: the sign-in page lets a user type it, and the server
    would otherwise post the credentials to any host it can reach (and tell open ports from closed ones).

    Raises:
        SettingsError: ``auth_url`` is not an allowed Keystone URL (checked before any request is made).
        AuthenticationFailed: Keystone refused the credentials, or one is missing.
        StoreUnavailable: Keystone did not answer.
    """
    if not username or not password or not project_name:
        raise AuthenticationFailed("user name, password and project are all needed to sign in")
    url = (auth_url or settings.csc_auth_url).strip().rstrip("/")
    if url not in settings.allowed_auth_urls:
        raise SettingsError("KEYSTONE_URLS", f"{url} is not an allowed Keystone URL; the allowed ones are "
                            f"{', '.join(settings.allowed_auth_urls)} (CSC_AUTH_URL and KEYSTONE_URLS)")
    try:
        credentials = Credentials(
            auth_url=url,
            username=username.strip(),
            password=SecretStr(password),
            project_name=project_name.strip(),
            user_domain_name=(user_domain_name or settings.csc_user_domain_name).strip(),
            project_domain_name=(project_domain_name or settings.csc_project_domain_name or "Default").strip(),
        )
    except ValueError:
        raise SettingsError("CSC_AUTH_URL", "not a usable Keystone URL") from None
    session = authenticate(credentials)
    try:
        url, token = storage_endpoint(session)
    except Exception as exc:  # keystoneauth failures while reading the catalog
        raise map_keystone_error(exc, credentials) from None
    return {
        "kind": "swift",
        "auth_url": credentials.auth_url,
        "username": credentials.username,
        "password": password,
        "project_name": credentials.project_name,
        "user_domain_name": credentials.user_domain_name,
        "project_domain_name": credentials.project_domain_name,
        "storage_url": url,
        "token": token,
    }


def credentials_of(state: Mapping[str, Any]) -> Credentials:
    """The credentials kept in a Swift session dict."""
    return Credentials(
        auth_url=state["auth_url"], username=state["username"], password=SecretStr(state["password"]),
        project_name=state["project_name"], user_domain_name=state["user_domain_name"],
        project_domain_name=state["project_domain_name"],
    )


def build_store(settings: Settings, state: dict[str, Any]) -> ObjectStore:
    """The store of a session dict.

    A Swift store replaces an expired or revoked token from the session's credentials and writes the new token
    into ``state`` the moment it has it, so the next run reuses it whether or not the page that made the request
    ran to its end (``st.stop()``, an exception, a fragment rerun).
    """
    if state.get("kind") == "swift":
        def keep(storage_url: str, token: str) -> None:
            state["storage_url"], state["token"] = storage_url, token

        return SwiftStore.from_token(state["storage_url"], state["token"], credentials_of(state), on_renewal=keep)
    return LocalStore(settings.local_store_path)


def describe(settings: Settings, state: Mapping[str, Any] | None) -> ActiveStore | None:
    """The sidebar's description of a session (``None`` when nobody is signed in)."""
    if not state:
        return None
    if state.get("kind") == "swift":
        return ActiveStore("Swift", state["storage_url"], f"{state['username']} ({state['project_name']})",
                           settings.pipeline_user)
    return ActiveStore("Local store", str(settings.local_store_path), "local demo", settings.pipeline_user)
