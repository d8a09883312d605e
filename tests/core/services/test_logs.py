"""core.services.logs: finding, ordering and reading Slurm logs."""

from __future__ import annotations

from core.services import logs, times
from core.settings import Settings
from core.store.local import LocalStore


def test_logs_search_tail_and_counts() -> None:
    text = "start\nslurmstepd: error: *** JOB 1 CANCELLED AT x ***\nWARNING: low\nend\n"
    assert [b.hit_lines for b in logs.search_blocks(text, "cancelled")] == [[2]]
    assert logs.tail(text, 2) == "WARNING: low\nend"
    # The cancel line mentions "error" too: it is counted once, as a cancelled line.
    assert logs.highlights(text) == {"lines": 4, "errors": 0, "warnings": 1, "cancelled": 1}


def test_log_list_orders_by_job_and_labels_kinds(store: LocalStore, settings: Settings) -> None:
    bucket = times.pipeline_bucket(settings)
    for name in ("LOGS/slurm-20.out", "LOGS/slurm-3.out", "LOGS/seff-3.txt", "LOGS/slurm-7_2.err", "LOGS/notes.md"):
        store.put_object(bucket, name, b"x")
    refs = logs.list_logs(store, settings)
    assert [(r.job_id, r.kind) for r in refs] == [
        ("notes.md", "file"), ("3", "seff report"), ("3", "output"), ("7_2", "error output"), ("20", "output")]


def test_search_and_error_blocks_carry_context_and_merge_overlaps() -> None:
    lines = [f"line {i}" for i in range(1, 21)]
    lines[4] = "Traceback (most recent call last):"  # line 5
    lines[6] = "RuntimeError: boom"  # line 7, its window overlaps line 5's
    lines[15] = "pip install exceptiongroup"  # a package name, not an error
    lines[17] = "slurmstepd: error: *** JOB 9 CANCELLED AT x ***"  # line 18
    text = "\n".join(lines)
    blocks = logs.error_blocks(text)
    assert [b.hit_lines for b in blocks] == [[5, 7], [18]]
    assert [n for n, _, _ in blocks[0].lines] == [3, 4, 5, 6, 7, 8, 9]
    assert [n for n, _, _ in blocks[1].lines] == [16, 17, 18, 19, 20]  # stops at the end of the log
    assert blocks[1].as_text().splitlines()[2] == f">{18:>6}  {lines[17]}"
    assert blocks[1].as_text().splitlines()[0] == f" {16:>6}  {lines[15]}"
    # "line 20" holds no "line 1"; lines 16 and 18 were replaced above.
    assert [b.hit_lines for b in logs.search_blocks(text, "LINE 1")] == [[1], [10, 11, 12, 13, 14, 15, 17, 19]]
    assert logs.search_blocks(text, "") == []
    assert logs.context_blocks(lines, list(range(20)), context=0, limit=1)[0].hit_lines == list(range(1, 21))


def test_window_around_a_line_and_a_line_past_the_end() -> None:
    text = "\n".join(f"l{i}" for i in range(1, 31))
    around = logs.window(text, 15, context=3)
    assert [n for n, _, _ in around.lines] == [12, 13, 14, 15, 16, 17, 18] and around.hit_lines == [15]
    assert [n for n, _, _ in logs.window(text, 1, context=3).lines] == [1, 2, 3, 4]
    try:
        logs.window(text, 31)
    except ValueError as exc:
        assert "line 31 is not in this log (30 lines)" in str(exc)
    else:
        raise AssertionError("a line past the end was accepted")
