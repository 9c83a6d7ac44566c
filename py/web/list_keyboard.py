"""The conversation list's keyboard (core/list_keys.py has the map): arrow keys move the focus
between conversations; Enter and Space open one (the rows are native buttons)."""

import js

from core.list_keys import STEPS, row_to_focus

ROWS = "[data-testid=conversation-item]"


class ListKeyboard:
    def __init__(self, listeners, list_node):
        listeners.add(list_node, "keydown", self._on_keydown)

    @staticmethod
    def _on_keydown(event):
        if event.key not in STEPS:
            return  # typing in the list: no DOM query per key
        rows = js.document.querySelectorAll(ROWS)
        count = rows.length
        current = js.document.activeElement
        index = next((i for i in range(count) if rows.item(i) == current), -1)
        target = row_to_focus(event.key, index, count)
        if target is None:
            return
        rows.item(target).focus()
        event.preventDefault()
