"""Listing a bucket of many objects: LocalStore and the real Swift + Keystone of ``stack`` on loopback.

The bucket is filled outside the timed part (a thread pool of ``put_object`` calls of tiny bytes). The filled
LocalStore and the filled Swift stack directory are cached under ``bench/.cache/``; the stack is restarted on its
old directory (same ports, Keystone database and Swift devices) when it can be, and filled afresh otherwise.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bench.generate import CACHE
from bench.results import Results
from core.store.base import ObjectStore
from stack.counting import CountingStore

BUCKET = "bench-listing"
FIRST_PAGE = 1000
THREADS = 32
#: Objects put through the Swift proxy for real; the rest go straight into the container database (see fill_swift).
SWIFT_REAL_PUTS = 2000


def object_name(i: int) -> str:
    return f"LOGS/run-{i // 1000:04d}/part-{i:07d}.txt"


def fill(make_store: Callable[[], ObjectStore], n: int, start: int = 0) -> float:
    """Put objects ``start..n-1`` with a pool of threads, one store per thread; the seconds it took."""
    local = threading.local()

    def put(i: int) -> None:
        store = getattr(local, "store", None)
        if store is None:
            store = local.store = make_store()
        for attempt in range(5):
            try:
                store.put_object(BUCKET, object_name(i), b"x%d" % i, content_type="text/plain")
                return
            except Exception:
                if attempt == 4:
                    raise
                time.sleep(0.5 * (attempt + 1))

    make_store().create_bucket(BUCKET)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        for _ in pool.map(put, range(start, n), chunksize=64):
            pass
    return time.perf_counter() - t0


def measure(results: Results, label: str, store: ObjectStore, n: int, *, target_first_page: float | None,
            target_full: float | None = None) -> None:
    from core.services.buckets import browse

    # Warm connection, then time the first page of names several times.
    store.list_objects(BUCKET, limit=1)
    times = []
    for _ in range(7):
        t0 = time.perf_counter()
        page = store.list_objects(BUCKET, prefix="", delimiter=None, marker=None, limit=FIRST_PAGE)
        times.append(time.perf_counter() - t0)
        assert len(page.objects) == FIRST_PAGE, len(page.objects)
    results.add(f"list.{label}.first_page_1000.median", statistics.median(times), "s", at_most=target_first_page)
    results.add(f"list.{label}.first_page_1000.max", max(times), "s")

    t0 = time.perf_counter()
    every = list(store.iter_objects(BUCKET))
    full = time.perf_counter() - t0
    assert len(every) == n, (len(every), n)
    results.add(f"list.{label}.full_listing", full, "s", at_most=target_full)
    results.add(f"list.{label}.full_listing.objects_per_s", n / full, "obj/s")

    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        buckets = store.list_buckets()
        times.append(time.perf_counter() - t0)
    count = next(b.object_count for b in buckets if b.name == BUCKET)
    results.add(f"list.{label}.bucket_counts_head", statistics.median(times), "s")
    if count != n:
        results.note(f"{label}: list_buckets reports {count:,} objects in {BUCKET}, expected {n:,}")
    head = store.head_bucket(BUCKET).object_count
    if head != n:
        results.note(f"{label}: head_bucket reports {head:,} objects in {BUCKET}, expected {n:,}")

    counting = CountingStore(store)
    first = browse(counting, BUCKET, "LOGS/run-0001/")
    calls_first = counting.calls.total("list_objects")
    t0 = time.perf_counter()
    second = browse(counting, BUCKET, "LOGS/run-0001/", first.next_marker)
    browse_time = time.perf_counter() - t0
    calls_second = counting.calls.total("list_objects") - calls_first
    root = browse(counting, BUCKET, "")
    calls_root = counting.calls.total("list_objects") - calls_first - calls_second
    assert len(first.objects) == 100 and len(second.objects) == 100 and root.folders == ["LOGS/"]
    results.add(f"list.{label}.buckets page listing calls per page", max(calls_first, calls_second, calls_root),
                "calls", at_most=1)
    results.add(f"list.{label}.buckets page browse (page 2)", browse_time, "s")


# --- local -----------------------------------------------------------------------------------------------------


def run_local(results: Results, n: int) -> None:
    from core.store.local import LocalStore

    root = CACHE / f"local-db-list-{n}"  # the SQLite layout (an earlier-layout cache would be imported)
    marker = root / "filled.json"
    if not marker.exists():
        shutil.rmtree(root, ignore_errors=True)
        seconds = fill(lambda: LocalStore(root), n)
        marker.write_text(json.dumps({"objects": n, "fill_seconds": seconds}))
        results.note(f"local: filled {n:,} objects in {seconds:.1f} s ({n / seconds:,.0f}/s)")
    else:
        results.note(f"local: reused the filled store in {root}")
    measure(results, "local", LocalStore(root), n, target_first_page=0.05, target_full=2 if n >= 100_000 else None)


# --- swift ------------------------------------------------------------------------------------------------------


def _swift_store(info: Any) -> ObjectStore:
    from core.auth import Credentials
    from core.store.swift import SwiftStore

    user = info.users[0]
    return SwiftStore.from_credentials(Credentials(auth_url=info.auth_url, username=user.username,
                                                   password=SecretStr(user.password), project_name=user.project))


def _restart(directory: Path) -> Any:
    """Start the stack's processes again on an existing directory (its ports, database and devices)."""
    import stack

    return stack.resume(directory)


