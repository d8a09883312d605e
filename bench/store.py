"""Versioned writes on the real Swift + Keystone of ``stack`` (loopback): a 1 MiB object stored as new versions.

Each store is one ``put_versioned`` call (the version object, the listings that number it, and ``<path>``); the
median of :data:`REPEAT` stores after one warm-up is reported, and the 8 concurrent writers are checked for lost or
duplicated versions.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bench.generate import CACHE
from bench.results import Results
from core.store.base import ObjectStore

REPEAT = 15
SIZE = 1 << 20
WRITERS = 8
BUCKET = "bench-versioning"

PutVersioned = Callable[..., int]


def swift_store(info: Any) -> ObjectStore:
    from core.auth import Credentials
    from core.store.swift import SwiftStore

    user = info.users[0]
    return SwiftStore.from_credentials(Credentials(auth_url=info.auth_url, username=user.username,
                                                   password=SecretStr(user.password), project_name=user.project))


def measure(results: Results, label: str, store: ObjectStore, put_versioned: PutVersioned,
            list_versions: Callable[..., list[int]], repeat: int = REPEAT) -> None:
    """Median seconds of a versioned store of 1 MiB, and 8 concurrent writers' outcome."""
    data = bytes(range(256)) * (SIZE // 256)
    name = f"ARTIFACTS/SACCT/bench-{time.time_ns()}.parquet"
    put_versioned(store, BUCKET, name, data)  # warm-up: connection, bucket
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        put_versioned(store, BUCKET, name, data)
        times.append(time.perf_counter() - t0)
    results.add(f"store.{label}.versioned_put_1MiB.median", statistics.median(times), "s", at_most=0.3)
    results.add(f"store.{label}.versioned_put_1MiB.max", max(times), "s")

    concurrent = f"MANAGEMENT/bench-{time.time_ns()}.json"
    store.create_bucket(BUCKET)
    with ThreadPoolExecutor(WRITERS) as pool:
        t0 = time.perf_counter()
        got = list(pool.map(lambda i: put_versioned(store, BUCKET, concurrent, b"%d" % i * 1000), range(WRITERS)))
        seconds = time.perf_counter() - t0
    listed = list_versions(store, BUCKET, concurrent)
    bad = WRITERS - len(set(got) & set(listed)) + abs(len(listed) - WRITERS)
    results.add(f"store.{label}.concurrent_8_writers.lost_or_duplicated", bad, "versions", at_most=0)
    results.add(f"store.{label}.concurrent_8_writers.seconds", seconds, "s")


def run(results: Results) -> None:
    import stack
    from core.store import versioning

    CACHE.mkdir(parents=True, exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix="swift-versioning-", dir=CACHE))
    try:
        info = stack.start(directory, token_expiration=3600)
        measure(results, "swift", swift_store(info), versioning.put_versioned, versioning.list_versions)
    finally:
        stack.stop(directory)
        import shutil

        shutil.rmtree(directory, ignore_errors=True)
