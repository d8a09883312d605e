"""``python -m bench [--quick] [--only AREA,...]``: run the benchmarks (areas below), print, save."""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable

from bench import history, listing, load, network, pages, parse, serialize, store, upload
from bench.results import RESULTS_PATH, Results, machine_info, update_readme

AREAS = ("parse", "list", "store", "pages", "upload", "serialize", "load", "network", "history", "collect")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a smoke run in under two minutes")
    parser.add_argument("--only", default=",".join(AREAS), help=f"comma-separated areas of {', '.join(AREAS)}")
    parser.add_argument("--output", default=str(RESULTS_PATH), help="where to write the results JSON")
    args = parser.parse_args(argv)
    only = [a.strip() for a in args.only.split(",") if a.strip()]
    unknown = [a for a in only if a not in AREAS]
    if unknown:
        parser.error(f"unknown area(s): {', '.join(unknown)}")

    rows = 100_000 if args.quick else 1_000_000
    objects = 10_000 if args.quick else 100_000
    sacct_page_rows = 20_000 if args.quick else 100_000
    upload_mb = 5 if args.quick else 50
    if args.quick:
        listing.SWIFT_REAL_PUTS = 300
    runs: dict[str, Callable[[Results], None]] = {
        "parse": lambda r: parse.run(r, rows, repeat=1 if args.quick else 3),
        "list": lambda r: listing.run(r, objects),
        "store": store.run,
        "pages": lambda r: pages.run(r, sacct_page_rows),
        "upload": lambda r: upload.run(r, upload_mb, page_rows=100_000 if args.quick else 1_000_000),
        "serialize": lambda r: serialize.run(r, rows, repeat=1 if args.quick else 2),
        "load": lambda r: load.run(r, args.quick),
        "network": lambda r: network.run(r, args.quick),
        "history": lambda r: history.run(r, 100_000 if args.quick else 1_000_000),
        "collect": lambda r: history.run_collect(r, 20_000 if args.quick else history.MONTH_ROWS),
    }
    info = machine_info()
    print(f"machine: {info['cpu_count']} CPUs ({info['cpu_model']}), Python {info['python']}; "
          f"{'quick' if args.quick else 'full'} run of {', '.join(only)}", flush=True)
    results = Results()
    failed: list[str] = []
    durations: dict[str, float] = {}
    for area in AREAS:
        if area not in only:
            continue
        print(f"--- {area}", flush=True)
        t0 = time.perf_counter()
        try:
            runs[area](results)
        except Exception:
            failed.append(area)
            traceback.print_exc()
            results.note(f"{area}: failed: {traceback.format_exc(limit=1).strip().splitlines()[-1]}")
        durations[area] = round(time.perf_counter() - t0, 1)

    print("\n" + results.table())
    missed = results.missed()
    print(f"\n{len(missed)} target(s) missed" + (": " + ", ".join(f.name for f in missed) if missed else ""))
    from pathlib import Path

    finished = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    if len(only) < len(AREAS):
        results.keep_previous(Path(args.output))
    path = results.save(Path(args.output), {"mode": "quick" if args.quick else "full", "areas": only,
                                            "area_seconds": durations, "failed_areas": failed,
                                            "finished": finished, "partial": len(only) < len(AREAS)})
    print(f"results written to {path}")
    if path.resolve() == RESULTS_PATH and not args.quick and not failed:
        update_readme(path)
        print("README.md benchmark table updated")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
