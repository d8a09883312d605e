"""core.services.upload: run names, the size limit, parsing and versioned storing of an upload."""

from __future__ import annotations

import pytest

from core.errors import Conflict, InputTooLarge
from core.serialize import parquet_to_frame
from core.services import upload
from core.settings import Settings
from core.store.local import LocalStore
from tests import samples


def test_upload_names_sizes_versions(store: LocalStore, settings: Settings) -> None:
    assert upload.run_name("  mahti ray  2024 ") == "mahti-ray-2024"
    for bad in ("", "../x", "a/b", "-x", "x" * 81):
        with pytest.raises(ValueError, match="run name"):
            upload.run_name(bad)
    with pytest.raises(InputTooLarge, match="UPLOAD_LIMIT_MB"):
        upload.check_size(settings.upload_limit_bytes + 1, settings)
    parsed = upload.parse_upload(samples.sacct("09_tdhock_parsable2_multiuser.txt").read_bytes(), settings)
    first = upload.store_run(store, settings, "cedar", parsed)
    assert first.version == 1 and first.object == "ARTIFACTS/SACCT/user-example-com-cedar.parquet"
    with pytest.raises(Conflict):
        upload.store_run(store, settings, "cedar", parsed)
    second = upload.store_run(store, settings, "cedar", parsed, replace=True)
    assert second.version == 2 and upload.current_version(store, settings, "cedar") == 2
    assert len(parquet_to_frame(store.get_object("mlch-for-air", first.object)[1])) == 572
    jobs = upload.preview_jobs(parsed)
    assert jobs is not None and len(jobs) == 448
