"""HPC platforms: which one a run or a job belongs to, and the order platforms are listed in.

CSC's clusters (Puhti, Mahti, Roihu, LUMI) are named; a run from any other cluster is ``other`` (its own cluster name is
kept beside the platform, in the object's ``cluster`` metadata).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

#: Platforms shown first, in this order.
KNOWN_PLATFORMS: tuple[str, ...] = ("puhti", "mahti", "roihu", "lumi")
#: A run from a cluster that is none of the known ones.
OTHER = "other"
#: What the Upload page offers.
PLATFORMS: tuple[str, ...] = (*KNOWN_PLATFORMS, OTHER)


def platform_of_cluster(cluster: str | None) -> str | None:
    """The platform of a sacct ``Cluster`` value: a known name, ``other`` for any other cluster, ``None`` if empty."""
    name = (cluster or "").strip().lower()
    if not name:
        return None
    return name if name in KNOWN_PLATFORMS else OTHER


def platform_of_frame(frame: pd.DataFrame) -> tuple[str | None, str | None]:
    """The platform and cluster name of a parsed sacct table, from its ``cluster`` column (the most common value).

    ``(None, None)`` when the table has no Cluster field or it is empty on every row.
    """
    if "cluster" not in frame.columns:
        return None, None
    values = frame["cluster"].dropna().astype(str).str.strip()
    values = values[values != ""]
    if values.empty:
        return None, None
    cluster = str(values.value_counts().index[0])
    return platform_of_cluster(cluster), cluster


def platform_of_name(run: str, default: str) -> str:
    """The platform a run name mentions as a word (``mahti-ray-2024-05`` → ``mahti``), else ``default``."""
    words = set(re.split(r"[^a-z0-9]+", run.lower()))
    for platform in KNOWN_PLATFORMS:
        if platform in words:
            return platform
    return default


def platform_order(names: Iterable[str]) -> list[str]:
    """Platform names as the pages list them: puhti, mahti, roihu, lumi first, then any other in name order."""
    present = set(names)
    return [p for p in KNOWN_PLATFORMS if p in present] + sorted(p for p in present if p not in KNOWN_PLATFORMS)
