"""Management page: the Orchestration object per HPC platform."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from pydantic import ValidationError

from core.errors import NotFound
from core.models import Orchestration, Platform
from core.naming import bucket_name, folder
from core.services.objects import read_management
from core.settings import Settings
from core.store.base import ObjectStore

MANAGEMENT_PREFIX = folder("mana")

#: Colour of each job phase (also used by the SACCT charts for Slurm states).
PHASE_COLOURS: dict[str, str] = {
    "new": "#9aa5b1", "started": "#7fb3d5", "configured": "#5dade2", "submitted": "#3498db",
    "pending": "#f5b041", "running": "#2e86c1", "complete": "#28b463", "failed": "#e74c3c",
    "cancelled": "#a04000", "stopped": "#7d3c98", "stored": "#117864",
}
#: Platforms shown first, in this order; any other platform follows.
KNOWN_PLATFORMS = ("puhti", "mahti", "lumi")


def submitter_bucket(settings: Settings) -> str:
    """The submitter bucket of the configured pipeline user."""
    return bucket_name("submitter", settings.bucket_prefix, settings.pipeline_user)


def list_management(store: ObjectStore, settings: Settings) -> list[str]:
    """Management objects in the submitter bucket, newest name last."""
    bucket = submitter_bucket(settings)
    try:
        return sorted(o.name for o in store.iter_objects(bucket, prefix=MANAGEMENT_PREFIX))
    except NotFound:
        return []


def load_orchestration(store: ObjectStore, bucket: str, name: str) -> Orchestration:
    """Read and validate one management object (pickle read safely, or JSON)."""
    content = read_management(store, bucket, name)
    try:
        return Orchestration.model_validate(content)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"{bucket}/{name} is not an orchestration object: {where}: {first['msg']}") from None


def platform_order(orchestration: Orchestration) -> list[str]:
    """Platform names: puhti, mahti, lumi first, then any other."""
    names = list(orchestration.platforms)
    return [p for p in KNOWN_PLATFORMS if p in names] + sorted(p for p in names if p not in KNOWN_PLATFORMS)


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
    columns = ["path", "capacity", "capacity used", "files", "files used"]
    if platform.properties is None:
        return pd.DataFrame(columns=columns)
    rows = []
    for w in platform.properties.workspaces:
        cap = (w.used_capacity_bytes / w.max_capacity_bytes) if w.used_capacity_bytes is not None and \
            w.max_capacity_bytes else None
        files = (w.used_files_count / w.max_files_count) if w.used_files_count is not None and \
            w.max_files_count else None
        rows.append((w.path, f"{w.used_capacity} / {w.max_capacity}", cap, f"{w.used_files} / {w.max_files}", files))
    return pd.DataFrame(rows, columns=columns)


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
