"""A parquet bomb (a few hundred bytes that expand to gigabytes) is refused from its footer and dictionaries before
anything is expanded, the page names it once, and the refusal is cached by etag: the next view decodes nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from streamlit.testing.v1 import AppTest

import core.services.objects as objects
from core.store.local import LocalStore
from tests.dashboard.conftest import shown

OpenPage = Callable[..., AppTest]
FORWARDER = "mlch-for-air"
BOMB = "ARTIFACTS/SACCT/zz-bomb.parquet"


def dictionary_bomb(rows: int = 60_000, width: int = 20_000) -> bytes:
    """One ``width``-character job name repeated ``rows`` times (1.2 GB expanded), dictionary-encoded: ~400 bytes.
    Written without the Arrow schema, so a reader expands it to plain strings."""
    names = pa.DictionaryArray.from_arrays(pa.array([0] * rows, pa.int32()), pa.array(["x" * width]))
    table = pa.table({"job-id": pa.array([str(i) for i in range(rows)]), "job-name": names})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", use_dictionary=True, store_schema=False)
    return bytes(memoryview(sink.getvalue()))


def test_a_dictionary_bomb_is_refused_once_and_the_refusal_is_cached(open_page: OpenPage, store_dir: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    LocalStore(store_dir).put_object(FORWARDER, BOMB, dictionary_bomb())
    decoded: list[int] = []
    real = objects.parquet_to_frame

    def counting(data: bytes, *args: Any) -> Any:
        decoded.append(len(data))
        return real(data, *args)

    monkeypatch.setattr(objects, "parquet_to_frame", counting)
    at = open_page("views/sacct.py")
    at.query_params["runs"] = "zz-bomb"
    at.switch_page("views/sacct.py").run()
    assert not at.exception
    messages = [shown(str(e.value)) for e in (*at.error, *at.warning)]
    named = [m for m in messages if "zz-bomb.parquet" in m]
    assert len(named) == 1 and "when decoded (READ_LIMIT_MB)" in named[0], messages
    first = len(decoded)
    assert first >= 1
    at.run()  # the same version again: the refusal comes from the cache
    assert len(decoded) == first
    assert [shown(str(e.value)) for e in (*at.error, *at.warning) if "zz-bomb.parquet" in shown(str(e.value))]
