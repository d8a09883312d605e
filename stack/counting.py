"""A store that counts what is asked of it: the spy of the tests and benchmarks that prove what a view costs.

:class:`CountingStore` wraps any :class:`core.store.base.ObjectStore` and passes every call through, counting it in
:class:`Calls` by operation and the object it names (``list_objects`` and ``iter_objects``: the prefix listed).
Several stores may share one :class:`Calls`, as the dashboard builds a new store on every run of a page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from core.store.base import ObjectEntry, ObjectMetadata, ObjectStore

#: Operations that read an object's bytes (``get_objects`` is counted once per object it reads).
READS = ("get_object", "get_objects", "stream_object")


@dataclass
class Calls:
    """Calls per (operation, object name or listed prefix)."""

    counter: Counter[tuple[str, str]] = field(default_factory=Counter)

    def of(self, *operations: str, prefix: str = "") -> dict[str, int]:
        """Calls of ``operations`` per object name (or listed prefix) that starts with ``prefix``."""
        out: Counter[str] = Counter()
        for (operation, name), count in self.counter.items():
            if operation in operations and name.startswith(prefix):
                out[name] += count
        return dict(out)

    def reads(self, prefix: str = "") -> dict[str, int]:
        """Whole-object reads (GETs) per object name that starts with ``prefix``."""
        return self.of(*READS, prefix=prefix)

    def total(self, *operations: str) -> int:
        """How many calls of ``operations`` were made."""
        return sum(count for (operation, _), count in self.counter.items() if operation in operations)

    def clear(self, *operations: str) -> None:
        """Forget the calls of ``operations`` (of every operation when none is named)."""
        for key in [k for k in self.counter if not operations or k[0] in operations]:
            del self.counter[key]


def _target(operation: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    if operation in ("list_objects", "iter_objects"):
        return str(kwargs.get("prefix", ""))
    if len(args) > 1:
        return str(args[1])
    return str(kwargs.get("name", ""))


class CountingStore:
    """``inner`` with every call counted in :attr:`calls`."""

    def __init__(self, inner: ObjectStore, calls: Calls | None = None) -> None:
        self.inner = inner
        self.calls = Calls() if calls is None else calls

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name.startswith("_") or not callable(attr):
            return attr
        return self._counted(name, attr)

    def _counted(self, operation: str, call: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(call)
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls.counter[(operation, _target(operation, args, kwargs))] += 1
            return call(*args, **kwargs)

        return counted

    def get_objects(self, bucket: str, names: Sequence[str]) -> Iterator[tuple[str, ObjectMetadata, bytes]]:
        """Counted once per object, as a GET each."""
        for name in names:
            self.calls.counter[("get_objects", name)] += 1
        return self.inner.get_objects(bucket, names)

    def iter_objects(self, bucket: str, *, prefix: str = "") -> Iterator[ObjectEntry]:
        """Counted, and paged through this store's counted ``list_objects`` (as every backend pages)."""
        self.calls.counter[("iter_objects", prefix)] += 1
        return ObjectStore.iter_objects(self, bucket, prefix=prefix)
