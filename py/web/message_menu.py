"""The "More actions" menu of one's own message, and the in-page confirm of a delete (issue 22.3).

    menu = MessageMenu(edits, on_edit=start_editing_in_the_composer, on_said=composer_notice)
    menu.open(mid, button)      # the list's click (or Enter/Space) on a message's button
    menu.close()
    menu.dispose()

One panel at a time, inside the message's meta row (in the flow: nothing is clipped by the
scrolling list, and it works the same at 390 px). It follows the WAI-ARIA menu button
pattern: the button says aria-haspopup/aria-expanded; the first item takes focus; Up/Down
move (wrapping), Home/End jump, Enter/Space/click choose; Escape closes and gives the focus
back to the button, Tab or a click elsewhere closes. What the menu offers is decided when it
opens (core/message_actions.allowed_actions, time now): a window that closed while the page
was open offers nothing more, and says so.

Delete asks first, in the page (never window.confirm): "Delete this message for everyone?"
with Cancel focused (the safe choice under a stray Enter). The message changes only when the
server has said 204 (web/message_edits.py); a refusal leaves it as it was and is said calmly.
"""

import asyncio

from core.message_actions import DELETE, EDIT
from web.web_dom import Listeners, el, present

LABELS = {EDIT: "Edit", DELETE: "Delete"}
NOTHING_LEFT = "This message can no longer be changed."


class MessageMenu:
    def __init__(self, edits, *, on_edit, on_said, on_focus_away):
        self.edits = edits  # web/message_edits.py
        self.on_edit = on_edit  # (mid): the composer edits it
        self.on_said = on_said  # (text or None): a calm sentence where the composer says things
        self.on_focus_away = on_focus_away  # the button is gone (deleted): the focus goes here
        self.listeners = Listeners()  # the open panel's; all released on close
        self.panel = None
        self.button = None
        self.mid = None
        self.disposed = False

    # ----- opening and closing -----------------------------------------------------------------

    def open(self, mid, button):
        was_open = self.panel is not None and self.mid == mid
        self.close()
        if was_open:
            return  # a second click on the same button closes it
        actions = self.edits.actions(mid)
        if not actions:
            button.remove()  # nothing is left to offer: no more dead Tab stop either
            self.on_said(NOTHING_LEFT)
            self.on_focus_away()
            return
        items = [el("button", "message-menu-item", LABELS[action], attrs={
            "type": "button", "role": "menuitem", "tabindex": "-1", "data-action": action,
            "data-testid": "message-menu-" + action,
        }) for action in actions]
        panel = el("div", "message-menu", attrs={
            "role": "menu", "aria-label": "Message actions", "data-testid": "message-menu",
        }, children=items)
        self._show(mid, button, panel)
        self.listeners.add(panel, "keydown", self._on_menu_key)
        self.listeners.add(panel, "click", self._on_menu_click)
        button.setAttribute("aria-expanded", "true")
        items[0].focus()

    def close(self, focus_button=False):
        if self.panel is None:
            return
        self.listeners.dispose()
        self.panel.remove()
        self.panel = None
        button, self.button, self.mid = self.button, None, None
        if present(button):
            button.setAttribute("aria-expanded", "false")
            if focus_button and button.isConnected:
                button.focus()

    def _show(self, mid, button, panel):
        self.mid, self.button, self.panel = mid, button, panel
        button.parentNode.appendChild(panel)  # the meta row: after the time, ticks and button
        self.listeners.add(panel.ownerDocument, "pointerdown", self._on_outside)
        self.listeners.add(panel, "focusout", self._on_focus_out)

    # ----- the menu ------------------------------------------------------------------------------

    def _items(self):
        return list(self.panel.querySelectorAll("[role=menuitem]")) if self.panel is not None else []

    def _on_menu_key(self, event):
        key = event.key
        items = self._items()
        if not items:
            return
        if key == "Escape":
            event.preventDefault()
            event.stopPropagation()  # the chat's own Escape (back, on a phone) must not run too
            self.close(focus_button=True)
            return
        if key not in ("ArrowDown", "ArrowUp", "Home", "End"):
            return
        event.preventDefault()
        active = self.panel.ownerDocument.activeElement
        at = next((i for i, item in enumerate(items) if item == active), 0)
        step = {"ArrowDown": at + 1, "ArrowUp": at - 1, "Home": 0, "End": len(items) - 1}[key]
        items[step % len(items)].focus()

    def _on_menu_click(self, event):
        item = event.target.closest("[data-action]")
        if not present(item):
            return
        mid, action, button = self.mid, item.getAttribute("data-action"), self.button
        self.close()
        if action == EDIT:
            self.on_edit(mid)
        elif action == DELETE:
            self._confirm(mid, button)

    # ----- the delete's confirm ----------------------------------------------------------------

    def _confirm(self, mid, button):
        delete = el("button", "confirm-delete", "Delete", attrs={"type": "button", "data-testid": "confirm-delete"})
        cancel = el("button", "confirm-cancel", "Cancel", attrs={"type": "button", "data-testid": "cancel-delete"})
        question = el("p", "confirm-question", "Delete this message for everyone?", attrs={"id": f"confirm-{mid}"})
        panel = el("div", "message-menu message-confirm", attrs={
            "role": "group", "aria-labelledby": f"confirm-{mid}", "data-testid": "delete-confirm",
        }, children=(question, el("div", "confirm-actions", children=(cancel, delete))))
        self._show(mid, button, panel)
        self.listeners.add(cancel, "click", lambda _e: self.close(focus_button=True))
        self.listeners.add(delete, "click", lambda _e: asyncio.ensure_future(self._delete(mid, panel)))
        self.listeners.add(panel, "keydown", self._on_confirm_key)
        button.setAttribute("aria-expanded", "true")
        cancel.focus()

    def _on_confirm_key(self, event):
        if event.key == "Escape":
            event.preventDefault()
            event.stopPropagation()
            self.close(focus_button=True)

    async def _delete(self, mid, panel):
        for control in panel.querySelectorAll("button"):
            control.disabled = True
        panel.setAttribute("aria-busy", "true")
        self.on_said(None)
        failure = await self.edits.delete(mid)
        if self.disposed:
            return
        if failure is None:
            self.close()  # the node shows "This message was deleted" now (the cache re-rendered it)
            self.on_focus_away()
        else:
            self.close(focus_button=True)
            self.on_said(failure)

    # ----- leaving -----------------------------------------------------------------------------

    def _on_outside(self, event):
        target = event.target
        if self.panel is not None and not self.panel.contains(target) and not (
                present(self.button) and self.button.contains(target)):
            self.close()

    def _on_focus_out(self, event):
        # Tab (or anything else) took the focus out of the panel: it closes, as a menu does.
        # Not while a delete is under way (its buttons are disabled and lose the focus).
        nxt = event.relatedTarget
        if self.panel is None or self.panel.getAttribute("aria-busy") == "true":
            return
        if present(nxt) and (self.panel.contains(nxt) or (present(self.button) and nxt == self.button)):
            return
        if present(nxt):
            self.close()

    def dispose(self):
        self.disposed = True
        self.close()
        self.listeners.dispose()
