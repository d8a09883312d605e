"""Keystone password authentication: a keystoneauth1 session that renews its own token.

The session re-authenticates when its token is about to expire, so a long browser session keeps working. Errors are
mapped onto :mod:`core.errors` with messages built from names only: no password or token ever appears in them.
"""

from __future__ import annotations

from typing import Any

from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from pydantic import BaseModel, ConfigDict, SecretStr

from core.errors import AuthenticationFailed, SettingsError, StoreUnavailable
from core.settings import Settings

#: Seconds to wait for Keystone (connect and read).
TIMEOUT = 10.0


class Credentials(BaseModel):
    """Keystone v3 password credentials of one user and project."""

    model_config = ConfigDict(frozen=True)

    auth_url: str
    username: str
    password: SecretStr
    project_name: str
    user_domain_name: str = "Default"
    project_domain_name: str = "Default"

    @classmethod
    def from_settings(cls, settings: Settings, password: str | None = None) -> Credentials:
        """Credentials from the settings; ``password`` overrides CSC_PASSWORD (e.g. typed on the sign-in page)."""
        secret = password if password is not None else (
            settings.csc_password.get_secret_value() if settings.csc_password else None
        )
        for key, value in (("CSC_USERNAME", settings.csc_username), ("CSC_PROJECT_NAME", settings.csc_project_name),
                           ("CSC_PASSWORD", secret)):
            if not value:
                raise SettingsError(key, "is required to sign in to Swift")
        return cls(
            auth_url=settings.csc_auth_url,
            username=str(settings.csc_username),
            password=SecretStr(str(secret)),
            project_name=str(settings.csc_project_name),
            user_domain_name=settings.csc_user_domain_name,
            project_domain_name=settings.csc_project_domain_name or settings.csc_user_domain_name,
        )


def keystone_session(credentials: Credentials, *, timeout: float = TIMEOUT) -> ks_session.Session:
    """A keystoneauth1 session for the credentials; it fetches and renews tokens by itself."""
    auth = v3.Password(
        auth_url=credentials.auth_url,
        username=credentials.username,
        password=credentials.password.get_secret_value(),
        project_name=credentials.project_name,
        user_domain_name=credentials.user_domain_name,
        project_domain_name=credentials.project_domain_name,
    )
    return ks_session.Session(auth=auth, timeout=timeout)


def map_keystone_error(exc: Exception, credentials: Credentials) -> Exception:
    """The :mod:`core.errors` exception for a keystoneauth1 failure (names only, never secrets)."""
    who = f"user {credentials.username} in project {credentials.project_name}"
    if isinstance(exc, ks_exceptions.Unauthorized | ks_exceptions.Forbidden):
        return AuthenticationFailed(f"Keystone refused the credentials of {who}")
    if isinstance(exc, ks_exceptions.ConnectFailure | ks_exceptions.ConnectTimeout | ks_exceptions.ServiceUnavailable
                  | ks_exceptions.RequestTimeout | ks_exceptions.DiscoveryFailure):
        return StoreUnavailable(f"Keystone at {credentials.auth_url} did not answer ({type(exc).__name__})")
    if isinstance(exc, ks_exceptions.EndpointNotFound):
        return StoreUnavailable(f"Keystone has no object-store endpoint for {who}")
    if isinstance(exc, ks_exceptions.HttpError) and getattr(exc, "http_status", 0) >= 500:
        return StoreUnavailable(f"Keystone at {credentials.auth_url} failed (HTTP {exc.http_status})")
    return AuthenticationFailed(f"could not authenticate {who} ({type(exc).__name__})")


def authenticate(credentials: Credentials, *, timeout: float = TIMEOUT) -> ks_session.Session:
    """A session that already holds a token: wrong credentials or an unreachable Keystone fail here."""
    session = keystone_session(credentials, timeout=timeout)
    try:
        session.get_token()
        session.get_endpoint(service_type="object-store", interface="public")
    except ks_exceptions.ClientException as exc:
        raise map_keystone_error(exc, credentials) from None
    return session


def storage_endpoint(session: Any) -> tuple[str, str]:
    """The object-store URL and a current token of an authenticated session."""
    url = session.get_endpoint(service_type="object-store", interface="public")
    return str(url), str(session.get_token())
