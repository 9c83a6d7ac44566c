"""The composer's chosen photo (issue 22, item 4): a small thumbnail, the file name and a
"Remove photo" button.

The thumbnail is an object URL made from the File; it is revoked whenever the photo leaves
the composer (removed, sent, replaced by another, the chat closed), so no picked photo stays
in memory. A file the browser cannot draw (an odd PNG) keeps its name, without a picture.

    preview = AttachPreview(listeners, on_remove=forget_the_file)
    preview.show(file)     # picked
    preview.clear()        # sent
    preview.dispose()      # the chat closes
"""

import js

from web.web_dom import el, set_text, svg_icon

ICON_REMOVE = "M18 6 6 18M6 6l12 12"


class AttachPreview:
    def __init__(self, listeners, *, on_remove):
        self.on_remove = on_remove
        self._url = None
        self.thumb = el("img", "attach-thumb", attrs={"alt": "", "data-testid": "attach-thumb", "hidden": ""})
        self.name = el("span", "attach-name")
        self.remove_button = el("button", "attach-remove", attrs={
            "type": "button", "data-testid": "attach-remove", "aria-label": "Remove photo",
            "title": "Remove photo", "hidden": "",
        }, children=[svg_icon(ICON_REMOVE)])
        self.node = el("span", "attach-preview", attrs={"data-testid": "attach-preview"},
                       children=[self.thumb, self.name, self.remove_button])
        listeners.add(self.remove_button, "click", self._on_remove)
        listeners.add(self.thumb, "error", self._on_thumb_error)

    def show(self, picked):
        """`picked`: the File now attached, or None."""
        self._revoke()
        if picked is None:
            self._hide()
            return
        self._url = js.URL.createObjectURL(picked)
        self.thumb.src = self._url
        self.thumb.setAttribute("alt", "Chosen photo " + str(picked.name))
        self.thumb.removeAttribute("hidden")
        set_text(self.name, str(picked.name))
        self.remove_button.setAttribute("aria-label", "Remove photo " + str(picked.name))
        self.remove_button.removeAttribute("hidden")

    def clear(self):
        self._revoke()
        self._hide()

    def _hide(self):
        self.thumb.setAttribute("hidden", "")
        self.thumb.removeAttribute("src")
        self.thumb.setAttribute("alt", "")
        set_text(self.name, "")
        self.remove_button.setAttribute("hidden", "")

    def _revoke(self):
        if self._url is not None:
            js.URL.revokeObjectURL(self._url)
            self._url = None

    def _on_remove(self, _event):
        self.clear()
        self.on_remove()

    def _on_thumb_error(self, _event):
        if self._url is not None:  # a picked file the browser cannot draw: its name is enough
            self.thumb.setAttribute("hidden", "")

    def dispose(self):
        self._revoke()
