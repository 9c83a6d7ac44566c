"""The search results' DOM: one button per result (conversation, time, the text with the match in
a <mark>), a status line, "More results", and the list's arrow keys.

Built with createElement and text nodes only (STYLE 7): a message's text is never markup,
so `<img src=x onerror=...>` in a message shows as those characters.
"""

import js

from core.list_keys import row_to_focus
from web.web_dom import clear, el, present, set_text

RESULT = "[data-testid=search-result]"


def result_node(row):
    button = el("button", "search-result", attrs={
        "type": "button", "data-testid": "search-result",
        "data-conversation-id": row.conversation_id, "data-message-id": row.message_id,
    })
    top = el("span", "search-result-top")
    top.appendChild(el("span", "search-result-name", row.title))
    top.appendChild(el("time", "search-result-time", row.when, attrs={"title": row.full_when}))
    text = el("span", "search-result-text", attrs={"data-testid": "search-result-text"})
    text.appendChild(js.document.createTextNode(row.before))
    if row.match:
        text.appendChild(el("mark", None, row.match))
    text.appendChild(js.document.createTextNode(row.after))
    button.appendChild(top)
    button.appendChild(text)
    return button


class SearchResults:
    """The pane under the search box while a search is typed: status, results, More."""

    def __init__(self, listeners, *, on_choose, on_more, on_leave):
        self.on_choose = on_choose  # (conversation id, message id)
        self.on_leave = on_leave    # ArrowUp from the first result, or Escape: back to the box
        self.node = el("div", "search-pane", attrs={"data-testid": "search-pane", "hidden": ""})
        self.status = el("p", "search-status muted", attrs={
            "data-testid": "search-status", "role": "status", "aria-live": "polite"})
        self.list = el("ul", "search-results", attrs={
            "id": "search-results", "data-testid": "search-results", "aria-label": "Search results"})
        self.more = el("button", "btn btn-ghost search-more", "More results", attrs={
            "type": "button", "data-testid": "search-more", "hidden": ""})
        for child in (self.status, self.list, self.more):
            self.node.appendChild(child)
        listeners.add(self.list, "click", self._on_click)
        listeners.add(self.list, "keydown", self._on_keydown)
        listeners.add(self.more, "click", lambda _event: on_more())
        self.shown_ids = ()

    def show(self, visible):
        self.node.hidden = not visible

    def say(self, text):
        set_text(self.status, text)

    def render(self, query, rows, has_more, loading_more):
        """The rows (rebuilt only when they or the marked query changed: a page of results is
        at most a few hundred)."""
        ids = (query,) + tuple(row.message_id for row in rows)
        if ids != self.shown_ids:
            keep_focus = self._focused_index()
            clear(self.list)
            for row in rows:
                item = el("li", "search-result-row")
                item.appendChild(result_node(row))
                self.list.appendChild(item)
            self.shown_ids = ids
            if keep_focus is not None and rows:
                self._buttons().item(min(keep_focus, len(rows) - 1)).focus()
        self.more.hidden = not has_more
        self.more.disabled = loading_more
        set_text(self.more, "Loading…" if loading_more else "More results")

    def focus_first(self):
        buttons = self._buttons()
        if buttons.length:
            buttons.item(0).focus()
            return True
        return False

    def _buttons(self):
        return self.list.querySelectorAll(RESULT)

    def _focused_index(self):
        buttons = self._buttons()
        current = js.document.activeElement
        return next((i for i in range(buttons.length) if buttons.item(i) == current), None)

    def _on_click(self, event):
        node = event.target.closest(RESULT) if present(event.target) else None
        if present(node):
            self.on_choose(int(node.getAttribute("data-conversation-id")),
                           int(node.getAttribute("data-message-id")))

    def _on_keydown(self, event):
        if event.key == "Escape":
            event.preventDefault()
            self.on_leave()
            return
        buttons = self._buttons()
        index = self._focused_index()
        if event.key == "ArrowUp" and index == 0:
            event.preventDefault()
            self.on_leave()
            return
        if event.key in ("Home", "End") and buttons.length:
            event.preventDefault()
            buttons.item(0 if event.key == "Home" else buttons.length - 1).focus()
            return
        target = row_to_focus(event.key, -1 if index is None else index, buttons.length)
        if target is not None:
            event.preventDefault()
            buttons.item(target).focus()
