"""A ledger of things done once (a notification sent), kept in storage, with a claim that needs no conditional create.

Layout under a folder ``<prefix>`` of one bucket:

- ``<prefix>items/<digest>/sent``: the thing keyed ``key`` (``digest`` = SHA-256 of the key) is done; its body is
  a JSON record (the key, when, what was sent). A listing of ``<prefix>items/`` tells every key done.
- ``<prefix>items/<digest>/claim-<stamp>-<random>``: a writer is about to do it. ``stamp`` is the writer's clock in
  nanoseconds when it started the PUT, ``random`` 64 random bits.
- ``<prefix>log/<stream>/<stamp>-<random>``: one object per message sent on a stream (a channel), counted by the
  stamp in its name (no GET) for a limit per hour; a count lists only the period's names (its marker is the
  period's first stamp).

Neither Swift nor Ceph RGW makes ``If-None-Match`` atomic under concurrent PUTs (see :mod:`core.store.versioning`),
so "create if absent" cannot decide who does a thing. The claim decides by time instead:

1. a writer PUTs its claim and measures the PUT; a claim whose PUT took longer than half of ``settle`` is withdrawn
   (deleted) and the key is left for a later run: only claims that landed within ``settle / 2`` of their stamp count;
2. it waits ``settle`` after its last PUT and lists the keys again;
3. it wins a key when no ``sent`` is listed and no other live claim has an earlier stamp (a claim older than
   ``lease`` without ``sent`` belongs to a writer that crashed: it no longer counts). A writer that loses deletes
   its claim.

Why at most one writer wins: if X's stamp is earlier than Y's and X's claim counts, X's claim landed before
``stamp_X + settle/2 < stamp_Y + settle``, and Y lists no earlier than ``settle`` after its own claim landed, so Y
lists X's claim and yields. The earliest counting claim sees no earlier one and wins. This holds while the writers'
clocks agree to within ``settle / 2`` (NTP keeps hosts within milliseconds) and a listing shows an object once its
PUT has returned (Swift's container update is synchronous on a healthy cluster). A writer that fails after winning
deletes its claim without writing ``sent``, so the next run tries again; one that crashed blocks the key for
``lease``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from core.errors import NotFound
from core.store.base import ObjectStore
from core.store.listing import objects_under

_STAMP_DIGITS = 20
_NS = 1_000_000_000


def digest(key: str) -> str:
    """The folder name of a key: 32 hex digits of its SHA-256 (keys may hold any character)."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _stamp_of(name: str, marker: str) -> int | None:
    """The nanosecond stamp in ``…/<marker><stamp>-<random>``, or None for a name of another shape."""
    tail = name.rsplit("/", 1)[-1]
    if not tail.startswith(marker):
        return None
    stamp = tail[len(marker):].split("-", 1)[0]
    return int(stamp) if stamp.isdigit() else None


@dataclass(frozen=True)
class Claim:
    """A claim this writer holds on a key."""

    key: str
    name: str


@dataclass
class Scan:
    """One listing of the ledger's items: the keys done (by digest) and the claims per digest."""

    sent: set[str] = field(default_factory=set)
    claims: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


class Ledger:
    """What was done, in ``bucket`` under ``prefix``, and the claims that make two writers do it once."""

    def __init__(self, store: ObjectStore, bucket: str, prefix: str, *, settle: float, lease: float,
                 clock: Callable[[], int] = time.time_ns, sleep: Callable[[float], None] = time.sleep) -> None:
        self.store = store
        self.bucket = bucket
        self.prefix = prefix if prefix.endswith("/") else prefix + "/"
        self.settle = settle
        self.lease = lease
        self._clock = clock
        self._sleep = sleep

    def _item(self, key: str) -> str:
        return f"{self.prefix}items/{digest(key)}/"

    def scan(self) -> Scan:
        """One listing of the items (paged by the store): what was sent and the claims in flight."""
        scan = Scan()
        items = f"{self.prefix}items/"
        for entry in objects_under(self.store, self.bucket, items):
            folder, _, leaf = entry.name[len(items):].partition("/")
            if leaf == "sent":
                scan.sent.add(folder)
            elif leaf.startswith("claim-"):
                scan.claims[folder].append(entry.name)
        return scan

    def done(self, keys: Iterable[str], scan: Scan | None = None) -> set[str]:
        """Which of ``keys`` are recorded as done."""
        scan = scan or self.scan()
        return {key for key in keys if digest(key) in scan.sent}

    def messages_since(self, stream: str, seconds: float) -> int:
        """How many messages were logged on ``stream`` in the last ``seconds``.

        The log's names start with their time, so the listing starts at the first name of the period: older
        messages are never listed again.
        """
        folder = f"{self.prefix}log/{stream}/"
        marker: str | None = f"{folder}{self._clock() - int(seconds * _NS):0{_STAMP_DIGITS}d}"
        count = 0
        try:
            while marker is not None:
                page = self.store.list_objects(self.bucket, prefix=folder, marker=marker)
                count += sum(1 for entry in page.objects if _stamp_of(entry.name, "") is not None)
                marker = page.next_marker
        except NotFound:  # no bucket yet: nothing was sent
            return 0
        return count

    def claim(self, keys: Iterable[str]) -> list[Claim]:
        """Claim the keys not done yet; returns the claims this writer won (see the module docstring)."""
        before = self.scan()
        own: list[Claim] = []
        for key in dict.fromkeys(keys):
            if digest(key) in before.sent:
                continue
            stamp = self._clock()
            name = f"{self._item(key)}claim-{stamp:0{_STAMP_DIGITS}d}-{secrets.token_hex(8)}"
            began = time.monotonic()
            self.store.put_object(self.bucket, name, b"", content_type="application/octet-stream")
            if time.monotonic() - began > self.settle / 2:  # landed too late to be ordered by its stamp
                self._withdraw(name)
                continue
            own.append(Claim(key, name))
        if not own:
            return []
        self._sleep(self.settle)
        after = self.scan()
        now = self._clock()
        won: list[Claim] = []
        for claim in own:
            folder = digest(claim.key)
            mine = (_stamp_of(claim.name, "claim-") or 0, claim.name)
            earlier = [
                name for name in after.claims.get(folder, [])
                if ((stamp := _stamp_of(name, "claim-") or 0), name) < mine and now - stamp < self.lease * _NS
            ]
            if folder in after.sent or earlier:
                self._withdraw(claim.name)
            else:
                won.append(claim)
        return won

    def complete(self, claim: Claim, record: Mapping[str, object]) -> None:
        """Record the claimed key as done (``sent`` with ``record``), then drop the claim."""
        body = json.dumps({"key": claim.key, **record}, default=str, sort_keys=True).encode()
        self.store.put_object(self.bucket, f"{self._item(claim.key)}sent", body, content_type="application/json")
        self._withdraw(claim.name)

    def release(self, claim: Claim) -> None:
        """Give a claim up without doing the thing: the next run may claim the key again."""
        self._withdraw(claim.name)

    def log_message(self, stream: str, record: Mapping[str, object]) -> None:
        """Log one message sent on ``stream`` (counted by :meth:`messages_since`)."""
        name = f"{self.prefix}log/{stream}/{self._clock():0{_STAMP_DIGITS}d}-{secrets.token_hex(8)}"
        self.store.put_object(self.bucket, name, json.dumps(record, default=str, sort_keys=True).encode(),
                              content_type="application/json")

    def _withdraw(self, name: str) -> None:
        with contextlib.suppress(NotFound):
            self.store.delete_object(self.bucket, name)
