"""The composer: the message box, the image picker and the send button.

Enter sends, Shift+Enter makes a new line, never during IME composition; every keystroke
is reported (typing, AC-16); a send hands (text, file or None) to `on_send` and clears.
"""

from web.web_dom import el, set_text, svg_icon

ICON_SEND = "M22 2 11 13M22 2l-7 20-4-9-9-4 20-7z"
ICON_ATTACH = ("M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19"
               "a2 2 0 0 1-2.83-2.83l8.49-8.48")


class Composer:
    def __init__(self, conversation_id, listeners, *, on_send, on_typing):
        self.on_send = on_send
        self.on_typing = on_typing
        self._attachment = None
        form = self.node = el("form", "composer", attrs={"aria-label": "Send a message"})
        file_id = "attach-" + str(conversation_id)
        self.file_input = el("input", "file-input", attrs={
            "type": "file", "id": file_id, "accept": "image/png,image/jpeg,image/gif,image/webp",
            "data-testid": "attach-image", "aria-label": "Attach an image",
        })
        label = el("label", "icon-btn", attrs={"for": file_id, "title": "Attach an image"})
        label.appendChild(svg_icon(ICON_ATTACH))
        label.appendChild(el("span", "visually-hidden", "Attach an image"))
        self.attach_preview = el("span", "attach-preview")
        self.input = el("textarea", None, attrs={
            "data-testid": "chat-input", "rows": "1", "placeholder": "Write a message…",
            "aria-label": "Message", "maxlength": "2000",
        })
        self.send_button = el("button", "icon-btn send-btn", attrs={
            "type": "submit", "data-testid": "send-button", "aria-label": "Send message",
        })
        self.send_button.appendChild(svg_icon(ICON_SEND))
        for child in (self.file_input, label, self.attach_preview, self.input, self.send_button):
            form.appendChild(child)
        listeners.add(form, "submit", self._on_submit)
        listeners.add(self.input, "keydown", self._on_keydown)
        listeners.add(self.input, "input", self._on_input)
        listeners.add(self.file_input, "change", self._on_file)

    def focus(self):
        self.input.focus()

    def _on_submit(self, event):
        event.preventDefault()
        self._send()

    def _on_keydown(self, event):
        if event.key == "Enter" and not event.shiftKey and not event.isComposing:
            event.preventDefault()
            self._send()

    def _on_input(self, _event):
        self.on_typing()
        self._autosize()

    def _autosize(self):
        self.input.style.height = "auto"
        self.input.style.height = str(min(160, int(self.input.scrollHeight) + 2)) + "px"

    def _on_file(self, _event):
        files = self.file_input.files
        self._attachment = files.item(0) if files and files.length else None
        set_text(self.attach_preview, self._attachment.name if self._attachment else "")

    def _send(self):
        text = self.input.value
        attachment = self._attachment
        if not text.strip() and attachment is None:
            return
        self.input.value = ""
        self._autosize()
        self._attachment = None
        self.file_input.value = ""
        set_text(self.attach_preview, "")
        self.on_send(text, attachment)
