"""Fixed-width sacct cuts long values with "+": the upload says which fields and lines and how to get whole values,
and the pages that group jobs by such a value say so."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.sacct import parse_sacct
from core.services import upload
from core.settings import load_settings
from core.store.local import LocalStore
from tests.dashboard.conftest import shown, texts

OpenPage = Callable[..., AppTest]

#: sacct's default widths; project_2001234 and project_2005678 both print as "project_2+", and so on.
WIDTHS = {"JobID": 12, "JobName": 10, "Partition": 10, "Account": 10, "AllocCPUS": 10, "State": 10, "ExitCode": 8,
          "Elapsed": 10, "Submit": 19, "Start": 19, "End": 19, "Cluster": 10}
JOBS = [("501", "sleep_pass_a", "project_2001234"), ("502", "sleep_pass_b", "project_2005678"),
        ("503", "sleep_pass_a", "project_2001234"), ("504", "sleep_pass_c", "project_2005678")]


def _fixed_width() -> str:
    def line(values: list[str]) -> str:
        return " ".join(v[:w - 1] + "+" if len(v) > w else v.rjust(w) for v, w in zip(values, WIDTHS.values(),
                                                                                    strict=True)) + " "
    out = [line(list(WIDTHS)), " ".join("-" * w for w in WIDTHS.values()) + " "]
    for n, (job, name, account) in enumerate(JOBS):
        start, end = f"2024-06-03T10:0{n}:00", f"2024-06-03T10:0{n}:30"
        out.append(line([job, name, "small", account, "1", "COMPLETED", "0:0", "00:00:30", start, start, end,
                         "puhti"]))
    return "\n".join(out) + "\n"


def test_upload_warns_which_fields_and_lines_were_cut_and_how_to_get_them_whole(
        open_page: OpenPage, caplog: pytest.LogCaptureFixture) -> None:
    at = open_page("views/upload.py")
    at.text_area(key="upload_text").input(_fixed_width())
    with caplog.at_level(logging.WARNING, logger="core.services.upload"):
        at.button(key="parse").click().run()
    assert not at.exception and not at.error
    note = next(shown(w.value) for w in at.warning if "fixed-width" in shown(w.value))
    assert "Account ('project_2+')" in note and "JobName ('sleep_pas+')" in note
    assert "sacct -P" in note and "Account%30" in note and "JobName%30" in note
    table = next(d.value for d in at.dataframe if "problem" in d.value.columns)
    problems = {str(m).split(":")[0]: (line, m) for line, m in zip(table["line"], table["problem"], strict=True)}
    for field in ("JobName", "Account"):  # one warning per field, at its first cut line, naming every line
        line, message = problems[field]
        assert line == 3 and message.startswith(f"{field}: 4 values truncated by the column width")
        assert "on lines 3, 4, 5, 6" in message and f"{field}%30" in message
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("Account ('project_2+')" in m and "sacct -P" in m for m in logged), logged


def test_parsable_output_ending_in_plus_is_not_called_cut(open_page: OpenPage) -> None:
    at = open_page("views/upload.py")
    at.text_area(key="upload_text").input("JobID|JobName|Account|State\n7|c++|proj+|COMPLETED\n")
    at.button(key="parse").click().run()
    assert not at.exception and not any("fixed-width" in shown(w.value) for w in at.warning)


def _store(store_dir: Path) -> None:
    settings = load_settings(None, {"STORE": "local", "LOCAL_STORE_PATH": str(store_dir)})
    upload.store_run(LocalStore(store_dir), settings, "cut-2024-06", parse_sacct(_fixed_width().encode()))


def test_history_says_when_it_groups_by_truncated_values(open_page: OpenPage, store_dir: Path) -> None:
    _store(store_dir)
    at = open_page("views/history.py", params={"group": "account"})
    assert not at.exception
    assert "Grouped by truncated values: 'project_2+' end in '+'" in shown(texts(at))
    at.selectbox(key="history-group").set_value("platform").run()
    assert "Grouped by truncated values" not in shown(texts(at))


def test_a_sweep_of_a_truncated_name_says_it_may_hold_several_names(open_page: OpenPage, store_dir: Path) -> None:
    _store(store_dir)
    at = open_page("views/sacct.py", params={"runs": "user-example-com-cut-2024-06", "view": "Sweeps"})
    assert not at.exception
    assert at.selectbox(key="sacct-sweep").value.endswith("sleep_pas+")
    assert "'sleep_pas+' end in '+', where fixed-width sacct cut the job name" in shown(texts(at))
