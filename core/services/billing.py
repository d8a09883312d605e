"""What the SACCT page's jobs are billed: CSC billing units and LUMI core-hours, with the rates of the settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from core.billing import billed
from core.settings import Settings


@dataclass(frozen=True)
class Billing:
    """CSC billing units of the jobs on Puhti, Mahti and Roihu, LUMI core-hours of those on LUMI, with their counts."""

    csc_bu: float | None
    csc_jobs: int
    lumi_core_hours: float | None
    lumi_jobs: int

    def caption(self) -> str:
        """What the billing figure counts."""
        parts = [f"CSC CPU billing units of {self.csc_jobs:,} jobs on Puhti, Mahti or Roihu CPU partitions"]
        if self.lumi_jobs:
            parts.append(f"LUMI bills CPU core-hours: {self.lumi_core_hours or 0:,.1f} of {self.lumi_jobs:,} jobs")
        return "; ".join(parts) + " (a job is billed when its run's platform and its partition are known)."


def billing(jobs: pd.DataFrame, platforms: Mapping[str, str], settings: Settings) -> Billing:
    """What the jobs are billed (core.billing.billed), summed per unit; ``platforms`` maps run → platform."""
    if jobs.empty:
        return Billing(None, 0, None, 0)
    platform = jobs["run"].astype(str).map(dict(platforms)).fillna("")
    amount = billed(jobs, platform, settings.billing)
    csc = amount[platform.isin(["puhti", "mahti", "roihu"])].dropna()
    lumi = amount[platform == "lumi"].dropna()
    return Billing(float(csc.sum()) if len(csc) else None, len(csc),
                   float(lumi.sum()) if len(lumi) else None, len(lumi))
