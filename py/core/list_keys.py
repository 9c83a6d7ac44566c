"""The conversation list's keyboard map: ArrowDown and ArrowUp move between conversations,
stopping at the ends; Enter and Space are the rows' own (native buttons), so not here."""

from __future__ import annotations

from typing import Optional

STEPS = {"ArrowDown": 1, "ArrowUp": -1}


def row_to_focus(key: str, index: int, count: int) -> Optional[int]:
    """The index of the row to focus after `key`, with focus on row `index` (-1: on none) of
    `count`; None when the key is not the list's or there is no row (the key keeps its default)."""
    step = STEPS.get(key)
    if step is None or count <= 0:
        return None
    return max(0, min(count - 1, index + step))
