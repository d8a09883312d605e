"""The colour of every job state and pipeline phase, the same on every page and chart.

A Slurm state and the pipeline phase that means the same thing share a colour (``RUNNING`` and ``running``), so a
job keeps its colour between the SACCT, Upload and Management pages. Hues are far apart: two colours in one legend
must never be mistaken for each other.
"""

from __future__ import annotations

#: Slurm job states (the state word, as sacct prints it).
STATE_COLOURS: dict[str, str] = {
    "COMPLETED": "#2ca02c",
    "RUNNING": "#1f77b4",
    "PENDING": "#ff9f1c",
    "FAILED": "#d62728",
    "TIMEOUT": "#8c564b",
    "CANCELLED": "#7f7f7f",
    "OUT_OF_MEMORY": "#9467bd",
    "NODE_FAIL": "#e377c2",
    "PREEMPTED": "#bcbd22",
    "BOOT_FAIL": "#5c0a0a",
    "DEADLINE": "#f7b6d2",
    "REQUEUED": "#17becf",
    "SUSPENDED": "#c5b0d5",
    "STOPPED": "#393b79",
}
#: Colour of a state the palette does not list.
OTHER_STATE = "#c7c7c7"

#: Pipeline phases of the Management page; a phase that matches a Slurm state has that state's colour.
PHASE_COLOURS: dict[str, str] = {
    "new": "#dcdcdc",
    "started": "#c49c94",
    "configured": "#98df8a",
    "submitted": "#ffe066",
    "pending": STATE_COLOURS["PENDING"],
    "running": STATE_COLOURS["RUNNING"],
    "complete": STATE_COLOURS["COMPLETED"],
    "failed": STATE_COLOURS["FAILED"],
    "cancelled": STATE_COLOURS["CANCELLED"],
    "stopped": STATE_COLOURS["STOPPED"],
    "stored": "#004d40",
}


def state_colour(state: object) -> str:
    """The colour of a Slurm state (``OTHER_STATE`` for a state the palette does not list)."""
    return STATE_COLOURS.get(str(state), OTHER_STATE)


def text_colour(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (``#rrggbb``), by the WCAG relative luminance."""
    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(background[i:i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    # The luminance where black and white text have the same contrast ratio.
    return "#000000" if luminance > 0.179 else "#ffffff"
