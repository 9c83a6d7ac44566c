"""The composer: the message box, the image picker and the send button.

Enter sends, Shift+Enter makes a new line, never during IME composition; every keystroke
is reported (typing, AC-16); a send hands (text, file or None) to `on_send` and clears.
Limits are said before they bite (core/send_limits.py): a counter near 2,000 characters, a
longer message refused in words and kept whole (no maxlength: nothing is ever cut), and a
picked file of the wrong type or over 5 MB refused at once with the reason.
The text is the conversation's draft (issue 14): it starts as the stored draft, with no
typing signal until the trainer types, and every change is handed to `on_draft`.
Editing (issue 22.3): `start_edit` puts an own message's words in the box under "Editing
message" with Cancel; Enter saves through `on_save_edit(mid, text)` (an awaitable: None when
saved, else the sentence to say, and the words stay), Escape or Cancel gives the draft back.
Up arrow in an empty box asks `on_edit_last()` for the last own message still editable.
"""

import asyncio


from core import send_limits
from core.message_actions import edit_refusal
from web.web_dom import el, set_text, svg_icon

ICON_SEND = "M22 2 11 13M22 2l-7 20-4-9-9-4 20-7z"
ICON_ATTACH = ("M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19"
               "a2 2 0 0 1-2.83-2.83l8.49-8.48")


