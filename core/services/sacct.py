"""Stored SACCT runs: Slurm accounting runs stored as parquet under ARTIFACTS/SACCT/ in the forwarder bucket.

Listing the runs, reading one (checked against what the parser writes) and combining several into one frame. What
the page does with them lives beside this module: :mod:`core.services.sacct_selection` (per-job metrics, filters,
headline), :mod:`core.services.tables` (how every table reads), :mod:`core.services.findings` (notes and advice) and
:mod:`core.services.cost` (billing per pool and the budget).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from core.naming import bucket_name, folder
from core.settings import Settings
from core.store.base import ObjectStore
from core.store.listing import objects_under

SACCT_PREFIX = folder("arti", "SACCT")


def forwarder_bucket(settings: Settings) -> str:
    """The forwarder bucket (shared by the pipeline's users)."""
    return bucket_name("forwarder", settings.bucket_prefix, settings.pipeline_user)


@dataclass(frozen=True)
class RunRef:
    """A stored SACCT run: its object, size, etag (what caches key on) and when it was stored."""

    name: str
    object: str
    bytes: int
    etag: str
    stored: datetime | None = None


_NEVER = datetime.min.replace(tzinfo=UTC)


def list_runs(store: ObjectStore, settings: Settings) -> list[RunRef]:
    """Every SACCT run object (``<user>-<run>.parquet``), the newest stored first (then by name)."""
    runs = [RunRef(run_name(o.name), o.name, o.bytes, o.hash, o.last_modified)
            for o in objects_under(store, forwarder_bucket(settings), SACCT_PREFIX)
            if o.name.endswith(".parquet") and "/" not in o.name[len(SACCT_PREFIX):]]
    runs.sort(key=lambda r: r.name)
    runs.sort(key=lambda r: r.stored or _NEVER, reverse=True)
    return runs


#: How many of the newest stored runs the SACCT page opens on and the Overview counts: one rule for both pages.
RECENT_RUNS = 6


def recent_runs_rule(count: int) -> str:
    """How a page says which runs it counts (the same words on the Overview and the SACCT page)."""
    return (f"the {count} most recently stored SACCT run{'s' if count != 1 else ''}"
            f" (at most {RECENT_RUNS}, newest first)")


def default_runs(runs: list[RunRef], limit: int = RECENT_RUNS) -> list[str]:
    """The runs shown first: the ``limit`` newest stored (``runs`` come newest first from :func:`list_runs`)."""
    return [r.name for r in runs[:limit]]


def run_name(name: str) -> str:
    """The run's name from its object's name (``ARTIFACTS/SACCT/<run>.parquet``)."""
    return name[len(SACCT_PREFIX):].removesuffix(".parquet") if name.startswith(SACCT_PREFIX) else name


def combine(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Several runs in one frame."""
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["run", "job-id", "step"])

