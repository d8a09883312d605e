"""The pipeline's data models, with the seed's names and aliases.

The management orchestration (Venv … Orchestration) and its workspaces. Every model accepts both the seed's aliases
(``used-capacity``) and the Python names, and dumps the seed's keys with ``by_alias=True``. Validation errors name
the field.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.units import parse_size


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class Venv(_Model):
    """A Python virtual environment on a platform."""

    name: str = Field(alias="name")
    path: str = Field(alias="path")
    modules: list[str] = Field(default_factory=list, alias="modules")
    packages: list[str] = Field(default_factory=list, alias="packages")


class Configs(_Model):
    """Modules to load and the venv to use on a platform."""

    modules: list[str] = Field(default_factory=list, alias="modules")
    venv: Venv | None = Field(None, alias="venv")


#: Status flags from the most to the least decisive, with the phase each one means.
PHASES: tuple[tuple[str, str], ...] = (
    ("stored", "stored"),
    ("cancel", "cancelled"),
    ("stopped", "stopped"),
    ("failed", "failed"),
    ("complete", "complete"),
    ("running", "running"),
    ("pending", "pending"),
    ("submit", "submitted"),
    ("config", "configured"),
    ("start", "started"),
)


class Status(_Model):
    """The orchestration flags of one job (the seed's Status)."""

    start: bool = Field(False, alias="start")
    config: bool = Field(False, alias="config")
    submit: bool = Field(False, alias="submit")
    pending: bool = Field(False, alias="pending")
    running: bool = Field(False, alias="running")
    failed: bool = Field(False, alias="failed")
    complete: bool = Field(False, alias="complete")
    cancel: bool = Field(False, alias="cancel")
    stopped: bool = Field(False, alias="stopped")
    stored: bool = Field(False, alias="stored")

    @property
    def phase(self) -> str:
        """The job's phase: the first set flag in the order of :data:`PHASES`, or ``new``."""
        for flag, phase in PHASES:
            if getattr(self, flag):
                return phase
        return "new"


class Job(_Model):
    """One Slurm job the submitter manages."""

    path: str = Field(alias="path")
    id: str = Field("None", alias="id")
    status: Status = Field(default_factory=Status, alias="status")


class Direction(_Model):
    """One end of a file transfer."""

    place: str = Field(alias="place")
    path: str = Field(alias="path")
    value: str = Field(alias="value")


class Transfer(_Model):
    """A file transfer from source to target."""

    source: Direction = Field(alias="source")
    target: Direction = Field(alias="target")


class Send(_Model):
    """A transfer towards the platform."""

    transfer: Transfer = Field(alias="transfer")
    overwrite: bool = Field(False, alias="overwrite")


class Get(_Model):
    """A transfer back from the platform."""

    transfer: Transfer = Field(alias="transfer")
    remove: bool = Field(False, alias="remove")


class Files(_Model):
    """The transfers of a platform."""

    send: list[Send] = Field(default_factory=list, alias="send")
    get: list[Get] = Field(default_factory=list, alias="get")


class Language(_Model):
    """A language runtime found on a platform."""

    name: str = Field(alias="name")
    version: str = Field(alias="version")


class Workspace(_Model):
    """One ``csc-workspaces`` row: printed quota text plus the numbers it means.

    Capacities are 1024-based sizes (``2.2M``, ``1.0T``); file counts are 1000-based (``100K``, ``.97k``).
    """

    path: str = Field(alias="path")
    used_capacity: str = Field(alias="used-capacity")
    max_capacity: str = Field(alias="max-capacity")
    used_files: str = Field(alias="used-files")
    max_files: str = Field(alias="max-files")
    used_capacity_bytes: int | None = Field(None, alias="used-capacity-bytes")
    max_capacity_bytes: int | None = Field(None, alias="max-capacity-bytes")
    used_files_count: int | None = Field(None, alias="used-files-count")
    max_files_count: int | None = Field(None, alias="max-files-count")
    project: str | None = Field(None, alias="project")

    @model_validator(mode="after")
    def _numbers(self) -> Workspace:
        for text, field, binary in (
            (self.used_capacity, "used_capacity_bytes", True),
            (self.max_capacity, "max_capacity_bytes", True),
            (self.used_files, "used_files_count", False),
            (self.max_files, "max_files_count", False),
        ):
            if getattr(self, field) is None:
                object.__setattr__(self, field, parse_size(text, binary=binary))
        return self


class Properties(_Model):
    """What the submitter found on a platform."""

    directory: str = Field(alias="directory")
    languages: list[Language] = Field(default_factory=list, alias="languages")
    workspaces: list[Workspace] = Field(default_factory=list, alias="workspaces")


class Platform(_Model):
    """One HPC platform's orchestration state.

    ``properties`` and ``configs`` are optional: the forwarder's first input has no properties.
    """

    properties: Properties | None = Field(None, alias="properties")
    configs: Configs | None = Field(None, alias="configs")
    files: Files = Field(default_factory=Files, alias="files")
    jobs: list[Job] = Field(default_factory=list, alias="jobs")


class Orchestration(_Model):
    """The management object: platforms keyed by name (puhti, mahti, lumi, any other)."""

    name: str = Field(alias="name")
    platforms: dict[str, Platform] = Field(default_factory=dict, alias="platforms")
