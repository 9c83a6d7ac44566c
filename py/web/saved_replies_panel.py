"""The "Saved replies" dialog (issue 22, point 5): add, edit and delete (title and text).

    open_saved_replies(replies, opener)   # a modal <dialog>; Escape or Close ends it
    close_saved_replies()                 # the session ended: nothing stays on screen

One at a time. The dialog is built when opened and removed, with its listeners, when closed;
the focus then goes back to the control that opened it. Every refusal (a limit, the server's
400 at 200 replies, no connection) is said in the dialog's alert line and the typed words stay
in the form. The rules and the store are core/saved_replies.py's.
"""

import asyncio

import js

from web.web_dom import Listeners, el, present, set_text

_open = []  # the panel on screen, if any


def open_saved_replies(replies, opener=None):
    if not _open:
        _open.append(SavedRepliesPanel(replies, opener))


def close_saved_replies():
    if _open:
        _open[0].close()


class SavedRepliesPanel:
    def __init__(self, replies, opener):
        self.replies = replies
        self.opener = opener
        self.editing = None  # the id of the reply the form changes; None: it adds one
        self.listeners = Listeners()
        self.notice = el("p", "replies-notice", attrs={"role": "alert", "data-testid": "saved-replies-notice"})
        self.where = el("p", "replies-where")
        self.list = el("ul", "replies-list", attrs={"data-testid": "saved-replies-list",
                                                    "aria-label": "Your saved replies"})
        self.empty = el("p", "replies-empty", "No saved replies yet. Add one below.", attrs={"hidden": ""})
        self.form_title = el("h3", "replies-form-title", "Add a reply")
        self.title_input = el("input", None, attrs={"id": "saved-reply-title", "type": "text",
                                                    "data-testid": "saved-reply-title", "autocomplete": "off"})
        self.content_input = el("textarea", None, attrs={"id": "saved-reply-content", "rows": "4",
                                                         "data-testid": "saved-reply-content"})
        self.save_button = el("button", "btn btn-primary", "Add reply", attrs={
            "type": "submit", "data-testid": "saved-reply-save"})
        self.cancel_button = el("button", "btn btn-ghost", "Cancel edit", attrs={
            "type": "button", "data-testid": "saved-reply-cancel", "hidden": ""})
        form = el("form", "replies-form", attrs={"novalidate": ""}, children=(
            self.form_title,
            el("label", None, "Title", attrs={"for": "saved-reply-title"}), self.title_input,
            el("label", None, "Text", attrs={"for": "saved-reply-content"}), self.content_input,
            el("div", "replies-form-actions", children=(self.save_button, self.cancel_button))))
        close_button = el("button", "btn btn-ghost", "Close", attrs={
            "type": "button", "data-testid": "saved-replies-close"})
        head = el("div", "replies-head", children=(
            el("h2", None, "Saved replies", attrs={"id": "saved-replies-heading"}), close_button))
        self.node = el("dialog", "replies-dialog", attrs={
            "data-testid": "saved-replies-panel", "aria-labelledby": "saved-replies-heading"},
            children=(head, self.where, self.notice, self.list, self.empty, form))
        self.listeners.add(close_button, "click", lambda _event: self.close())
        self.listeners.add(self.node, "close", lambda _event: self.close())  # Escape closes a modal dialog
        self.listeners.add(form, "submit", self._on_submit)
        self.listeners.add(self.cancel_button, "click", lambda _event: self._edit(None))
        self.listeners.add(self.list, "click", self._on_list_click)
        js.document.body.appendChild(self.node)
        self.node.showModal()
        self.title_input.focus()
        self._say(None)
        self._render()
        asyncio.ensure_future(self._run(self.replies.refresh()))

    def close(self):
        if self not in _open:
            return
        _open.remove(self)
        self.listeners.dispose()
        if self.node.open:
            self.node.close()
        self.node.remove()
        if self.opener is not None and present(self.opener) and self.opener.isConnected:
            self.opener.focus()

    # ----- showing ---------------------------------------------------------------------------

    def _render(self):
        set_text(self.where, "Kept on the server: on every device you sign in on." if self.replies.on_server
                 else "Kept in this browser only, for you.")
        rows = [self._row(reply) for reply in self.replies.replies]
        self.list.replaceChildren(*rows)
        self.empty.toggleAttribute("hidden", bool(rows))

    def _row(self, reply):
        edit = el("button", "btn btn-ghost btn-small", "Edit", attrs={
            "type": "button", "data-action": "edit", "data-reply-id": reply.id,
            "aria-label": "Edit “" + reply.title + "”"})
        delete = el("button", "btn btn-ghost btn-small btn-danger", "Delete", attrs={
            "type": "button", "data-action": "delete", "data-reply-id": reply.id,
            "aria-label": "Delete “" + reply.title + "”"})
        text = el("div", "replies-row-text", children=(
            el("span", "replies-row-title", reply.title), el("span", "replies-row-content", reply.content)))
        return el("li", "replies-row", attrs={"data-testid": "saved-reply", "data-reply-id": reply.id},
                  children=(text, el("div", "replies-row-actions", children=(edit, delete))))

    def _say(self, text):
        set_text(self.notice, text or "")
        self.notice.toggleAttribute("hidden", not text)

    def _edit(self, reply):
        self.editing = reply.id if reply is not None else None
        self.title_input.value = reply.title if reply is not None else ""
        self.content_input.value = reply.content if reply is not None else ""
        set_text(self.form_title, "Edit “" + reply.title + "”" if reply is not None else "Add a reply")
        set_text(self.save_button, "Save changes" if reply is not None else "Add reply")
        self.cancel_button.toggleAttribute("hidden", reply is None)
        self.title_input.focus()

    # ----- changing ----------------------------------------------------------------------------

    def _on_list_click(self, event):
        button = event.target.closest("button[data-action]")
        if not present(button):
            return
        reply = self.replies.find(int(button.getAttribute("data-reply-id")))
        if reply is None:
            return
        if button.getAttribute("data-action") == "edit":
            self._say(None)
            self._edit(reply)
        else:
            asyncio.ensure_future(self._run(self.replies.remove(reply.id), "Deleted “" + reply.title + "”."))

    def _on_submit(self, event):
        event.preventDefault()
        title, content = self.title_input.value, self.content_input.value
        if self.editing is None:
            change = self.replies.add(title, content)
        else:
            change = self.replies.change(self.editing, title, content)
        asyncio.ensure_future(self._run(change, "Saved “" + title.strip() + "”.", clears_form=True))

    async def _run(self, change, done=None, clears_form=False):
        self.save_button.disabled = True
        try:
            problem = await change
        finally:
            self.save_button.disabled = False
        if self not in _open:
            return  # closed meanwhile
        self._render()
        if problem is not None:
            self._say(problem)  # the typed words stay in the form
            return
        if clears_form:
            self._edit(None)
        elif self.editing is not None and self.replies.find(self.editing) is None:
            self._edit(None)  # the reply being edited was deleted
        self._say(done)

