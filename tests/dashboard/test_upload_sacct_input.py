"""The Upload page reads the sacct input users produce: any delimiter, headerless lists, broken values, Slurm JSON."""

from __future__ import annotations

import json
from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from tests import samples
from tests.dashboard.conftest import texts

OpenPage = Callable[..., AppTest]


def _upload(at: AppTest, text: str, fields: str = "") -> AppTest:
    at.text_area(key="upload_text").input(text)
    if fields:
        at.text_input(key="upload_fields").input(fields)
    return at.button(key="parse").click().run()


def _fine(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_upload_reads_reportseff_delimiter_with_a_header(open_page: OpenPage) -> None:
    text = ("JobID^|^JobName^|^State^|^Elapsed\n23000233^|^train^|^completed^|^00:01:00\n"
            "23000234^|^eval^|^FAILED^|^00:00:05\n")
    at = _upload(open_page("views/upload.py"), text)
    _fine(at)
    assert "2 rows in parsable2 format" in texts(at)
    preview = at.dataframe[0].value
    assert preview["JobID"].tolist() == ["23000233", "23000234"]
    assert preview["State"].tolist() == ["COMPLETED", "FAILED"]


def test_upload_of_rows_without_job_ids_says_they_are_not_jobs_and_how_to_print_them(open_page: OpenPage) -> None:
    at = _upload(open_page("views/upload.py"), samples.sacct("04_csc_mahti_fixedwidth_split.txt").read_text())
    _fine(at)
    assert "4 rows in fixed-width format" in texts(at)
    [note] = [w.value for w in at.warning if "JobID" in w.value]
    assert note.startswith("The input has no JobID field") and "Keep JobID in sacct's --format" in note
    at = _upload(at, "JobID|State\n1|COMPLETED\n")  # with JobIDs: jobs, and no such note
    assert "1 row in parsable2 format from pasted text: 1 job." in texts(at)  # one row, not "1 rows"
    assert not [w.value for w in at.warning if "JobID" in w.value]


def test_upload_reads_headerless_output_with_its_field_list(open_page: OpenPage) -> None:
    text = "23000233^|^train^|^COMPLETED^|^00:01:00^|^\n23000234^|^eval^|^FAILED^|^00:00:05^|^\n"
    at = _upload(open_page("views/upload.py"), text, fields="JobID,JobName,State,Elapsed")
    _fine(at)
    assert "2 rows in parsable format" in texts(at)
    assert at.dataframe[0].value["JobID"].tolist() == ["23000233", "23000234"]


def test_upload_reads_a_job_name_with_a_line_break_and_names_its_line(open_page: OpenPage) -> None:
    text = "JobID|JobName|State\n1|a|COMPLETED\n2|two\nlines|FAILED\n3|c|RUNNING\n"
    at = _upload(open_page("views/upload.py"), text)
    _fine(at)
    assert "3 rows in parsable2 format" in texts(at)
    assert at.dataframe[0].value["line"].tolist() == [3]


def test_upload_reads_slurm_24_11_json_with_a_pending_job(open_page: OpenPage) -> None:
    pending = {"job_id": 7, "name": "wait", "state": {"current": ["PENDING"], "reason": "Priority"},
               "time": {"submission": 1_700_000_000, "start": 4294967294, "end": 0, "elapsed": 0,
                        "limit": {"set": False, "infinite": True, "number": 0}},
               "required": {"CPUs": 4, "memory_per_cpu": {"set": False, "infinite": False, "number": 0},
                            "memory_per_node": {"set": True, "infinite": False, "number": 4096}},
               "steps": []}
    text = json.dumps({"meta": {"Slurm": {"release": "24.11.1"}}, "jobs": [pending]})
    at = _upload(open_page("views/upload.py"), text)
    _fine(at)
    assert "1 row in json format" in texts(at)
    preview = at.dataframe[0].value  # no warnings: the first table is the preview, in sacct's field names
    assert preview["State"].tolist() == ["PENDING"]
    assert preview["Start"].isna().all() and preview["Timelimit"].isna().all()  # not 2106, not a number
    assert preview["ReqMem"].tolist() == [4096 * 1024**2]


def test_upload_reads_headerless_output_with_the_delimiter_given(open_page: OpenPage) -> None:
    # Both ';' and '|' split these lines into two fields: only the delimiter the user gives tells them apart.
    text = "100;train|big\n101;eval|small\n"
    at = open_page("views/upload.py")
    at.text_input(key="upload_delimiter").input(";")
    at = _upload(at, text, fields="JobID,JobName")
    _fine(at)
    preview = at.dataframe[0].value
    assert preview["JobID"].tolist() == ["100", "101"]
    assert preview["JobName"].tolist() == ["train|big", "eval|small"]
    # A changed delimiter is another input: the parse shown for ';' is cleared.
    at.text_input(key="upload_delimiter").input("|").run()
    assert "2 rows in parsable2 format" not in texts(at)


UTF16_SACCT = "JobID|JobName|State|Elapsed\n23000233|träning|COMPLETED|00:01:00\n23000234|eval|FAILED|00:00:05\n"


def _upload_file(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="upload_file").set_value((name, data, "text/plain")).run()
    return at.button(key="parse").click().run()


def test_upload_reads_a_utf16_file_with_or_without_a_byte_order_mark(open_page: OpenPage) -> None:
    for codec in ("utf-16", "utf-16-le", "utf-16-be"):
        at = _upload_file(open_page("views/upload.py"), f"sacct-{codec}.txt", UTF16_SACCT.encode(codec))
        _fine(at)
        assert "2 rows in parsable2 format" in at.success[0].value, codec
        assert "träning" in texts(at) or any("träning" in str(d.value) for d in at.dataframe), codec


def test_upload_says_a_broken_utf16_file_should_be_saved_as_utf8(open_page: OpenPage) -> None:
    at = _upload_file(open_page("views/upload.py"), "broken.txt", UTF16_SACCT.encode("utf-16")[:-1])
    assert not at.exception and len(at.error) == 1
    message = at.error[0].value
    assert "UTF\\-16" in message and "save it as UTF\\-8" in message and "binary" not in message
