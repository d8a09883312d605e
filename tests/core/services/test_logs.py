"""core.services.logs: finding, ordering and reading Slurm logs."""

from __future__ import annotations

from core.services import logs, times
from core.settings import Settings
from core.store.local import LocalStore


def test_logs_search_tail_and_counts() -> None:
    text = "start\nslurmstepd: error: *** JOB 1 CANCELLED AT x ***\nWARNING: low\nend\n"
    assert logs.search(text, "cancelled") == [(2, "slurmstepd: error: *** JOB 1 CANCELLED AT x ***")]
    assert logs.tail(text, 2) == "WARNING: low\nend"
    assert logs.highlights(text) == {"lines": 4, "errors": 1, "warnings": 1, "cancelled": 1}


def test_log_list_orders_by_job_and_labels_kinds(store: LocalStore, settings: Settings) -> None:
    bucket = times.pipeline_bucket(settings)
    for name in ("LOGS/slurm-20.out", "LOGS/slurm-3.out", "LOGS/seff-3.txt", "LOGS/slurm-7_2.err", "LOGS/notes.md"):
        store.put_object(bucket, name, b"x")
    refs = logs.list_logs(store, settings)
    assert [(r.job_id, r.kind) for r in refs] == [
        ("notes.md", "file"), ("3", "seff report"), ("3", "output"), ("7_2", "error output"), ("20", "output")]
