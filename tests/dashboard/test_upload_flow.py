"""Upload stores exactly what is shown: a changed input clears the parse, notices belong to the run they name, the
status box says when parsing failed, and the run's platform is stored with it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.store.local import LocalStore
from tests import samples
from tests.dashboard.conftest import texts

OpenPage = Callable[..., AppTest]
HETJOB = samples.sacct("05_torchx_hetjob_parsable.txt").read_text()


def _parse(at: AppTest, text: str, run: str = "") -> AppTest:
    at.text_area(key="upload_text").input(text)
    if run:
        at.text_input(key="upload_run").input(run)
    return at.button(key="parse").click().run()


def test_changing_or_clearing_the_input_clears_the_parse(open_page: OpenPage) -> None:
    at = _parse(open_page("views/upload.py"), HETJOB, run="hetjob")
    assert "7 rows in parsable format" in texts(at)
    at.text_area(key="upload_text").input(HETJOB + "\n").run()  # the same text plus a blank line: another input
    assert "7 rows" not in texts(at) and "Press Parse to read this input" in texts(at)
    at = _parse(at, HETJOB)
    assert "7 rows in parsable format" in texts(at)
    at.text_area(key="upload_text").input("").run()
    assert "7 rows" not in texts(at)
    at.button(key="parse").click().run()
    assert "Upload a file or paste sacct output first" in texts(at)


def test_a_new_field_list_needs_a_new_parse(open_page: OpenPage) -> None:
    at = _parse(open_page("views/upload.py"), HETJOB, run="hetjob")
    at.text_input(key="upload_fields").input("JobID,State").run()
    assert "7 rows" not in texts(at)


def test_already_stored_notice_stays_with_its_run(open_page: OpenPage) -> None:
    at = _parse(open_page("views/upload.py"), HETJOB, run="hetjob")
    at.button(key="store").click().run()
    assert "as version 1" in texts(at)
    at.button(key="store").click().run()
    assert "'hetjob' is already stored (version 1)" in texts(at)
    at.text_input(key="upload_run").input("hetjob-renamed").run()
    shown = texts(at)
    assert "already stored" not in shown and "as version 1" not in shown
    at.button(key="store").click().run()
    assert "as version 1" in texts(at) and "already stored" not in texts(at)


def test_a_failed_parse_leaves_no_parsing_status(open_page: OpenPage) -> None:
    at = _parse(open_page("views/upload.py"), "Dear admin,\nmy job failed.\n", run="x")
    assert not at.exception
    # The one status box is in its error state, with a label that says so (not "Parsing…").
    assert [(e.proto.label, e.proto.icon) for e in at.get("status")] == [
        ("Not parsed: the reason is below", ":material/error:")]
    assert "not accepted" in at.error[0].value


def test_platform_is_chosen_when_sacct_names_no_cluster(open_page: OpenPage, store_dir: Path) -> None:
    at = _parse(open_page("views/upload.py"), HETJOB, run="lumi-hetjob")
    platform = at.selectbox(key="upload_platform_lumi-hetjob")
    assert platform.value == "lumi"  # from the run name
    platform.set_value("mahti").run()
    at.button(key="store").click().run()
    meta = LocalStore(store_dir).head_object("mlch-for-air", "ARTIFACTS/SACCT/user-example-com-lumi-hetjob.parquet")
    assert meta.custom["platform"] == "mahti"


def test_cluster_field_fixes_the_platform(open_page: OpenPage, store_dir: Path) -> None:
    text = samples.sacct("07_slurmdog_parsable2_noheader_alpine.txt").read_text()
    at = open_page("views/upload.py")
    at.text_input(key="upload_fields").input("JobID,User,Group,State,Cluster,AllocCPUS,REQMEM,TotalCPU,Elapsed,"
                                             "MaxRSS,ExitCode,NNodes,NTasks")
    at = _parse(at, text, run="puhti-named")
    assert "Platform: other (sacct's Cluster field says alpine)" in texts(at)
    assert not [s for s in at.selectbox if str(s.key).startswith("upload_platform")]
    at.button(key="store").click().run()
    meta = LocalStore(store_dir).head_object("mlch-for-air", "ARTIFACTS/SACCT/user-example-com-puhti-named.parquet")
    assert (meta.custom["platform"], meta.custom["cluster"]) == ("other", "alpine")