class Composer:
    def __init__(self, conversation_id, listeners, *, on_send, on_typing, draft="", on_draft=None,
                 on_save_edit=None, on_edit_last=None):
        self.on_send = on_send
        self.on_save_edit = on_save_edit
        self.on_edit_last = on_edit_last or (lambda: False)
        self.editing = None  # (message id, has an image, its words, the draft put aside) while editing
        self.on_typing = on_typing
        self.on_draft = on_draft or (lambda text: None)
        self._restored = bool(draft)
        self._attachment = None
        form = self.node = el("form", "composer", attrs={"aria-label": "Send a message"})
        file_id = "attach-" + str(conversation_id)
        self.file_input = el("input", "file-input", attrs={
            "type": "file", "id": file_id, "accept": send_limits.ACCEPT,
            "data-testid": "attach-image", "aria-label": "Attach an image",
        })
        label = el("label", "icon-btn", attrs={"for": file_id, "title": "Attach an image"})
        label.appendChild(svg_icon(ICON_ATTACH))
        label.appendChild(el("span", "visually-hidden", "Attach an image"))
        self.attach_preview = el("span", "attach-preview")
        self.input = el("textarea", None, attrs={
            "data-testid": "chat-input", "rows": "1", "placeholder": "Write a message…",
            "aria-label": "Message",
        })
        self.counter = el("span", "char-counter", attrs={"data-testid": "char-counter", "hidden": ""})
        self.notice = el("p", "composer-notice", attrs={
            "data-testid": "composer-notice", "role": "alert", "hidden": "",
        })
        if draft:
            self.input.value = draft  # a value set in code fires no input event: no typing signal
        self.send_button = el("button", "icon-btn send-btn", attrs={
            "type": "submit", "data-testid": "send-button", "aria-label": "Send message",
        })
        self.send_button.appendChild(svg_icon(ICON_SEND))
        edit_cancel = el("button", "edit-cancel", "Cancel", attrs={"type": "button", "data-testid": "edit-cancel"})
        self.edit_label = el("span", "edit-label", "Editing message")
        self.edit_bar = el("div", "edit-bar", attrs={"data-testid": "edit-bar", "hidden": ""},
                           children=(self.edit_label, edit_cancel))
        for child in (self.edit_bar, self.file_input, label, self.attach_preview, self.input, self.counter,
                      self.send_button, self.notice):
            form.appendChild(child)
        listeners.add(edit_cancel, "click", lambda _event: self.cancel_edit())
        listeners.add(form, "submit", self._on_submit)
        listeners.add(self.input, "keydown", self._on_keydown)
        listeners.add(self.input, "input", self._on_input)
        listeners.add(self.file_input, "change", self._on_file)

    def mounted(self):
        """In the document now: a restored draft gets its height (and its counter, when long)."""
        if self._restored:
            self._autosize()
            self._show_counter()

    def focus(self):
        self.input.focus()
        if self._restored:
            self._restored = False
            end = len(self.input.value)
            self.input.setSelectionRange(end, end)  # the caret after the restored draft

    def _on_submit(self, event):
        event.preventDefault()
        self._send()

    def _on_keydown(self, event):
        if event.isComposing:
            return
        if event.key == "Enter" and not event.shiftKey:
            event.preventDefault()
            self._send()
        elif event.key == "Escape" and self.editing is not None:
            event.preventDefault()
            event.stopPropagation()  # not also the chat's Escape (back, on a phone)
            self.cancel_edit()
        elif (event.key == "ArrowUp" and self.editing is None and not self.input.value
              and self._attachment is None and self.on_edit_last()):
            event.preventDefault()

    def _on_input(self, _event):
        if self.editing is None:  # an edit is neither typing news nor the draft
            self.on_typing()
            self.on_draft(self.input.value)
        self._autosize()
        self._show_counter()

    def _show_counter(self):
        length = len(self.input.value)
        text = send_limits.counter_text(length)
        if text is None:
            self.counter.setAttribute("hidden", "")
        else:
            self.counter.removeAttribute("hidden")
            set_text(self.counter, text)
        self.counter.classList.toggle("is-over", send_limits.is_over(length))
        if not send_limits.is_over(length) and self.notice.getAttribute("data-kind") == "text":
            self._say(None)

    def _say(self, text, kind=None):
        if text is None:
            self.notice.setAttribute("hidden", "")
            self.notice.removeAttribute("data-kind")
            set_text(self.notice, "")
        else:
            self.notice.removeAttribute("hidden")
            self.notice.setAttribute("data-kind", kind)
            set_text(self.notice, text)

    def _autosize(self):
        self.input.style.height = "auto"
        self.input.style.height = str(min(160, int(self.input.scrollHeight) + 2)) + "px"

    def _on_file(self, _event):
        files = self.file_input.files
        picked = files.item(0) if files and files.length else None
        refusal = send_limits.attachment_refusal(str(picked.name), str(picked.type), int(picked.size)) \
            if picked is not None else None
        if refusal is not None:
            picked = None
            self.file_input.value = ""  # refused at once: nothing is attached
        self._say(refusal, "file")
        self._attachment = picked
        set_text(self.attach_preview, self._attachment.name if self._attachment else "")

    # ----- editing one's own message (issue 22.3) ------------------------------------------------

    def start_edit(self, mid, content, has_image):
        if self.editing is None:
            put_aside = self.input.value
        else:
            put_aside = self.editing[3]
        self.editing = (mid, has_image, content, put_aside)
        self.node.classList.add("is-editing")
        self.edit_bar.removeAttribute("hidden")
        set_text(self.edit_label, "Editing message")
        self.send_button.setAttribute("aria-label", "Save changes")
        self.file_input.disabled = True
        self.input.value = content
        self._say(None)
        self._autosize()
        self._show_counter()
        self.input.focus()
        end = len(content)
        self.input.setSelectionRange(end, end)

    def cancel_edit(self):
        if self.editing is None:
            return
        put_aside = self.editing[3]
        self.editing = None
        self.node.classList.remove("is-editing")
        self.edit_bar.setAttribute("hidden", "")
        self.send_button.setAttribute("aria-label", "Send message")
        self.send_button.disabled = False
        self.file_input.disabled = False
        self.input.value = put_aside
        self._autosize()
        self._show_counter()
        self.input.focus()

    def say(self, text):
        """A calm sentence from elsewhere (a refused delete), where the composer says things."""
        self._say(text, "action" if text is not None else None)

    async def _save_edit(self, editing, text):
        set_text(self.edit_label, "Saving…")
        self.send_button.disabled = True
        failure = await self.on_save_edit(editing[0], text)
        if self.editing is not editing:
            return  # cancelled (or another edit began) meanwhile: the answer went to the cache
        self.send_button.disabled = False
        if failure is None:
            self.cancel_edit()
        else:
            set_text(self.edit_label, "Editing message")
            self._say(failure, "action")  # the words stay in the box: nothing is lost

    def _send(self):
        if self.editing is not None:
            editing, text = self.editing, self.input.value
            refusal = edit_refusal(text, editing[1])
            if refusal is not None:
                self._say(refusal, "text")
            elif text == editing[2]:
                self.cancel_edit()  # nothing changed: nothing to send
            elif not self.send_button.disabled:
                self._say(None)
                asyncio.ensure_future(self._save_edit(editing, text))
            return
        text = self.input.value
        attachment = self._attachment
        if not text.strip() and attachment is None:
            return
        refusal = send_limits.text_refusal(text)
        if refusal is not None:
            self._say(refusal, "text")  # kept whole in the box, never cut
            return
        self._say(None)
        self.input.value = ""
        self.on_draft("")
        self._autosize()
        self._attachment = None
        self.file_input.value = ""
        set_text(self.attach_preview, "")
        self._show_counter()
        self.on_send(text, attachment)
