"""core.services.runs: what each stored SACCT run is (platform, rows, stored time), newest first."""

from __future__ import annotations

import time

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
    infos = runs.describe_runs(store, bucket, listed)
    assert {i.platform for i in infos} == {"mahti"} and {i.rows for i in infos} == {7}
    table = runs.run_table(infos, "Europe/Helsinki")
    assert list(table.columns[:3]) == ["run", "platform", "cluster"]
    assert str(table["stored"].dt.tz) == "Europe/Helsinki" and table["rows"].tolist() == [7, 7, 7]


def test_metadata_platform_is_never_taken_as_free_text(store: LocalStore, settings: Settings) -> None:
    bucket = sacct.forwarder_bucket(settings)
    store.put_object(bucket, "ARTIFACTS/SACCT/x.parquet", b"x", metadata={"platform": "<b>lumi</b>"})
    info = runs.describe_runs(store, bucket, sacct.list_runs(store, settings))[0]
    assert info.platform == "other" and info.rows is None
