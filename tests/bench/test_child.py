"""Measurements in a fresh process: the peak memory a child reports is its own work's, not its parent's."""

from __future__ import annotations

from pathlib import Path

from bench import child
from tests import samples


def test_a_child_reports_its_own_peak_not_the_parents(tmp_path: Path) -> None:
    path = tmp_path / "small.txt"
    path.write_bytes(samples.sacct("05_torchx_hetjob_parsable.txt").read_bytes())
    parent_peak = bytearray(600 * 2**20)  # this process peaks at 600 MiB more, as a run generating its inputs does
    for offset in range(0, len(parent_peak), 4096):
        parent_peak[offset] = 1
    del parent_peak
    result = child.run("parse_core", path=str(path), repeat=1)
    assert result["rows"] == 7
    # Parsing 7 rows adds a few MiB at most; the parent's peak carried over by fork and exec would show 600 MiB.
    assert 0 <= result["peak"] < 64 * 2**20, result["peak"]
