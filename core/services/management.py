"""Management page: the Orchestration object per HPC platform."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from pydantic import ValidationError

from core.errors import DamagedObject
from core.models import Orchestration, Platform, Workspace
from core.naming import bucket_name, folder
from core.platforms import platform_order as order_platforms
from core.services.objects import read_management
from core.services.palette import PHASE_COLOURS as PHASE_COLOURS  # the Management page's status colours
from core.settings import ReadLimits, Settings
from core.store.base import ObjectStore
from core.store.listing import objects_under
from core.units import iec_size

MANAGEMENT_PREFIX = folder("mana")


def submitter_bucket(settings: Settings) -> str:
    """The submitter bucket of the configured pipeline user."""
    return bucket_name("submitter", settings.bucket_prefix, settings.pipeline_user)


def list_management(store: ObjectStore, settings: Settings) -> list[str]:
    """Management objects in the submitter bucket, newest name last."""
    return sorted(o.name for o in objects_under(store, submitter_bucket(settings), MANAGEMENT_PREFIX))


def load_orchestration(store: ObjectStore, bucket: str, name: str, limits: ReadLimits | None = None) -> Orchestration:
    """Read and validate one management object (pickle read safely, or JSON).

    Raises:
        DamagedObject: unreadable, too large, or not an orchestration object (names the object and the field).
    """
    content = read_management(store, bucket, name, limits)
    try:
        return Orchestration.model_validate(content)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DamagedObject(f"not an orchestration object: {where}: {first['msg']}", bucket=bucket, obj=name) from None


def platform_order(orchestration: Orchestration) -> list[str]:
    """Platform names: puhti, mahti, lumi first, then any other (the chart and the tabs use this one order)."""
    return order_platforms(orchestration.platforms)


def job_table(platform: Platform) -> pd.DataFrame:
    """Jobs with their phase (from the status flags), Slurm id and script path."""
    return pd.DataFrame({
        "status": [job.status.phase for job in platform.jobs],
        "job id": [None if job.id in ("None", "") else job.id for job in platform.jobs],
        "script": [job.path for job in platform.jobs],
        "flags": [", ".join(k for k, v in job.status.model_dump().items() if v) for job in platform.jobs],
    })


def phase_counts(orchestration: Orchestration) -> pd.DataFrame:
    """How many jobs of each phase every platform has."""
    rows = [(name, job.status.phase) for name, p in orchestration.platforms.items() for job in p.jobs]
    frame = pd.DataFrame(rows, columns=["platform", "status"])
    return frame.value_counts().rename("jobs").reset_index()


def transfer_table(platform: Platform) -> pd.DataFrame:
    """File transfers: direction, source → target, and the overwrite/remove flag."""
    rows = []
    for send in platform.files.send:
        t = send.transfer
        rows.append(("send", f"{t.source.place}:{t.source.path}", f"{t.target.place}:{t.target.path}",
                     "overwrite" if send.overwrite else "keep"))
    for get in platform.files.get:
        t = get.transfer
        rows.append(("get", f"{t.source.place}:{t.source.path}", f"{t.target.place}:{t.target.path}",
                     "remove" if get.remove else "keep"))
    return pd.DataFrame(rows, columns=["direction", "source", "target", "flag"])


def workspace_table(platform: Platform) -> pd.DataFrame:
    """Workspace quotas with used fractions of capacity and files (empty without properties)."""
    columns = ["path", "project", "capacity", "capacity used", "files", "files used"]
    if platform.properties is None:
        return pd.DataFrame(columns=columns)
    rows = []
    for w in platform.properties.workspaces:
        cap = (w.used_capacity_bytes / w.max_capacity_bytes) if w.used_capacity_bytes is not None and \
            w.max_capacity_bytes else None
        files = (w.used_files_count / w.max_files_count) if w.used_files_count is not None and \
            w.max_files_count else None
        # One unit system whatever the listing printed ("3.045G", ".97k"): binary sizes, whole counts.
        rows.append((w.path, workspace_project(w),
                     f"{iec_size(w.used_capacity_bytes, unknown=w.used_capacity)} / "
                     f"{iec_size(w.max_capacity_bytes, unknown=w.max_capacity)}", cap,
                     f"{_count(w.used_files_count, w.used_files)} / {_count(w.max_files_count, w.max_files)}", files))
    return pd.DataFrame(rows, columns=columns)


def _count(value: int | None, printed: str) -> str:
    return printed if value is None else f"{value:,}"


def workspace_project(workspace: Workspace) -> str:
    """The project a workspace belongs to: the listing's description or project, else the path's ``project_*``."""
    if workspace.project:
        return workspace.project
    found = re.search(r"(project_[A-Za-z0-9_]+)", workspace.path)
    if found:
        return found.group(1)
    return "personal" if workspace.path.startswith("/users/") else ""


@dataclass(frozen=True)
class ConfigsView:
    """Modules and the venv of a platform, as lists of text."""

    modules: list[str]
    venv_name: str
    venv_path: str
    venv_modules: list[str]
    venv_packages: list[str]


def configs_view(platform: Platform) -> ConfigsView | None:
    """The platform's configs, or ``None`` when it has none."""
    if platform.configs is None:
        return None
    venv = platform.configs.venv
    return ConfigsView(
        platform.configs.modules,
        venv.name if venv else "", venv.path if venv else "",
        venv.modules if venv else [], venv.packages if venv else [],
    )


