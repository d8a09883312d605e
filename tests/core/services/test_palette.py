"""core.services.palette: one colour per Slurm state, and text that stays readable on it."""

from __future__ import annotations

from core.services import palette


def test_every_state_has_its_colour_and_unknown_states_share_one() -> None:
    assert palette.state_colour("FAILED") == palette.STATE_COLOURS["FAILED"]
    assert palette.state_colour("SOMETHING_NEW") == palette.state_colour(None) == palette.OTHER_STATE


def test_text_colour_is_the_one_with_more_contrast() -> None:
    assert palette.text_colour("#ffffff") == "#000000" and palette.text_colour("#000000") == "#ffffff"
    assert palette.text_colour("#ffeb3b") == "#000000"  # yellow: black reads better
    assert palette.text_colour("#0d47a1") == "#ffffff"  # dark blue: white reads better
