"""Parse ``csc-workspaces`` output into Workspace models.

A workspace row has a path under ``/users/`` or with ``/project_``, then ``used/max`` capacity and ``used/max``
files (``/users/csc   2.2M/10G   37/100K   Personal home folder``), and on Puhti and Mahti the project's description
(LUMI prints a ``Quota for project <id>`` line above its rows instead). Other lines (headers, prose) are ignored; a line
that looks like a workspace row but cannot be read is reported with its line number, not dropped silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.models import Workspace

_ROW_MARKERS = ("/users/", "/project_")
_QUOTA_FOR = re.compile(r"^\s*Quota for (project|user) (\S+)")
_PAIR = re.compile(r"^([0-9.]+[A-Za-z]?)/([0-9.]+[A-Za-z]?)$")


@dataclass(frozen=True)
class LineProblem:
    """A line that could not be read; ``line`` is 1-based."""

    line: int
    message: str


@dataclass
class WorkspaceListing:
    """The workspaces read and the lines that looked like rows but were not."""

    workspaces: list[Workspace] = field(default_factory=list)
    problems: list[LineProblem] = field(default_factory=list)


def parse_workspaces(text: str) -> WorkspaceListing:
    """Read every workspace row of a ``csc-workspaces`` listing."""
    listing = WorkspaceListing()
    heading: str | None = None  # LUMI groups rows under "Quota for project <id>" / "Quota for user <name>"
    for number, line in enumerate(text.splitlines(), start=1):
        quota_for = _QUOTA_FOR.match(line)
        if quota_for:
            heading = quota_for.group(2) if quota_for.group(1) == "project" else "personal"
            continue
        if not any(marker in line for marker in _ROW_MARKERS):
            continue
        parts = line.split()
        if len(parts) < 3 or not parts[0].startswith("/"):
            listing.problems.append(LineProblem(number, f"expected 'path used/max used/max', got {line.strip()!r}"))
            continue
        capacity, files = _PAIR.match(parts[1]), _PAIR.match(parts[2])
        if capacity is None or files is None:
            bad = parts[1] if capacity is None else parts[2]
            listing.problems.append(LineProblem(number, f"{bad!r} is not a used/max pair"))
            continue
        workspace = Workspace(
            path=parts[0],
            used_capacity=capacity.group(1),
            max_capacity=capacity.group(2),
            used_files=files.group(1),
            max_files=files.group(2),
            project=" ".join(parts[3:]) or heading,
        )
        if None in (workspace.used_capacity_bytes, workspace.max_capacity_bytes,
                    workspace.used_files_count, workspace.max_files_count):
            listing.problems.append(LineProblem(number, f"unreadable size in {line.strip()!r}"))
            continue
        listing.workspaces.append(workspace)
    return listing
