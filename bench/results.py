"""Recording, printing and saving benchmark figures."""

from __future__ import annotations

import json
import os
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULTS_PATH = Path(__file__).resolve().parent / "results.json"


@dataclass
class Figure:
    """One measured figure; ``target`` is a human-readable bound (``<= 1.5``), ``met`` None when there is none."""

    name: str
    value: float | int | str
    unit: str
    target: str | None = None
    met: bool | None = None


def _fmt(value: float | int | str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) >= 1000):
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.1f}"
    if abs(value) >= 1:
        return f"{value:.3f}"
    return f"{value:.4f}"


@dataclass
class Results:
    """All figures of one run, printed as they are recorded."""

    figures: dict[str, Figure] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    verbose: bool = True

    def add(self, name: str, value: float | int | str, unit: str, *, at_most: float | None = None,
            at_least: float | None = None) -> Figure:
        target: str | None = None
        met: bool | None = None
        if at_most is not None:
            target, met = f"<= {at_most:g}", isinstance(value, int | float) and value <= at_most
        elif at_least is not None:
            target, met = f">= {at_least:g}", isinstance(value, int | float) and value >= at_least
        fig = Figure(name, value, unit, target, met)
        self.figures[name] = fig
        if self.verbose:
            print(self.line(fig), flush=True)
        return fig

    def note(self, text: str) -> None:
        self.notes.append(text)
        if self.verbose:
            print(f"  note: {text}", flush=True)

    @staticmethod
    def line(fig: Figure) -> str:
        status = "" if fig.met is None else ("met" if fig.met else "MISSED")
        target = fig.target or ""
        return f"{fig.name:<52} {_fmt(fig.value):>14} {fig.unit:<10} {target:<10} {status}"

    def table(self) -> str:
        header = f"{'figure':<52} {'value':>14} {'unit':<10} {'target':<10} status"
        return "\n".join([header, "-" * len(header), *(self.line(f) for f in self.figures.values())])

    def missed(self) -> list[Figure]:
        return [f for f in self.figures.values() if f.met is False]

    def to_json(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "machine": machine_info(),
            "figures": {f.name: {"value": f.value, "unit": f.unit, "target": f.target, "met": f.met}
                        for f in self.figures.values()},
            "notes": self.notes,
            **(extra or {}),
        }

    def keep_previous(self, path: Path) -> None:
        """Add the figures and notes of an earlier run saved at ``path`` that this run did not measure again.

        A run of some areas then updates the results file without dropping the other areas' figures.
        """
        if not path.exists():
            return
        previous = json.loads(path.read_text())
        figures = {name: Figure(name, f["value"], f["unit"], f["target"], f["met"])
                   for name, f in previous.get("figures", {}).items() if name not in self.figures}
        self.figures = {**figures, **self.figures}
        self.notes = [n for n in previous.get("notes", []) if n not in self.notes] + self.notes

    def save(self, path: Path = RESULTS_PATH, extra: dict[str, Any] | None = None) -> Path:
        path.write_text(json.dumps(self.to_json(extra), indent=1) + "\n")
        return path


def machine_info() -> dict[str, Any]:
    """CPU count, CPU model (from /proc/cpuinfo), Python version, platform."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {"cpu_count": os.cpu_count(), "cpu_usable": affinity, "cpu_model": model,
            "python": sys.version.split()[0], "platform": platform.platform()}


README_PATH = Path(__file__).resolve().parents[1] / "README.md"
README_MARK = "<!-- bench-table -->"


def markdown(results: dict[str, Any]) -> str:
    """The README table of a results.json: machine, then one row per figure."""
    machine = results["machine"]
    measured = results.get("areas") or []
    run = f"run at {results.get('finished', '?')}"
    if measured and results.get("partial"):
        run += f" (areas {', '.join(measured)}; the other areas' figures are kept from earlier runs)"
    rows = [f"Machine: {machine['cpu_count']} CPUs ({machine['cpu_model']}), Python {machine['python']}, "
            f"{machine['platform']}; {run}.", "",
            "| figure | value | unit | target | status |", "|---|---:|---|---|---|"]
    for name, fig in results["figures"].items():
        status = "" if fig["met"] is None else ("met" if fig["met"] else "**missed**")
        rows.append(f"| {name} | {_fmt(fig['value'])} | {fig['unit']} | {fig['target'] or ''} | {status} |")
    if results.get("notes"):
        rows += ["", *(f"- {note}" for note in results["notes"])]
    return "\n".join(rows) + "\n"


def update_readme(results_path: Path = RESULTS_PATH, readme: Path = README_PATH) -> None:
    """Replace everything after the README's bench mark with the table of ``results_path``."""
    text = readme.read_text(encoding="utf-8")
    head, mark, _ = text.partition(README_MARK)
    if not mark:
        raise ValueError(f"{readme} has no {README_MARK} line")
    table = markdown(json.loads(results_path.read_text(encoding="utf-8")))
    readme.write_text(f"{head}{README_MARK}\n{table}", encoding="utf-8")
