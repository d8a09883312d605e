"""Where the browser tests put their screenshots: never into the checkout unless asked to."""

from __future__ import annotations

from pathlib import Path

from tests.browser.conftest import ROOT, screenshot_folder


def test_screenshots_go_to_a_temporary_folder_unless_make_screenshots_asks(tmp_path: Path) -> None:
    assert screenshot_folder({}, lambda: tmp_path / "shots") == tmp_path / "shots"
    wanted = ROOT / "docs" / "screenshots"
    assert screenshot_folder({"SCREENSHOTS_DIR": str(wanted)}, lambda: tmp_path) == wanted

