"""The ledger of things done once: concurrent writers agree on one winner per key, on the local store and Swift."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from core.store.base import ObjectStore
from core.store.ledger import Ledger, digest

PREFIX = "MANAGEMENT/notify/"


def settle(store: ObjectStore) -> float:
    """Long enough for a claim PUT to land within half of it: Swift on a shared loopback machine takes longer."""
    return 0.4 if store.kind == "local" else 4.0


def ledger(store: ObjectStore, bucket: str, **kw: Any) -> Ledger:
    return Ledger(store, bucket, PREFIX, settle=settle(store), lease=60, **kw)


def test_a_key_done_is_not_claimed_again_and_a_released_one_is(store: ObjectStore, bucket: str) -> None:
    book = ledger(store, bucket)
    won = book.claim(["webhook:job:a:1", "webhook:job:a:2", "webhook:job:a:1"])
    assert [c.key for c in won] == ["webhook:job:a:1", "webhook:job:a:2"]
    book.complete(won[0], {"subject": "FAILED: job 1"})
    book.release(won[1])
    assert book.done(["webhook:job:a:1", "webhook:job:a:2"]) == {"webhook:job:a:1"}
    names = sorted(e.name for e in store.iter_objects(bucket, prefix=PREFIX))
    assert names == [f"{PREFIX}items/{digest('webhook:job:a:1')}/sent"]  # no claim left behind
    again = ledger(store, bucket).claim(["webhook:job:a:1", "webhook:job:a:2"])  # a restart: a new writer
    assert [c.key for c in again] == ["webhook:job:a:2"]


def test_concurrent_writers_win_each_key_once(store: ObjectStore, bucket: str) -> None:
    keys = [f"email:job:run:{i}" for i in range(6)]
    wins: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def writer() -> None:
        book = ledger(store, bucket)
        start.wait()
        for claim in book.claim(keys):
            book.complete(claim, {})
            with lock:
                wins.append(claim.key)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counts = Counter(wins)
    assert all(counts[key] <= 1 for key in keys), counts
    assert ledger(store, bucket).done(keys) == set(counts)


class SlowPuts:
    """A store whose claim PUTs take ``delay`` seconds (a congested link)."""

    def __init__(self, store: ObjectStore, delay: float) -> None:
        self._store, self.delay = store, delay

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def put_object(self, bucket: str, name: str, data: bytes, **kw: Any) -> None:
        if "/claim-" in name:
            time.sleep(self.delay)
        self._store.put_object(bucket, name, data, **kw)


def test_a_claim_that_landed_late_is_withdrawn(store: ObjectStore, bucket: str) -> None:
    slow = ledger(SlowPuts(store, settle(store) / 2 + 0.3), bucket)  # type: ignore[arg-type]
    assert slow.claim(["webhook:x"]) == []
    assert list(store.iter_objects(bucket, prefix=PREFIX)) == []  # withdrawn: nothing blocks the next run
    assert [c.key for c in ledger(store, bucket).claim(["webhook:x"])] == ["webhook:x"]


def test_an_earlier_live_claim_wins_and_a_stale_one_does_not(store: ObjectStore, bucket: str) -> None:
    folder = f"{PREFIX}items/{digest('webhook:y')}/"
    now = time.time_ns()
    store.put_object(bucket, f"{folder}claim-{now - 10**9:020d}-00", b"")  # a writer one second ahead of us
    assert ledger(store, bucket).claim(["webhook:y"]) == []
    store.delete_object(bucket, f"{folder}claim-{now - 10**9:020d}-00")
    store.put_object(bucket, f"{folder}claim-{now - 120 * 10**9:020d}-00", b"")  # crashed two minutes ago
    assert [c.key for c in ledger(store, bucket).claim(["webhook:y"])] == ["webhook:y"]


def test_messages_are_counted_per_channel_in_the_last_hour(store: ObjectStore, bucket: str) -> None:
    clock = [time.time_ns() - 2 * 3600 * 10**9]
    book = ledger(store, bucket, clock=lambda: clock[0])
    book.log_message("webhook", {"subject": "old"})
    clock[0] = time.time_ns()
    book.log_message("webhook", {"subject": "new"})
    book.log_message("email", {"subject": "new"})
    assert book.messages_since("webhook", 3600) == 1
    assert book.messages_since("email", 3600) == 1
    assert book.messages_since("webhook", 3 * 3600) == 2
