"""Parquet write/read of the parsed frame with each compression (child process)."""

from __future__ import annotations

from bench import child, generate
from bench.results import Results

#: Download bandwidth assumed from object storage to the dashboard (a cloud VM reading CSC Allas).
BANDWIDTH = 100 * 2**20


def run(results: Results, rows: int, repeat: int = 2) -> None:
    from core.serialize import DEFAULT_COMPRESSION

    out = child.run("serialize", path=str(generate.cached(rows, "parsable2")), repeat=repeat)
    results.add("serialize.frame_in_memory", out["memory"] / 2**20, "MiB")
    cases = out["cases"]
    for name, case in cases.items():
        results.add(f"serialize.{name}.size", case["size"] / 2**20, "MiB")
        results.add(f"serialize.{name}.write", case["write"], "s")
        results.add(f"serialize.{name}.read", case["read"], "s")
    # Pick: the fastest way from storage to a frame. A SACCT object is written once per upload and read on every
    # page view, over the network from Swift (Allas), so a read costs its transfer (at BANDWIDTH) plus its decode.
    cost = {n: c["read"] + c["size"] / BANDWIDTH for n, c in cases.items()}
    for name, seconds in cost.items():
        results.add(f"serialize.{name}.read_over_network", seconds, "s")
    pick = min(cost, key=lambda n: cost[n])
    results.add("serialize.recommended", pick, "")
    results.add("serialize.current_default", str(DEFAULT_COMPRESSION).lower(), "")
    results.note(f"serialize: recommend {pick} (least read + transfer time at {BANDWIDTH / 2**20:.0f} MiB/s: reads "
                 f"happen on every page view, writes once per upload); current default {DEFAULT_COMPRESSION}")
