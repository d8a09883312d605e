"""bench.results: targets are judged right and the README table is rewritten in place."""

from __future__ import annotations

import json
from pathlib import Path

from bench.results import README_MARK, Results, update_readme


def test_targets_and_readme_table(tmp_path: Path) -> None:
    results = Results(verbose=False)
    assert results.add("a.seconds", 0.4, "s", at_most=0.5).met is True
    assert results.add("b.speedup", 12.0, "x", at_least=30).met is False
    assert results.add("c.info", 7, "rows").met is None
    assert [f.name for f in results.missed()] == ["b.speedup"]
    saved = results.save(tmp_path / "results.json", {"finished": "2026-11-25 20:00 UTC"})
    readme = tmp_path / "README.md"
    readme.write_text(f"# X\n\n## Benchmarks\n{README_MARK}\nold table\n")
    update_readme(saved, readme)
    text = readme.read_text()
    assert "old table" not in text and text.startswith("# X\n")
    assert "| b.speedup | 12.000 | x | >= 30 | **missed** |" in text
    assert "| a.seconds | 0.4000 | s | <= 0.5 | met |" in text
    assert json.loads(saved.read_text())["figures"]["c.info"]["value"] == 7


def test_a_run_of_some_areas_keeps_the_other_figures(tmp_path: Path) -> None:
    earlier = Results(verbose=False)
    earlier.add("parse.seconds", 1.0, "s")
    earlier.add("load.20_sessions.median", 9.0, "s", at_most=1.5)
    earlier.note("parse: measured earlier")
    path = earlier.save(tmp_path / "results.json")
    later = Results(verbose=False)
    later.add("load.20_sessions.median", 1.2, "s", at_most=1.5)
    later.keep_previous(path)
    figures = json.loads(later.save(path).read_text())["figures"]
    assert figures["parse.seconds"]["value"] == 1.0
    assert figures["load.20_sessions.median"] == {"value": 1.2, "unit": "s", "target": "<= 1.5", "met": True}
    assert later.notes == ["parse: measured earlier"]
    readme = tmp_path / "README.md"
    readme.write_text(f"## Benchmarks\n{README_MARK}\n")
    later.save(path, {"finished": "2026-12-07 10:55 UTC", "areas": ["load"], "partial": True})
    update_readme(path, readme)
    assert ("run at 2026-12-07 10:55 UTC (areas load; the other areas' figures are kept from earlier runs)."
            in readme.read_text())
