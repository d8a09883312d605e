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
