"""Reading typed objects for the pages: any decoding problem names the object it came from."""

from __future__ import annotations

from typing import Any

import pandas as pd

from core.serialize import load_management, parquet_to_frame
from core.store.base import ObjectStore


def read_frame(store: ObjectStore, bucket: str, name: str) -> pd.DataFrame:
    """A parquet object as a frame; a damaged or non-parquet object raises ValueError naming ``bucket/name``."""
    data = store.get_object(bucket, name)[1]
    try:
        return parquet_to_frame(data)
    except ValueError as exc:
        raise ValueError(f"{bucket}/{name}: {exc}") from None


def read_management(store: ObjectStore, bucket: str, name: str) -> dict[str, Any]:
    """A management object (JSON, or the seed's pickle read safely); errors name ``bucket/name``."""
    data = store.get_object(bucket, name)[1]
    try:
        return load_management(data)
    except ValueError as exc:
        raise ValueError(f"{bucket}/{name}: {exc}") from None
