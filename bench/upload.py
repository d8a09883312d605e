"""Upload: a 50 MB sacct parsable2 text through ``parse_upload`` and ``store_run`` into a LocalStore (child), and a
1,000,000-row file through the Upload sacct page in Chromium (bench/upload_page.py: time to the preview and to the
stored run, the app's peak memory)."""

from __future__ import annotations

from bench import child, generate, upload_page
from bench.results import Results


def run(results: Results, size_mb: int, repeat: int = 1, page_rows: int = upload_page.ROWS) -> None:
    generate.parsable2_of_size(size_mb * 2**20)
    path = generate.CACHE / f"sacct-parsable2-{size_mb * 2**20}B-{generate.SEED + 1}.txt"
    out = child.run("upload", path=str(path), repeat=repeat)
    label = f"upload.{size_mb}MB"
    results.add(f"{label}.end_to_end", min(out["times"]), "s", at_most=5 if size_mb >= 50 else None)
    results.add(f"{label}.parse", out["split"]["parse"], "s")
    results.add(f"{label}.store (parquet + versioned put)", out["split"]["store"], "s")
    results.add(f"{label}.rows", out["rows"], "rows")
    results.add(f"{label}.peak_mem", out["peak"] / 2**20, "MiB")
    results.add(f"{label}.peak_mem_vs_input", out["peak"] / out["input"], "x")
    upload_page.run(results, page_rows)
