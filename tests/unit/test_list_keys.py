"""The conversation list's keyboard map: arrows move between rows and stop at the ends."""

import pytest

from core.list_keys import row_to_focus


def test_arrow_down_and_up_move_one_row():
    assert row_to_focus("ArrowDown", 1, 4) == 2
    assert row_to_focus("ArrowUp", 1, 4) == 0


def test_the_ends_hold():
    assert row_to_focus("ArrowDown", 3, 4) == 3
    assert row_to_focus("ArrowUp", 0, 4) == 0


def test_from_outside_the_rows_down_goes_to_the_first():
    assert row_to_focus("ArrowDown", -1, 4) == 0
    assert row_to_focus("ArrowUp", -1, 4) == 0


@pytest.mark.parametrize("key", ["Enter", " ", "Tab", "a", "ArrowLeft", "Home"])
def test_other_keys_are_not_the_lists(key):
    assert row_to_focus(key, 1, 4) is None


def test_no_rows_no_move():
    assert row_to_focus("ArrowDown", -1, 0) is None
