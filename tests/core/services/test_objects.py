"""core.services.objects: typed reads whose errors name the object they came from."""

from __future__ import annotations

import pandas as pd
import pytest

from core.errors import DamagedObject
from core.serialize import frame_to_parquet
from core.services import objects
from core.store.local import LocalStore


def test_a_frame_reads_back_and_a_damaged_one_is_named(store: LocalStore) -> None:
    store.put_object("b", "ARTIFACTS/ok.parquet", frame_to_parquet(pd.DataFrame({"a": [1, 2]})))
    assert objects.read_frame(store, "b", "ARTIFACTS/ok.parquet")["a"].tolist() == [1, 2]
    store.put_object("b", "ARTIFACTS/bad.parquet", b"not parquet at all")
    with pytest.raises(DamagedObject, match=r"\(object b/ARTIFACTS/bad\.parquet\)$"):
        objects.read_frame(store, "b", "ARTIFACTS/bad.parquet")


def test_a_management_object_reads_back_and_a_damaged_one_is_named(store: LocalStore) -> None:
    store.put_object("b", "MANAGEMENT/1.json", b'{"name": "x", "platforms": {}}')
    assert objects.read_management(store, "b", "MANAGEMENT/1.json")["name"] == "x"
    store.put_object("b", "MANAGEMENT/2.json", b"{broken")
    with pytest.raises(DamagedObject, match=r"\(object b/MANAGEMENT/2\.json\)$"):
        objects.read_management(store, "b", "MANAGEMENT/2.json")