#: Phases of a job that is still on its way: it is stuck when the object has not changed for too long.
ACTIVE_PHASES = ("started", "configured", "submitted", "pending", "running")


@dataclass(frozen=True)
class ManagementObject:
    """A management object in the listing, with when it last changed and its etag (empty when unknown)."""

    name: str
    last_changed: datetime | None
    etag: str = ""


def management_objects(store: ObjectStore, settings: Settings) -> list[ManagementObject]:
    """Management objects in the submitter bucket with their last change, the most recently changed first."""
    objects = [ManagementObject(e.name, e.last_modified, e.hash or "")
               for e in objects_under(store, submitter_bucket(settings), MANAGEMENT_PREFIX)]
    objects.sort(key=lambda o: o.name)
    objects.sort(key=lambda o: o.last_changed or datetime.min.replace(tzinfo=UTC), reverse=True)
    return objects


def current_state(store: ObjectStore, settings: Settings, name: str) -> ManagementObject:
    """The management object as it is now: when it last changed and its etag, from one HEAD.

    An auto-refresh asks this, then reads the object only when its etag changed.
    """
    meta = store.head_object(submitter_bucket(settings), name)
    return ManagementObject(name, meta.last_modified, meta.etag or "")


def is_stale(changed: datetime | None, now: datetime, settings: Settings) -> bool:
    """Whether an object has not changed for longer than ``STUCK_AFTER_MINUTES``."""
    return changed is not None and (now - changed).total_seconds() > settings.stuck_after_minutes * 60


@dataclass(frozen=True)
class PlatformAttention:
    """What needs attention on one platform: failed jobs, and active jobs that look stuck."""

    platform: str
    failed: pd.DataFrame
    stuck: pd.DataFrame

    @property
    def empty(self) -> bool:
        """Whether nothing needs attention."""
        return bool(self.failed.empty and self.stuck.empty)


def platform_attention(name: str, platform: Platform, *, stale: bool) -> PlatformAttention:
    """Failed jobs, and (when the object is ``stale``) the jobs still in an active phase, of one platform."""
    jobs = job_table(platform)
    failed = jobs[jobs["status"] == "failed"].reset_index(drop=True)
    stuck = jobs[jobs["status"].isin(ACTIVE_PHASES)].reset_index(drop=True) if stale else jobs.iloc[0:0]
    return PlatformAttention(name, failed, stuck)


def job_names(jobs: pd.DataFrame) -> list[str]:
    """The Slurm ids of a job table's rows, ``without id`` for a job never submitted."""
    return [str(j) if j is not None and not pd.isna(j) else "without id" for j in jobs["job id"]]


def quota_alerts(orchestration: Orchestration, settings: Settings) -> pd.DataFrame:
    """Workspaces whose capacity or file count is used above ``QUOTA_ALERT_PERCENT``, per platform."""
    limit = settings.quota_alert_percent / 100
    rows = []
    for name in platform_order(orchestration):
        spaces = workspace_table(orchestration.platforms[name])
        for space in spaces.to_dict("records"):
            capacity, files = space["capacity used"], space["files used"]
            over = [what for what, used in (("capacity", capacity), ("files", files))
                    if used is not None and not pd.isna(used) and used > limit]
            if over:
                rows.append({"platform": name, "path": space["path"], "project": space["project"],
                             "over": " and ".join(over), "capacity used": capacity, "files used": files})
    return pd.DataFrame(rows, columns=list(QUOTA_COLUMNS))


#: Columns of :func:`quota_alerts`.
QUOTA_COLUMNS = ("platform", "path", "project", "over", "capacity used", "files used")
