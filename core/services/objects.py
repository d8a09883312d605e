"""Reading typed objects for the pages: whatever goes wrong while decoding, the error is one type naming the object.

A damaged, truncated or unexpected object raises :class:`core.errors.DamagedObject`, and one that would expand past
the configured :class:`core.settings.ReadLimits` raises :class:`core.errors.ObjectTooLarge` (a ``DamagedObject``),
before it is decoded where the format allows.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from core.errors import DamagedObject, ObjectTooLarge, UnsafePickleError
from core.serialize import load_management, parquet_to_frame
from core.settings import ReadLimits
from core.store.base import ObjectMetadata, ObjectStore
from core.units import iec_size


def read_frame(store: ObjectStore, bucket: str, name: str, limits: ReadLimits | None = None) -> pd.DataFrame:
    """A parquet object as a frame within ``limits``.

    Raises:
        ObjectTooLarge: more rows or decoded bytes than the limits allow.
        DamagedObject: not a readable parquet object.
    """
    return read_frame_and_metadata(store, bucket, name, limits)[0]


def read_frame_and_metadata(store: ObjectStore, bucket: str, name: str, limits: ReadLimits | None = None
                            ) -> tuple[pd.DataFrame, ObjectMetadata]:
    """:func:`read_frame` and the object's metadata, both from one GET (no HEAD needed to describe it)."""
    meta, data = store.get_object(bucket, name)
    try:
        return parquet_to_frame(data, limits), meta
    except ObjectTooLarge as exc:
        raise ObjectTooLarge(exc.reason, bucket=bucket, obj=name) from None
    except ValueError as exc:
        raise DamagedObject(str(exc), bucket=bucket, obj=name) from None


def read_management(store: ObjectStore, bucket: str, name: str, limits: ReadLimits | None = None) -> dict[str, Any]:
    """A management object (JSON, or the seed's pickle read safely), refused unread when over the size limit.

    Raises:
        ObjectTooLarge: the object is over ``limits.management_bytes``.
        DamagedObject: not JSON or a pickle of plain data (a pickle that calls anything is refused unexecuted).
    """
    limits = limits or ReadLimits()
    data = _read_within(store, bucket, name, limits.management_bytes, "MANAGEMENT_LIMIT_MB")
    try:
        return load_management(data)
    except UnsafePickleError as exc:
        raise DamagedObject(f"unsafe pickle refused: {exc}", bucket=bucket, obj=name) from None
    except ValueError as exc:
        raise DamagedObject(str(exc), bucket=bucket, obj=name) from None


def _read_within(store: ObjectStore, bucket: str, name: str, limit: int, setting: str) -> bytes:
    """The whole object in one GET, refused once it is known to be over ``limit`` bytes.

    Its length is known before the body is read; should storage not say, reading stops past the limit (the rest is
    never downloaded).
    """
    meta, chunks = store.stream_object(bucket, name)
    data = bytearray()
    try:
        size = meta.size
        if size <= limit:
            for chunk in chunks:
                data.extend(chunk)
                if len(data) > limit:
                    size = len(data)
                    break
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()  # frees the connection of an object left unread
    if size > limit or len(data) > limit:
        raise ObjectTooLarge(f"{iec_size(max(size, len(data)))}; the limit is {iec_size(limit)} ({setting})",
                             bucket=bucket, obj=name)
    return bytes(data)