def merge_into_container_db(directory: Path, start: int, n: int) -> None:
    """Add objects ``start..n-1`` to the bucket's container database, as the object servers' updates would.

    Container listings and HEAD counts come only from this database, so the listing figures are those of a bucket
    that really holds ``n`` objects; only GETs of these objects would fail (nothing is on the object server).
    """
    import hashlib

    from swift.common.utils import Timestamp
    from swift.container.backend import ContainerBroker

    dbs = list((directory / "swift" / "devices").glob("sda/containers/*/*/*/*.db"))
    if len(dbs) != 1:
        raise RuntimeError(f"expected one container database, found {len(dbs)}")
    broker = ContainerBroker(str(dbs[0]))
    batch: list[dict[str, Any]] = []
    for i in range(start, n):
        body = b"x%d" % i
        stamp = Timestamp.now().internal
        batch.append({"name": object_name(i), "created_at": stamp, "size": len(body), "content_type": "text/plain",
                      "etag": hashlib.md5(body).hexdigest(), "deleted": 0, "storage_policy_index": 0,
                      "ctype_timestamp": stamp, "meta_timestamp": stamp})
        if len(batch) >= 5000:
            broker.merge_items(batch)
            batch = []
    if batch:
        broker.merge_items(batch)


@contextlib.contextmanager
def swift_stack(results: Results, n: int) -> Iterator[tuple[Any, ObjectStore]]:
    """A running stack whose bucket holds ``n`` objects; stopped on exit whatever happens."""
    import stack

    directory = (CACHE / f"swift-list-{n}").resolve()
    marker = directory / "bench-filled.json"
    try:
        info, store = None, None
        if marker.exists():
            try:
                t0 = time.perf_counter()
                info = _restart(directory)
                store = _swift_store(info)
                if store.head_bucket(BUCKET).object_count != n:
                    raise RuntimeError("the cached bucket does not hold the expected objects")
                results.note(f"swift: restarted the cached filled stack in {time.perf_counter() - t0:.1f} s")
            except Exception as exc:  # fall back to a fresh stack
                results.note(f"swift: cached stack not reusable ({exc}); starting afresh")
                info = store = None
        if info is None or store is None:
            marker.unlink(missing_ok=True)
            t0 = time.perf_counter()
            info = stack.start(directory, token_expiration=3600)
            started = time.perf_counter() - t0
            real = min(n, SWIFT_REAL_PUTS)
            seconds = fill(lambda: _swift_store(info), real)
            results.note(f"swift: stack started in {started:.1f} s; {real:,} real PUTs through the proxy took "
                         f"{seconds:.1f} s ({real / seconds:,.0f}/s, {THREADS} threads; at that rate {n:,} would "
                         f"take {n / real * seconds / 60:,.0f} min)")
            if n > real:
                t0 = time.perf_counter()
                merge_into_container_db(directory, real, n)
                results.note(f"swift: objects {real:,}..{n - 1:,} merged into the container database in "
                             f"{time.perf_counter() - t0:.1f} s (listings read only that database)")
            store = _swift_store(info)
            marker.write_text(json.dumps({"objects": n, "real_puts": real, "put_seconds": seconds}))
        yield info, store
    finally:
        stack.stop(directory)


def run_swift(results: Results, n: int) -> None:
    with swift_stack(results, n) as (info, store):
        t0 = time.perf_counter()
        cold = _swift_store(info)
        cold.list_objects(BUCKET, limit=FIRST_PAGE)
        results.add("list.swift.first_page_1000.cold (new store, incl. Keystone auth)",
                    time.perf_counter() - t0, "s")
        measure(results, "swift", store, n, target_first_page=0.3)


def run(results: Results, n: int) -> None:
    run_local(results, n)
    run_swift(results, n)
