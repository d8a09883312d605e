"""One colour per job state and phase, far enough apart to tell in a legend, with readable text on them."""

from __future__ import annotations

from itertools import combinations

from core.services.palette import PHASE_COLOURS, STATE_COLOURS, state_colour, text_colour


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _distance(a: str, b: str) -> float:
    return float(sum((x - y) ** 2 for x, y in zip(_rgb(a), _rgb(b), strict=True)) ** 0.5)


def test_phases_are_told_apart_and_share_their_state_colour() -> None:
    # new, started, configured, submitted and running were near-identical blues (distance < 60).
    close = [(a, b) for (a, ca), (b, cb) in combinations(PHASE_COLOURS.items(), 2) if _distance(ca, cb) < 60]
    assert close == []
    for phase, state in (("pending", "PENDING"), ("running", "RUNNING"), ("complete", "COMPLETED"),
                         ("failed", "FAILED"), ("cancelled", "CANCELLED")):
        assert PHASE_COLOURS[phase] == STATE_COLOURS[state]
    assert state_colour("RUNNING") == STATE_COLOURS["RUNNING"] and state_colour("<b>x</b>") not in STATE_COLOURS


def test_text_on_a_status_colour_is_readable() -> None:
    assert text_colour(PHASE_COLOURS["new"]) == "#000000"  # light grey
    assert text_colour(PHASE_COLOURS["stored"]) == "#ffffff"  # dark teal
    assert text_colour(STATE_COLOURS["FAILED"]) == "#ffffff"
