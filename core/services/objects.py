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
from core.store.base import ObjectStore
from core.units import iec_size


def read_frame(store: ObjectStore, bucket: str, name: str, limits: ReadLimits | None = None) -> pd.DataFrame:
    """A parquet object as a frame within ``limits``.

    Raises:
        ObjectTooLarge: more rows or decoded bytes than the limits allow.
        DamagedObject: not a readable parquet object.
    """
    data = store.get_object(bucket, name)[1]
    try:
        return parquet_to_frame(data, limits)
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
    size = store.head_object(bucket, name).size
    if size > limits.management_bytes:
        raise ObjectTooLarge(f"{iec_size(size)}; the limit is {iec_size(limits.management_bytes)} "
                             "(MANAGEMENT_LIMIT_MB)", bucket=bucket, obj=name)
    data = store.get_object(bucket, name)[1]
    if len(data) > limits.management_bytes:  # replaced by a bigger version between the HEAD and the GET
        raise ObjectTooLarge(f"{iec_size(len(data))}; the limit is {iec_size(limits.management_bytes)} "
                             "(MANAGEMENT_LIMIT_MB)", bucket=bucket, obj=name)
    try:
        return load_management(data)
    except UnsafePickleError as exc:
        raise DamagedObject(f"unsafe pickle refused: {exc}", bucket=bucket, obj=name) from None
    except ValueError as exc:
        raise DamagedObject(str(exc), bucket=bucket, obj=name) from None
