"""One typed settings object, read with python-decouple from the environment and ``.env``.

The process environment wins over ``.env``. Secrets are ``SecretStr``: they never appear in ``repr``, ``str`` or a
JSON dump. A wrong value raises :class:`core.errors.SettingsError` naming the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from decouple import Config, RepositoryEmpty, RepositoryEnv
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from core.errors import SettingsError
from core.platforms import PLATFORMS

#: Largest UPLOAD_LIMIT_MB: Streamlit's server.maxUploadSize in .streamlit/config.toml.
MAX_UPLOAD_MB = 200

#: Setting field → environment variable.
ENV_NAMES: dict[str, str] = {
    "csc_username": "CSC_USERNAME",
    "csc_password": "CSC_PASSWORD",
    "csc_project_name": "CSC_PROJECT_NAME",
    "csc_user_domain_name": "CSC_USER_DOMAIN_NAME",
    "csc_project_domain_name": "CSC_PROJECT_DOMAIN_NAME",
    "csc_auth_url": "CSC_AUTH_URL",
    "bucket_prefix": "BUCKET_PREFIX",
    "store": "STORE",
    "local_store_path": "LOCAL_STORE_PATH",
    "sacct_timezone": "SACCT_TIMEZONE",
    "pipeline_user": "PIPELINE_USER",
    "upload_limit_mb": "UPLOAD_LIMIT_MB",
    "read_limit_rows": "READ_LIMIT_ROWS",
    "read_limit_mb": "READ_LIMIT_MB",
    "management_limit_mb": "MANAGEMENT_LIMIT_MB",
    "keystone_urls": "KEYSTONE_URLS",
    "default_platform": "DEFAULT_PLATFORM",
    "stuck_after_minutes": "STUCK_AFTER_MINUTES",
    "quota_alert_percent": "QUOTA_ALERT_PERCENT",
    "advice_min_minutes": "ADVICE_MIN_MINUTES",
    "advice_time_efficiency_percent": "ADVICE_TIME_EFFICIENCY_PERCENT",
    "advice_cpu_efficiency_percent": "ADVICE_CPU_EFFICIENCY_PERCENT",
    "advice_memory_efficiency_percent": "ADVICE_MEMORY_EFFICIENCY_PERCENT",
    "advice_margin_percent": "ADVICE_MARGIN_PERCENT",
    "advice_oom_factor": "ADVICE_OOM_FACTOR",
    "billing_puhti_bu_per_core_hour": "BILLING_PUHTI_BU_PER_CORE_HOUR",
    "billing_puhti_bu_per_gib_hour": "BILLING_PUHTI_BU_PER_GIB_HOUR",
    "billing_mahti_bu_per_node_hour": "BILLING_MAHTI_BU_PER_NODE_HOUR",
    "billing_mahti_bu_per_core_hour": "BILLING_MAHTI_BU_PER_CORE_HOUR",
    "billing_roihu_bu_per_core_hour": "BILLING_ROIHU_BU_PER_CORE_HOUR",
    "billing_roihu_bu_per_gib_hour": "BILLING_ROIHU_BU_PER_GIB_HOUR",
    "billing_roihu_hugemem_bu_per_core_hour": "BILLING_ROIHU_HUGEMEM_BU_PER_CORE_HOUR",
    "billing_roihu_hugemem_bu_per_gib_hour": "BILLING_ROIHU_HUGEMEM_BU_PER_GIB_HOUR",
    "billing_roihu_bu_per_node_hour": "BILLING_ROIHU_BU_PER_NODE_HOUR",
    "billing_lumi_core_hours_per_node_hour": "BILLING_LUMI_CORE_HOURS_PER_NODE_HOUR",
    "billing_lumi_gb_per_core_hour": "BILLING_LUMI_GB_PER_CORE_HOUR",
    "dashboard_url": "DASHBOARD_URL",
    "notify_webhook_url": "NOTIFY_WEBHOOK_URL",
    "notify_smtp_host": "NOTIFY_SMTP_HOST",
    "notify_smtp_port": "NOTIFY_SMTP_PORT",
    "notify_smtp_user": "NOTIFY_SMTP_USER",
    "notify_smtp_password": "NOTIFY_SMTP_PASSWORD",
    "notify_smtp_cafile": "NOTIFY_SMTP_CAFILE",
    "notify_email_from": "NOTIFY_EMAIL_FROM",
    "notify_email_to": "NOTIFY_EMAIL_TO",
    "notify_max_per_hour": "NOTIFY_MAX_PER_HOUR",
    "notify_timeout_seconds": "NOTIFY_TIMEOUT_SECONDS",
    "notify_attempts": "NOTIFY_ATTEMPTS",
    "notify_retry_seconds": "NOTIFY_RETRY_SECONDS",
    "notify_claim_settle_seconds": "NOTIFY_CLAIM_SETTLE_SECONDS",
    "notify_claim_lease_minutes": "NOTIFY_CLAIM_LEASE_MINUTES",
}


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


class Settings(BaseModel):
    """Everything the monitor is configured with."""

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
    #: Keystone URLs the sign-in page may send credentials to besides CSC_AUTH_URL (comma-separated).
    keystone_urls: tuple[str, ...] = ()
    default_platform: str = "other"
    stuck_after_minutes: float = Field(120, gt=0)
    quota_alert_percent: float = Field(90, gt=0, le=100)
    # Findings (SACCT page, Upload preview): which finished jobs get a note, and the head room advice leaves.
    advice_min_minutes: float = Field(5, ge=0)
    advice_time_efficiency_percent: float = Field(10, ge=0, le=100)
    advice_cpu_efficiency_percent: float = Field(65, ge=0, le=100)
    advice_memory_efficiency_percent: float = Field(70, ge=0, le=100)
    advice_margin_percent: float = Field(20, ge=0, le=1000)
    advice_oom_factor: float = Field(1.5, gt=1, le=100)
    # CSC CPU billing units (docs.csc.fi/computing/hpc-billing) and LUMI's CPU core-hours
    # (docs.lumi-supercomputer.eu/computing/jobs/billing): see the README's table.
    billing_puhti_bu_per_core_hour: float = Field(1.0, ge=0)
    billing_puhti_bu_per_gib_hour: float = Field(0.1, ge=0)
    billing_mahti_bu_per_node_hour: float = Field(100.0, ge=0)
    billing_mahti_bu_per_core_hour: float = Field(1.0, ge=0)
    billing_roihu_bu_per_core_hour: float = Field(0.75, ge=0)
    billing_roihu_bu_per_gib_hour: float = Field(0.375, ge=0)
    billing_roihu_hugemem_bu_per_core_hour: float = Field(12.0, ge=0)
    billing_roihu_hugemem_bu_per_gib_hour: float = Field(0.25, ge=0)
    billing_roihu_bu_per_node_hour: float = Field(288.0, ge=0)
    billing_lumi_core_hours_per_node_hour: float = Field(128.0, ge=0)
    billing_lumi_gb_per_core_hour: float = Field(2.0, gt=0)
    #: Where the dashboard is reached: the links in notifications start with it.
    dashboard_url: str = "http://localhost:8501"
    # Notifications (hpc-monitor notify): an incoming webhook and/or e-mail over SMTP with STARTTLS.
    notify_webhook_url: SecretStr | None = None  # a Slack or Teams webhook's path is its secret
    notify_smtp_host: str | None = None
    notify_smtp_port: int = Field(587, gt=0, lt=65536)
    notify_smtp_user: str | None = None
    notify_smtp_password: SecretStr | None = None
    #: A CA bundle that signs the SMTP server's certificate, instead of the system's CAs.
    notify_smtp_cafile: str | None = None
    notify_email_from: str = "hpc-monitor@localhost"
    notify_email_to: tuple[str, ...] = ()
    notify_max_per_hour: int = Field(20, ge=1)
    notify_timeout_seconds: float = Field(10, gt=0, le=300)
    notify_attempts: int = Field(3, ge=1, le=10)
    notify_retry_seconds: float = Field(2, ge=0, le=300)
    notify_claim_settle_seconds: float = Field(2, gt=0, le=60)
    notify_claim_lease_minutes: float = Field(15, gt=0)

    @field_validator("default_platform")
    @classmethod
    def _platform(cls, value: str) -> str:
        name = value.strip().lower()
        if name not in PLATFORMS:
            raise ValueError(f"must be one of {', '.join(PLATFORMS)}")
        return name

    @field_validator("csc_auth_url")
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

    @field_validator("dashboard_url", "notify_webhook_url")
    @classmethod
    def _http(cls, value: object) -> object:
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if text is not None and not str(text).startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return str(value).rstrip("/") if isinstance(value, str) else value

    @field_validator("notify_email_to", mode="before")
    @classmethod
    def _addresses(cls, value: object) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else list(value)  # type: ignore[call-overload]
        addresses = tuple(str(item).strip() for item in items if str(item).strip())
        for address in addresses:
            if "@" not in address or any(c.isspace() for c in address):
                raise ValueError("every entry must be an e-mail address (comma-separated)")
        return addresses

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
    def swift_configured(self) -> bool:
        """Whether the settings name a Swift store with complete credentials."""
        return bool(
            self.store == "swift" and self.csc_username and self.csc_password and self.csc_project_name
        )

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


def load_settings(env_file: str | Path | None = ".env", environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from ``environ`` (default: the process environment) over ``env_file`` if it exists."""
    import os

    repository = RepositoryEnv(str(env_file)) if env_file and Path(env_file).is_file() else RepositoryEmpty()
    config = Config(repository)
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for field, name in ENV_NAMES.items():
        if name in env:
            raw: str | None = env[name]
        else:
            raw = config(name, default=None)
        if raw is not None and str(raw).strip() != "":
            values[field] = str(raw).strip()
    try:
        return Settings(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "settings"
        # Never echo the input value: it may be the password.
        raise SettingsError(ENV_NAMES.get(field, field), error["msg"]) from None
