"""One typed settings object (a pydantic model), read from the environment and ``.env`` (parsed by python-decouple).

The process environment wins over ``.env``. Secrets are ``SecretStr``: they never appear in ``repr``, ``str`` or a
JSON dump. A wrong value raises :class:`core.errors.SettingsError` naming the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from decouple import RepositoryEnv
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from core.billing import Budget, Rates
from core.delivery import NotifySettings
from core.errors import SettingsError
from core.platforms import PLATFORMS
from core.sacct.advice import Thresholds

#: Largest UPLOAD_LIMIT_MB: Streamlit's server.maxUploadSize in .streamlit/config.toml.
MAX_UPLOAD_MB = 200


@dataclass(frozen=True)
class ReadLimits:
    """How far reading one stored object may expand, checked before the decoding that would exceed it.

    Attributes:
        rows: most rows of a table object (from the parquet footer, before any row is decoded).
        bytes: most decoded bytes of a table object (counted while decoding, batch by batch).
        management_bytes: largest management object (JSON or pickle) read whole.
    """

    rows: int = 5_000_000
    bytes: int = 1024 * 2**20
    management_bytes: int = 32 * 2**20


class CollectSettings(BaseModel):
    """How ``hpc-monitor collect`` asks sacct (``COLLECT_<FIELD>``); the command line's options win."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    #: One sacct call per window this long.
    window_days: float = Field(1, gt=0, le=366)
    #: Pulled again before the watermark, for late updates (a job's end, its steps' figures).
    overlap_minutes: float = Field(60, ge=0, le=60 * 24 * 31)
    #: How far back the first collection of a cluster goes without ``--since``.
    first_days: float = Field(30, gt=0, le=3660)


