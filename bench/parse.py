"""sacct parsing: ``core.sacct.parse_sacct`` against the seed's parser and pyarrow's CSV reader.

Every case runs in a fresh child process (``bench.child``) so its peak RSS is its own.
"""

from __future__ import annotations

import time

from bench import child, generate
from bench.results import Results

SEED_ROWS = 20_000


def run(results: Results, rows: int, repeat: int = 3) -> None:
    """Each case runs ``repeat`` times in its child and the fastest run counts (the seed at most twice: ~1 s each).

    The fastest of several runs is the usual figure on a shared machine: noise only ever adds time.
    """
    t0 = time.perf_counter()
    p2 = generate.cached(rows, "parsable2")
    fw = generate.cached(rows, "fixed")
    seed_fw = generate.cached(min(SEED_ROWS, rows), "fixed")
    results.note(f"parse inputs ({rows:,} rows: parsable2 {p2.stat().st_size / 1e6:.0f} MB, fixed width "
                 f"{fw.stat().st_size / 1e6:.0f} MB) ready in {time.perf_counter() - t0:.1f} s")

    core_p2 = child.run("parse_core", path=str(p2), repeat=repeat)
    core_fw = child.run("parse_core", path=str(fw), repeat=repeat)
    arrow = child.run("parse_arrow", path=str(p2), repeat=repeat)
    seed = child.run("parse_seed", path=str(seed_fw), repeat=min(repeat, 2))
    assert core_p2["rows"] == rows and core_fw["rows"] == rows, (core_p2["rows"], core_fw["rows"])

    t_p2, t_fw, t_arrow, t_seed = (min(r["times"]) for r in (core_p2, core_fw, arrow, seed))
    results.add("parse.parsable2.rows_per_s", rows / t_p2, "rows/s")
    results.add("parse.parsable2.seconds", t_p2, "s")
    results.add("parse.fixed_width.rows_per_s", rows / t_fw, "rows/s")
    results.add("parse.fixed_width.seconds", t_fw, "s")
    results.add("parse.fixed_width.warnings", core_fw["warnings"], "lines")
    results.add("parse.pyarrow_csv.rows_per_s", rows / t_arrow, "rows/s")
    results.add(f"parse.seed.rows_per_s ({seed['rows']:,} rows)", seed["rows"] / t_seed, "rows/s")
    results.add("parse.seed.rows_raising", seed["failed"], "rows")
    per_row_seed = t_seed / seed["rows"]
    results.add("parse.fixed_width.speedup_vs_seed", per_row_seed / (t_fw / rows), "x", at_least=30)
    results.add("parse.parsable2.speedup_vs_seed", per_row_seed / (t_p2 / rows), "x")
    results.add("parse.parsable2.time_vs_pyarrow", t_p2 / t_arrow, "x", at_most=2)
    for label, case in (("parsable2", core_p2), ("fixed_width", core_fw), ("pyarrow_csv", arrow)):
        results.add(f"parse.{label}.peak_mem", case["peak"] / 2**20, "MiB")
        results.add(f"parse.{label}.peak_mem_vs_input", case["peak"] / case["input"], "x",
                    at_most=4 if label != "pyarrow_csv" else None)
