"""The pages as a user reads them: sizes that sort as numbers and read in binary units, one unit system per table,
chart units chosen from the data, readable logs and advice."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from core.sacct import parse_sacct
from core.serialize import frame_to_parquet
from core.store.local import LocalStore
from tests.dashboard.conftest import shown_table, texts

OpenPage = Callable[..., AppTest]

#: Sizes whose text sorts in another order than their numbers: 0 B, 14.29 KiB, 46.95 KiB, 2.12 MiB.
SIZES = {"a-empty": 0, "b-big": 2_222_981, "c-small": 14_633, "d-medium": 48_077}
SHOWN = {0: "0 B", 14_633: "14.29 KiB", 48_077: "46.95 KiB", 2_222_981: "2.12 MiB"}


def _no_trouble(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _seed_sizes(store_dir: Path) -> None:
    store = LocalStore(store_dir)
    for name, size in SIZES.items():
        store.put_object(f"zz-sizes-{name}", "object", b"x" * size)  # one bucket of each size
        store.put_object("zz-sizes", f"{name}.bin", b"x" * size)
        store.put_object("mlch-pipe-user-example-com", f"LOGS/slurm-{9_000_000 + size}.out", b"x" * size)


def test_bucket_and_object_sizes_are_numbers_shown_in_binary_units(open_page: OpenPage, store_dir: Path) -> None:
    _seed_sizes(store_dir)
    at = open_page("views/buckets.py")
    _no_trouble(at)
    buckets = at.dataframe[0].value.set_index("bucket")
    for name, size in SIZES.items():
        assert buckets.loc[f"zz-sizes-{name}", "size"] == size  # a number: a header click sorts numbers
    assert pd.api.types.is_integer_dtype(buckets["size"].dtype)
    shown = shown_table(at, 0)
    data = at.dataframe[0].value
    for row in range(len(data)):
        if data["bucket"].iat[row].startswith("zz-sizes-"):
            assert shown["size"].iat[row] == SHOWN[int(data["size"].iat[row])]

    at.selectbox(key="bucket").set_value("zz-sizes").run()
    _no_trouble(at)
    objects = at.dataframe[1].value
    assert objects["size"].tolist() == [SIZES[n.removesuffix(".bin")] for n in objects["name"]]
    assert shown_table(at, 1)["size"].tolist() == [SHOWN[s] for s in objects["size"]]


def test_log_sizes_are_numbers_shown_in_binary_units(open_page: OpenPage, store_dir: Path) -> None:
    _seed_sizes(store_dir)
    at = open_page("views/logs.py")
    _no_trouble(at)
    logs = at.dataframe[0].value
    ours = logs[logs["job"].isin([str(9_000_000 + s) for s in SIZES.values()])]
    assert sorted(ours["size"].tolist()) == sorted(SIZES.values())
    assert pd.api.types.is_integer_dtype(logs["size"].dtype)
    shown = shown_table(at, 0)
    assert [shown["size"].iat[i] for i in ours.index] == [SHOWN[s] for s in ours["size"]]


_SIZE_TEXT = r"(\d+ B|\d+\.\d\d [KMGTP]iB)"


def test_management_workspaces_use_one_unit_system(open_page: OpenPage) -> None:
    at = open_page("views/management.py")
    _no_trouble(at)
    spaces = [d.value for d in at.dataframe if "capacity" in getattr(d.value, "columns", [])]
    assert spaces and sum(len(s) for s in spaces) > 0
    for table in spaces:
        for capacity, files in zip(table["capacity"], table["files"], strict=True):
            # Binary sizes, as seff and sacct --units print them ("3.045G / 10G" mixed the listing's own units).
            assert re.fullmatch(f"{_SIZE_TEXT} / {_SIZE_TEXT}", capacity), capacity
            # Counts with thousands separators (".97k / 100k" was the listing's text).
            assert re.fullmatch(r"\d{1,3}(,\d{3})* / \d{1,3}(,\d{3})*", files), files


def _store_run(store_dir: Path, run: str, text: str) -> None:
    frame = parse_sacct(text).frame
    LocalStore(store_dir).put_object("mlch-for-air", f"ARTIFACTS/SACCT/user-example-com-{run}.parquet",
                                     frame_to_parquet(frame), metadata={"version": 1, "platform": "other"})


#: A job that ran well: no finding (CPU and memory used, time close to the limit).
_GOOD_JOB = ("JobID|JobName|State|Elapsed|Timelimit|AllocCPUS|TotalCPU|ReqMem|MaxRSS|NTasks\n"
             "777001|train|COMPLETED|00:55:00|01:00:00|1|00:54:00|1000M|\n"
             "777001.batch|batch|COMPLETED|00:55:00||1|00:54:00||900M|1\n")


def test_job_page_names_each_run_it_links_to_and_says_no_finding_plainly(open_page: OpenPage, store_dir: Path
                                                                         ) -> None:
    for run in ("first-try", "second-try"):
        _store_run(store_dir, run, _GOOD_JOB)
    at = open_page("views/job.py", params={"job": "777001"})
    _no_trouble(at)
    labels = [link.proto.label for link in at.get("page_link") if "SACCT" in link.proto.label]
    assert len(labels) == 2 and len(set(labels)) == 2, labels  # not two identical "Open the run in SACCT"
    assert any("first" in label for label in labels) and any("second" in label for label in labels)
    shown = texts(at)
    assert "No finding for this job." in shown
    assert "No finding:" not in shown


def test_one_finding_is_one_finding(open_page: OpenPage, store_dir: Path) -> None:
    _store_run(store_dir, "oom", "JobID|JobName|State|Elapsed|AllocCPUS|ReqMem|MaxRSS\n"
                                 "777002|train|OUT_OF_MEMORY|00:10:00|1|100M|\n")
    at = open_page("views/sacct.py", params={"runs": "user-example-com-oom", "view": "Findings"})
    _no_trouble(at)
    assert [h.value for h in at.subheader if "finding" in h.value] == ["1 finding on 1 of 1 jobs"]


_COLOURED_LOG = ("\x1b[1m ray stop \x1b[22m\n"
                 "\x1b[31mERROR\x1b[0m worker died\n"
                 "warning: low disk\n"
                 "slurmstepd: error: *** JOB 9100001 ON c1 CANCELLED AT 2024-05-01T10:00:00 DUE TO TIME LIMIT ***\n"
                 + "x" * 400 + " end of a long line\n")


def test_logs_read_without_colour_codes_wrap_and_count_each_line_once(open_page: OpenPage, store_dir: Path) -> None:
    LocalStore(store_dir).put_object("mlch-pipe-user-example-com", "LOGS/slurm-9100001.out",
                                     _COLOURED_LOG.encode())
    at = open_page("views/logs.py", params={"object": "LOGS/slurm-9100001.out"})
    _no_trouble(at)
    boxes = [c for c in at.code if "ray stop" in c.value]
    assert boxes and all("\x1b" not in c.value and "[1m" not in c.value for c in boxes)
    assert " ray stop " in boxes[0].value
    assert all(c.proto.wrap_lines for c in at.code)  # a 400-character line wraps instead of scrolling sideways
    metrics = {m.label: m.value for m in at.metric}
    # The cancel line says "error" too: it is one cancelled line, not also an error line.
    assert (metrics["Lines"], metrics["Errors"], metrics["Warnings"], metrics["Cancelled"]) == ("5", "1", "1", "1")