class Settings(BaseModel):
    """Everything the monitor is configured with.

    Each field is read from the environment variable of its name in capitals; a nested model's fields from
    ``<FIELD>_<SUBFIELD>`` (``BILLING_PUHTI_BU_PER_CORE_HOUR`` is ``billing.puhti_bu_per_core_hour``). Constructing
    ``Settings(...)`` reads nothing: :func:`load_settings` reads the environment and ``.env``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    csc_username: str | None = None
    csc_password: SecretStr | None = None
    csc_project_name: str | None = None
    csc_user_domain_name: str = "Default"
    csc_project_domain_name: str | None = None
    csc_auth_url: str = "https://pouta.csc.fi:5001/v3"
    bucket_prefix: str = "mlch"
    store: Literal["local", "swift"] = "local"
    local_store_path: Path = Path(".data/store")
    sacct_timezone: str = "UTC"
    pipeline_user: str = "user@example.com"
    # The ceiling is the server's maxUploadSize (.streamlit/config.toml): the widget cannot allow more than that.
    upload_limit_mb: int = Field(100, gt=0, le=MAX_UPLOAD_MB)
    read_limit_rows: int = Field(ReadLimits.rows, gt=0)
    read_limit_mb: int = Field(ReadLimits.bytes // 2**20, gt=0)
    management_limit_mb: int = Field(ReadLimits.management_bytes // 2**20, gt=0)
    #: Largest object the Buckets page offers to download: the app holds a download whole in memory until the
    #: session ends, so a bigger one is fetched with `hpc-monitor` or a Swift client instead.
    download_limit_mb: int = Field(256, gt=0)
    #: Keystone URLs the sign-in page may send credentials to besides CSC_AUTH_URL (comma-separated).
    keystone_urls: tuple[str, ...] = ()
    default_platform: str = "other"
    stuck_after_minutes: float = Field(120, gt=0)
    quota_alert_percent: float = Field(90, gt=0, le=100)
    # Findings (SACCT page, Upload preview): which finished jobs get a note, and the head room advice leaves.
    advice: Thresholds = Thresholds()
    # CSC billing units and LUMI's core-hours (core.billing and the README's table say where they come from).
    billing: Rates = Rates()
    # The project's allocations per billing pool, for the Overview's budget.
    budget: Budget = Budget()
    #: Where the dashboard is reached: the links in notifications start with it.
    dashboard_url: str = "http://localhost:8501"
    # hpc-monitor collect: sacct windows, overlap and the first pull's reach (COLLECT_<FIELD>).
    collect: CollectSettings = CollectSettings()
    # hpc-monitor notify: an incoming webhook and/or e-mail (NOTIFY_<FIELD>).
    notify: NotifySettings = NotifySettings()

    @field_validator("default_platform")
    @classmethod
    def _platform(cls, value: str) -> str:
        name = value.strip().lower()
        if name not in PLATFORMS:
            raise ValueError(f"must be one of {', '.join(PLATFORMS)}")
        return name

    @field_validator("csc_auth_url", "dashboard_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("keystone_urls", mode="before")
    @classmethod
    def _urls(cls, value: object) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else list(value)  # type: ignore[call-overload]
        urls = tuple(str(item).strip().rstrip("/") for item in items if str(item).strip())
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise ValueError("every entry must be an http:// or https:// URL")
        return urls

    @field_validator("bucket_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not value or "/" in value or len(value) > 64:
            raise ValueError("must be 1-64 characters without '/'")
        return value

    @field_validator("sacct_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. UTC, Europe/Helsinki)") from None
        return value

    @model_validator(mode="after")
    def _project_domain(self) -> Settings:
        if not self.csc_project_domain_name:
            object.__setattr__(self, "csc_project_domain_name", self.csc_user_domain_name)
        return self

    @property
    def read_limits(self) -> ReadLimits:
        """The bounds on reading one stored object."""
        return ReadLimits(self.read_limit_rows, self.read_limit_mb * 2**20, self.management_limit_mb * 2**20)

    @property
    def allowed_auth_urls(self) -> tuple[str, ...]:
        """Keystone URLs credentials may be sent to: CSC_AUTH_URL and the KEYSTONE_URLS allow-list."""
        return (self.csc_auth_url, *self.keystone_urls)

    @property
    def upload_limit_bytes(self) -> int:
        """The upload limit in bytes."""
        return self.upload_limit_mb * 1024 * 1024


def _env_names(model: type[BaseModel], prefix: str = "") -> dict[tuple[str, ...], str]:
    names: dict[tuple[str, ...], str] = {}
    for field, info in model.model_fields.items():
        kind = info.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            names.update({(field, *path): name for path, name in _env_names(kind, f"{prefix}{field}_").items()})
        else:
            names[(field,)] = f"{prefix}{field}".upper()
    return names


#: Path of each setting in :class:`Settings` (``("billing", "puhti_bu_per_core_hour")``) → its environment variable.
ENV_PATHS: dict[tuple[str, ...], str] = _env_names(Settings)
#: Every environment variable the settings read (what tests clear so a developer's shell cannot leak into them).
ENV_NAMES: tuple[str, ...] = tuple(ENV_PATHS.values())
_PATHS: dict[str, tuple[str, ...]] = {name: path for path, name in ENV_PATHS.items()}


def _values(variables: Mapping[str, str]) -> dict[str, Any]:
    """The settings one mapping of variables names (any case), nested by their paths; an empty value is no value.

    Only the names of :data:`ENV_NAMES` are read: a nested model is never read whole from one variable
    (``BILLING='{...}'``), and a value is passed on as its text for the model to validate.
    """
    values: dict[str, Any] = {}
    for name, value in variables.items():
        path, text = _PATHS.get(name.upper()), value.strip()
        if path is None or not text:
            continue
        inner = values
        for key in path[:-1]:
            inner = inner.setdefault(key, {})
        inner[path[-1]] = text
    return values


def _env_name(location: tuple[int | str, ...]) -> str:
    """The variable of a validation error's location (the longest setting path it starts with)."""
    for end in range(len(location), 0, -1):
        name = ENV_PATHS.get(tuple(str(part) for part in location[:end]))
        if name:
            return name
    return "settings"


def _over(below: dict[str, Any], above: dict[str, Any]) -> dict[str, Any]:
    """``above``'s values over ``below``'s; a nested model's keys are merged one by one."""
    merged = dict(below)
    for key, value in above.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def load_settings(env_file: str | Path | None = ".env", environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from ``environ`` (default: the process environment) over ``env_file`` if it exists.

    ``.env`` is parsed by python-decouple (the seed's reader: ``KEY=value`` lines, quotes and comments as decouple
    reads them). Each variable is put at its setting's path (:data:`ENV_PATHS`, derived from the model) and the model
    validates the values: a read of the environment costs tens of microseconds, and the pages read the settings on every
    run.
    """
    import os

    file = RepositoryEnv(str(env_file)).data if env_file and Path(env_file).is_file() else {}
    env = os.environ if environ is None else environ
    try:
        values = _over(_values(file), _values(env))
        return Settings(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        # Never echo the input value: it may be the password.
        raise SettingsError(_env_name(tuple(error["loc"])), error["msg"]) from None
