"""The full-size photo viewer (issue 22, item 4): one modal dialog, reused.

    viewer = PhotoViewer()
    viewer.open(src, "Photo from Alex", return_to=thumbnail_button)
    ...                    # Escape, the Close button or a click beside the photo closes it
    viewer.dispose()       # the chat closes: closed too, its listeners and proxies released

A native <dialog> shown with showModal(): the rest of the page is inert while it is open,
and the browser draws the backdrop. One element serves every open of every chat (built on
the first open, kept hidden in <body> after); the listeners exist only while it is open.
Focus goes to the Close button, stays in the dialog (Tab cycles inside it) and returns to
the thumbnail on close. The photo fits the viewport at its own ratio (static/app.css); on a
phone the dialog fills the screen, the photo can be pinched and scrolled, Close stays on top.
The URL is checked again (core/safe_url.py): only what the message list could show is shown.
"""

from core.safe_url import safe_image_url
from web.web_dom import Listeners, document, el, present, svg_icon

ICON_CLOSE = "M18 6 6 18M6 6l12 12"

_dialog = None  # the one viewer element, built on first use


def _viewer_element():
    global _dialog
    if _dialog is None or not _dialog.isConnected:
        close = el("button", "photo-viewer-close", attrs={
            "type": "button", "data-testid": "photo-viewer-close", "aria-label": "Close photo",
        }, children=[svg_icon(ICON_CLOSE)])
        frame = el("div", "photo-viewer-frame", children=[
            el("img", "photo-viewer-image", attrs={"data-testid": "photo-viewer-image", "alt": ""}),
        ])
        _dialog = el("dialog", "photo-viewer", attrs={
            "data-testid": "photo-viewer", "aria-modal": "true", "aria-label": "Photo",
        }, children=[close, frame])
        document.body.appendChild(_dialog)
    return _dialog


class PhotoViewer:
    def __init__(self):
        self._listeners = Listeners()
        self._dialog = None
        self._return_to = None

    @property
    def is_open(self):
        return self._dialog is not None

    def thumbnail_present(self):
        """The thumbnail it was opened from is still in the page."""
        return present(self._return_to) and bool(self._return_to.isConnected)

    def open(self, src, label, return_to=None):
        """Show `src` full size; False (nothing shown) when it is not an image URL."""
        url = safe_image_url(src)
        if url is None:
            return False
        self.close(restore_focus=False)
        dialog = self._dialog = _viewer_element()
        self._return_to = return_to
        close_button = dialog.querySelector(".photo-viewer-close")
        image = dialog.querySelector(".photo-viewer-image")
        dialog.setAttribute("aria-label", label)
        image.setAttribute("alt", label)
        image.src = url
        self._listeners.add(dialog, "keydown", self._on_keydown)
        self._listeners.add(dialog, "cancel", self._on_cancel)
        self._listeners.add(dialog, "close", lambda _event: self.close())  # closed any other way
        self._listeners.add(dialog, "click", self._on_click)
        self._listeners.add(close_button, "click", lambda _event: self.close())
        dialog.showModal()
        close_button.focus()
        return True

    def close(self, restore_focus=True):
        dialog = self._dialog
        if dialog is None:
            return
        self._dialog = None
        self._listeners.dispose()
        if dialog.open:
            dialog.close()
        dialog.querySelector(".photo-viewer-image").removeAttribute("src")  # let the full-size bytes go
        back, self._return_to = self._return_to, None
        if restore_focus and present(back) and back.isConnected:
            back.focus()

    def _on_keydown(self, event):
        if event.key == "Escape":
            event.preventDefault()
            event.stopPropagation()
            self.close()
        elif event.key == "Tab":
            # The Close button is the viewer's one control: Tab and Shift+Tab stay on it.
            event.preventDefault()
            self._dialog.querySelector(".photo-viewer-close").focus()

    def _on_cancel(self, event):
        # The browser's own close request (Escape without a keydown we saw): same path.
        event.preventDefault()
        self.close()

    def _on_click(self, event):
        # A click beside the photo (the backdrop, the empty frame) closes; on the photo does not.
        if event.target.tagName != "IMG":
            self.close()

    def dispose(self):
        self.close(restore_focus=False)  # the chat is going: its thumbnail with it
