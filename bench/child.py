"""Measurements that need a fresh process (peak memory): ``python -m bench.child TASK JSON-ARGS``.

Each task prints one line ``RESULT <json>``. Peak memory is the process's high-water mark of resident memory
(``VmHWM``) after the measured work minus the RSS just before it (after imports and after reading the input), so it
is what the work itself added at its peak. The mark is reset just before the work: ``ru_maxrss`` is not used,
because Linux carries the parent's peak into a child across fork and exec (a bench run that had just generated its
inputs in memory reported its own peak as the parser's).
"""

from __future__ import annotations

import contextlib
import gc
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]


def _rss() -> int:
    return int(psutil.Process().memory_info().rss)


def _reset_peak() -> None:
    """Start the high-water mark afresh at the current RSS (Linux: ``5`` to ``/proc/self/clear_refs``)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak() -> int:
    """The process's peak RSS since :func:`_reset_peak` (``VmHWM``; ``ru_maxrss`` where there is no /proc)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024  # kB
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024  # KiB on Linux


def _measure(work: Callable[[], Any], repeat: int) -> tuple[list[float], int, Any]:
    """Times of ``repeat`` runs, the peak RSS increase of the first, and the first result."""
    gc.collect()
    before = _rss()
    _reset_peak()
    t0 = time.perf_counter()
    result = work()
    times = [time.perf_counter() - t0]
    peak = _peak() - before
    for _ in range(repeat - 1):
        gc.collect()
        t0 = time.perf_counter()
        work()
        times.append(time.perf_counter() - t0)
    return times, peak, result


def parse_core(path: str, repeat: int = 1) -> dict[str, Any]:
    from core.sacct import parse_sacct

    data = Path(path).read_bytes()
    times, peak, parsed = _measure(lambda: parse_sacct(data, timezone="UTC"), repeat)
    return {"times": times, "peak": peak, "input": len(data), "rows": len(parsed.frame),
            "warnings": len(parsed.warnings), "format": parsed.format, "columns": list(parsed.frame.columns)}


def parse_arrow(path: str, repeat: int = 1) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    data = Path(path).read_bytes()

    def work() -> Any:
        return pacsv.read_csv(pa.BufferReader(data), parse_options=pacsv.ParseOptions(delimiter="|"))

    times, peak, table = _measure(work, repeat)
    return {"times": times, "peak": peak, "input": len(data), "rows": table.num_rows}


def seed_rows(path: str) -> tuple[int, int]:
    """The seed's own loop: the file to a dict of rows, then ``parse_sacct_dict`` per row.

    The seed raised on the first row it could not convert (``Unknown``, ``UNLIMITED``); here such rows are counted
    and the loop goes on, so the time covers every row.
    """
    from bench import seed_baseline as seed

    sacct_dict: dict[str, Any] = seed.format_slurm_sacct(file_path=path)  # the seed annotates it as `any`
    rows, failed = 0, 0
    for sample in sacct_dict.values():
        try:
            metrics, metadata = seed.parse_sacct_dict(sacct_data=sample)
            _row = metrics | metadata
            rows += 1
        except (KeyError, ValueError, IndexError):
            failed += 1
    return rows, failed


def parse_seed(path: str, repeat: int = 1) -> dict[str, Any]:
    size = Path(path).stat().st_size
    times, peak, (rows, failed) = _measure(lambda: seed_rows(path), repeat)
    return {"times": times, "peak": peak, "input": size, "rows": rows + failed, "failed": failed}


def upload(path: str, repeat: int = 1) -> dict[str, Any]:
    from core.services.upload import parse_upload, store_run
    from core.settings import load_settings
    from core.store.local import LocalStore

    data = Path(path).read_bytes()
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        settings = load_settings(None, {"STORE": "local", "LOCAL_STORE_PATH": tmp, "UPLOAD_LIMIT_MB": "100"})
        store = LocalStore(tmp)
        split: dict[str, float] = {}

        def work() -> Any:
            t0 = time.perf_counter()
            parsed = parse_upload(data, settings)
            split["parse"] = time.perf_counter() - t0
            stored = store_run(store, settings, "bench", parsed, replace=True)
            split["store"] = time.perf_counter() - t0 - split["parse"]
            return stored

        times, peak, stored = _measure(work, repeat)
        size = sum(p.stat().st_size for p in Path(tmp).rglob("*.parquet"))
    return {"times": times, "peak": peak, "input": len(data), "rows": stored.rows, "version": stored.version,
            "split": split, "parquet_bytes": size}


def serialize(path: str, repeat: int = 1) -> dict[str, Any]:
    from core.sacct import parse_sacct
    from core.serialize import frame_to_parquet, parquet_to_frame

    frame = parse_sacct(Path(path).read_bytes(), timezone="UTC").frame
    out: dict[str, Any] = {"rows": len(frame), "memory": int(frame.memory_usage(deep=True).sum()), "cases": {}}
    for compression in (None, "snappy", "zstd", "gzip"):
        writes, reads = [], []
        data = b""
        for _ in range(max(1, repeat)):
            t0 = time.perf_counter()
            data = frame_to_parquet(frame, compression=compression)
            writes.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            back = parquet_to_frame(data)
            reads.append(time.perf_counter() - t0)
            assert len(back) == len(frame)
            del back
        out["cases"][str(compression).lower()] = {"size": len(data), "write": min(writes), "read": min(reads)}
    return out


TASKS: dict[str, Callable[..., dict[str, Any]]] = {
    "parse_core": parse_core, "parse_arrow": parse_arrow, "parse_seed": parse_seed, "upload": upload,
    "serialize": serialize,
}


def run(task: str, **kwargs: Any) -> dict[str, Any]:
    """Run ``task`` in a fresh interpreter and return its result."""
    proc = subprocess.run([sys.executable, "-m", "bench.child", task, json.dumps(kwargs)], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line[len("RESULT "):])
            return result
    raise RuntimeError(f"bench child {task} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")


def main() -> None:
    task, args = sys.argv[1], json.loads(sys.argv[2])
    result = TASKS[task](**args)
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
