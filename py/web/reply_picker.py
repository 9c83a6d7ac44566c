"""The saved-reply picker under the composer (issue 22, point 5): a filtered listbox.

    picker = ReplyPicker(form, textarea, listeners, replies, key=cid, on_insert=..., on_manage=...)
    picker.text_changed()      # on every input: a `/query` before the caret opens and filters it
    picker.open_all()          # the composer's button: every reply, inserted at the caret
    if picker.keydown(event):  # Up/Down move, Enter/Tab choose, Escape closes; True: taken
        return

Focus never leaves the message box: the active option is named by aria-activedescendant, and
a click on an option keeps the focus (its mousedown is cancelled). Choosing hands the new text
and caret to `on_insert`; nothing is ever sent from here. A `/` that chose nothing stays as it
was typed. The rules (what counts as a `/query`, what matches) are core/saved_replies.py's.
"""

import asyncio

import js

from core.saved_replies import slash_query
from web.web_dom import el, present, set_text

MANAGE = "manage"
NEAREST = js.Object.fromEntries([["block", "nearest"]])
PREVIEW_CHARS = 90


class ReplyPicker:
    def __init__(self, host, textarea, listeners, replies, *, key, on_insert, on_manage):
        self.textarea = textarea
        self.replies = replies
        self.on_insert = on_insert
        self.on_manage = on_manage
        self.list_id = f"reply-picker-{key}"
        self.span = None        # (start, end) of the text a choice replaces; None: closed
        self.query = ""
        self.dismissed_at = None  # the `/` whose list Escape closed: it stays closed
        self.choices = []       # the options shown: SavedReply, then MANAGE
        self.active = 0
        self.hint = el("p", "reply-picker-hint", attrs={"hidden": ""})
        self.listbox = el("ul", "reply-picker-list", attrs={
            "role": "listbox", "id": self.list_id, "aria-label": "Saved replies",
            "data-testid": "reply-picker"})
        self.node = el("div", "reply-picker", attrs={"hidden": ""}, children=(self.hint, self.listbox))
        host.appendChild(self.node)
        listeners.add(self.listbox, "mousedown", lambda event: event.preventDefault())  # keep the focus
        listeners.add(self.listbox, "click", self._on_click)
        listeners.add(textarea, "blur", lambda _event: self.close())

    @property
    def is_open(self):
        return self.span is not None

    # ----- what the composer says ------------------------------------------------------------

    def text_changed(self):
        caret = int(self.textarea.selectionStart)
        found = slash_query(self.textarea.value, caret)
        if found is None or found[0] == self.dismissed_at:
            if found is None:
                self.dismissed_at = None
            self.close()
            return
        start, query = found
        self._open((start, caret), query)

    def open_all(self):
        focused = js.document.activeElement == self.textarea
        caret = int(self.textarea.selectionStart) if focused else len(self.textarea.value)
        self.textarea.focus()
        self.textarea.setSelectionRange(caret, caret)
        self._open((caret, caret), "")

    def keydown(self, event):
        if not self.is_open or event.isComposing:
            return False
        key = event.key
        if key in ("ArrowDown", "ArrowUp"):
            step = 1 if key == "ArrowDown" else -1
            self._activate((self.active + step) % len(self.choices))
        elif key in ("Enter", "Tab") and not event.shiftKey:
            self._choose(self.active)
        elif key == "Escape":
            self.dismissed_at = self.span[0] if self.span[0] != self.span[1] else None
            self.close()
            event.stopPropagation()  # Escape closes the list, not the chat (web/chat_view.py)
        else:
            return False
        event.preventDefault()
        return True

    def close(self):
        if self.span is None:
            return
        self.span = None
        self.node.setAttribute("hidden", "")
        self.textarea.removeAttribute("aria-activedescendant")
        self.textarea.removeAttribute("aria-controls")
        self.listbox.replaceChildren()

    # ----- showing ---------------------------------------------------------------------------

    def _open(self, span, query):
        fresh = self.span is None
        self.span, self.query = span, query
        self.node.removeAttribute("hidden")
        self.textarea.setAttribute("aria-controls", self.list_id)
        self._render(0)
        if fresh:
            asyncio.ensure_future(self._refresh())

    async def _refresh(self):
        problem = await self.replies.refresh()
        if self.is_open:
            self._render(self.active, problem)

    def _render(self, active, problem=None):
        matches = self.replies.matching(self.query)
        self.choices = [*matches, MANAGE]
        if problem is not None:
            hint = problem
        elif not self.replies.replies:
            hint = "No saved replies yet."
        elif not matches:
            hint = "No saved reply matches “" + self.query + "”."
        else:
            hint = None
        set_text(self.hint, hint or "")
        self.hint.toggleAttribute("hidden", hint is None)
        options = [self._option(index, choice) for index, choice in enumerate(self.choices)]
        self.listbox.replaceChildren(*options)
        self._activate(min(active, len(self.choices) - 1))

    def _option(self, index, choice):
        attrs = {"role": "option", "id": f"{self.list_id}-{index}", "data-index": index,
                 "aria-selected": "false", "data-testid": "reply-option"}
        if choice is MANAGE:
            attrs["data-testid"] = "reply-manage"
            return el("li", "reply-option reply-option-manage", "Manage saved replies…", attrs=attrs)
        preview = choice.content if len(choice.content) <= PREVIEW_CHARS else choice.content[:PREVIEW_CHARS] + "…"
        attrs["data-reply-id"] = choice.id
        return el("li", "reply-option", attrs=attrs, children=(
            el("span", "reply-option-title", choice.title), el("span", "reply-option-text", preview)))

    def _activate(self, index):
        options = self.listbox.children
        for i in range(int(options.length)):
            options.item(i).setAttribute("aria-selected", "true" if i == index else "false")
        self.active = index
        option = options.item(index)
        if present(option):
            self.textarea.setAttribute("aria-activedescendant", option.id)
            option.scrollIntoView(NEAREST)  # a key press moved it: one layout, not one per message

    # ----- choosing --------------------------------------------------------------------------

    def _on_click(self, event):
        option = event.target.closest("[role=option]")
        if present(option):
            self._choose(int(option.getAttribute("data-index")))

    def _choose(self, index):
        choice = self.choices[index] if 0 <= index < len(self.choices) else None
        span = self.span
        self.close()
        if choice is MANAGE:
            self.on_manage()
        elif choice is not None:
            text = self.textarea.value
            start, end = span
            self.on_insert(text[:start] + choice.content + text[end:], start + len(choice.content))
