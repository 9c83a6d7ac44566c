"""The message list's photos (issue 22, item 4): each thumbnail gets its photo's own ratio
once loaded (core/photo_fit.py), and a click, Enter or Space on it opens the viewer.

Both are delegated to the list node: 'load' and 'error' do not bubble, so they are heard in
the capture phase, one listener each for every photo of the chat. The new size is written
in the load event itself (no layout read); the list's size watch then keeps a reader who
was at the bottom there (web/message_list.py).
"""

import js

from core import photo_fit
from web.photo_viewer import PhotoViewer
from web.web_dom import present

PHONE_QUERY = "(max-width: 480px)"


def _photo_button(target):
    if not present(target) or not hasattr(target, "closest"):
        return None
    button = target.closest(".photo-open")
    return button if present(button) else None


class PhotoThumbs:
    def __init__(self, list_node, listeners):
        self.viewer = PhotoViewer()
        self.list_node = list_node
        self.phone = js.window.matchMedia(PHONE_QUERY)
        listeners.add(list_node, "load", self._on_load, True)
        listeners.add(list_node, "error", self._on_error, True)
        listeners.add(list_node, "click", self._on_click)
        # Across the phone's width (a rotation, a resized window) the loaded photos refit.
        listeners.add(self.phone, "change", self._refit_all)

    def _fit(self, img):
        box = photo_fit.PHONE_BOX if self.phone.matches else photo_fit.DESKTOP_BOX
        size = photo_fit.thumbnail_size(img.naturalWidth, img.naturalHeight, box)
        img.setAttribute("width", str(size.width))
        img.setAttribute("height", str(size.height))
        img.classList.add("is-fitted")

    def _on_load(self, event):
        img = event.target
        if getattr(img, "tagName", "") == "IMG" and img.classList.contains("message-image"):
            self._fit(img)

    def _refit_all(self, _event=None):
        for img in self.list_node.querySelectorAll("img.message-image.is-fitted"):
            self._fit(img)

    @staticmethod
    def _on_error(event):
        button = _photo_button(event.target) if getattr(event.target, "tagName", "") == "IMG" else None
        if button is not None:
            button.disabled = True  # nothing to open: no longer a tab stop
            button.setAttribute("aria-label", "Image unavailable")

    def _on_click(self, event):
        button = _photo_button(event.target)
        if button is None or button.disabled:
            return
        img = button.querySelector("img")
        if present(img):
            event.preventDefault()
            label = button.getAttribute("data-photo-label") or "Photo"
            self.viewer.open(img.getAttribute("src"), label, return_to=button)

    def after_render(self):
        """Once per frame (the list's): a photo whose message was deleted (or whose node went)
        is no longer shown full size either; focus goes to the list, not to nowhere."""
        if self.viewer.is_open and not self.viewer.thumbnail_present():
            self.viewer.close(restore_focus=False)
            self.list_node.focus()

    def dispose(self):
        self.viewer.dispose()
