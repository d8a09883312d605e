"""The real samples the tests read, each kept once.

Samples the demo also uses live in ``core/demo_data/`` (shipped with the package); ``tests/data/`` keeps only those
no demo uses. Each sample's source and the facts checked by hand are in ``core/demo_data/SOURCES-sacct.md``,
``core/demo_data/SOURCES-logs.md`` and ``tests/data/sacct/SOURCES.md``.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO_DATA = ROOT / "core" / "demo_data"
TEST_DATA = ROOT / "tests" / "data"


def sacct(name: str) -> Path:
    """A sacct sample by file name (``01_hyak_default_fixedwidth.txt``), from the demo data or tests/data/sacct."""
    for folder in (DEMO_DATA, TEST_DATA / "sacct"):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"no sacct sample {name} in {DEMO_DATA} or {TEST_DATA / 'sacct'}")


def log(name: str) -> Path:
    """A Slurm log or seff report of the demo (``mahti_seff.txt``)."""
    return DEMO_DATA / name


def workspaces(platform: str) -> Path:
    """The CSC workspace listing of ``platform`` (puhti, mahti, lumi) the demo uses."""
    return DEMO_DATA / f"workspaces_{platform}.txt"
