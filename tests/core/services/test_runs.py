"""core.services.runs: what each stored SACCT run is (platform, rows, stored time), newest first."""

from __future__ import annotations

import time

import pytest

from core.services import runs, sacct, upload
from core.settings import Settings
from core.store.local import LocalStore
from tests import samples


def test_runs_list_newest_stored_first_with_platform_rows_and_time(store: LocalStore, settings: Settings) -> None:
    parsed = upload.parse_upload(samples.sacct("05_torchx_hetjob_parsable.txt").read_bytes(), settings)
    for name in ("zeta", "alpha", "mid"):  # stored in this order: the newest first is not name order
        upload.store_run(store, settings, name, parsed, platform="mahti")
        time.sleep(0.05)
    bucket = sacct.forwarder_bucket(settings)
    listed = sacct.list_runs(store, settings)
    assert [r.name.removeprefix("user-example-com-") for r in listed] == ["mid", "alpha", "zeta"]
    assert sacct.default_runs(listed, limit=2) == [r.name for r in listed[:2]]
    infos = [runs.load_described_run(store, bucket, r.object)[1] for r in listed]
    assert [i.name for i in infos] == [r.name for r in listed]
    assert {i.platform for i in infos} == {"mahti"} and {i.rows for i in infos} == {7}
    table = runs.run_table(infos, "Europe/Helsinki")
    assert list(table.columns[:3]) == ["run", "platform", "cluster"]
    assert str(table["stored"].dt.tz) == "Europe/Helsinki" and table["rows"].tolist() == [7, 7, 7]


def test_metadata_platform_is_never_taken_as_free_text(store: LocalStore, settings: Settings) -> None:
    bucket = sacct.forwarder_bucket(settings)
    store.put_object(bucket, "ARTIFACTS/SACCT/x.parquet", b"x", metadata={"platform": "<b>lumi</b>"})
    info = runs.run_info("x", store.head_object(bucket, "ARTIFACTS/SACCT/x.parquet"))
    assert info.platform == "other" and info.rows is None


def test_a_run_and_what_it_is_come_from_one_read(store: LocalStore, settings: Settings,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = upload.parse_upload(samples.sacct("05_torchx_hetjob_parsable.txt").read_bytes(), settings)
    upload.store_run(store, settings, "hetjob", parsed, platform="lumi")
    bucket = sacct.forwarder_bucket(settings)
    calls: list[str] = []
    for method in ("head_object", "get_object", "stream_object"):
        original = getattr(store, method)
        monkeypatch.setattr(store, method, lambda *a, _m=method, _o=original, **k: calls.append(_m) or _o(*a, **k))
    frame, info = runs.load_described_run(store, bucket, "ARTIFACTS/SACCT/user-example-com-hetjob.parquet")
    assert calls == ["get_object"]
    assert (info.name, info.platform, info.rows, info.version) == ("user-example-com-hetjob", "lumi", 7, 1)
    assert len(frame) == 7 and set(frame["run"]) == {"user-example-com-hetjob"}
