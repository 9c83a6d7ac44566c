"""One message's DOM node: built once per message id, its read state updated in place.

A clone of a prebuilt node costs a third of the DOM calls of building one element by
element, and this runs once per message (2,000 in a burst). Text goes in with textContent
only (STYLE 7); an image URL must pass safe_url first.
"""

from core import formatting
from core.linkify import split_links
from core.photo_fit import RESERVED
from core.safe_url import safe_image_url
from web.web_dom import document, el, present

LINK_REL = "noopener noreferrer nofollow"


def fill_text(span, content):
    """The message text into `span`: plain runs as text nodes, http(s) URLs as links
    (issue 14): built with createElement/textContent, href exactly the text shown."""
    segments = split_links(content)
    if len(segments) == 1 and segments[0].href is None:
        span.textContent = content
        return
    for segment in segments:
        if segment.href is None:
            span.appendChild(document.createTextNode(segment.text))
        else:
            span.appendChild(el("a", "message-link", segment.text, attrs={
                "href": segment.href, "target": "_blank", "rel": LINK_REL,
            }))


def _photo(image_url, sender_name):
    """The thumbnail, a button that opens the full-size photo (issue 22, item 4). It reserves
    photo_fit.RESERVED until the photo has loaded (message_list.py then fits it)."""
    img = el("img", "message-image", attrs={
        "alt": "Image from " + sender_name, "loading": "lazy", "decoding": "async",
        "width": str(RESERVED.width), "height": str(RESERVED.height),
    })
    img.src = image_url
    return el("button", "photo-open", attrs={
        "type": "button", "data-testid": "open-photo", "aria-label": "Open photo from " + sender_name,
        "data-photo-label": "Photo from " + sender_name,
    }, children=[img])


def _set_ticks(ticks, is_read):
    ticks.textContent = "✓✓" if is_read else "✓"
    ticks.setAttribute("aria-label", "Read" if is_read else "Sent")


def _proto(own):
    node = el("div", "message", attrs={
        "data-testid": "message", "data-own": "true" if own else "false", "data-read": "false",
    })
    node.appendChild(el("div", "bubble", children=[el("span", "message-text")]))
    meta = el("div", "message-meta", children=[el("time")])
    if own:
        ticks = el("span", "ticks", attrs={"role": "img"})
        _set_ticks(ticks, False)
        meta.appendChild(ticks)
    node.appendChild(meta)
    return node


class MessageNodes:
    """Makes message nodes and keeps their read state as rendered (AC-24: ticks in place)."""

    def __init__(self, me, api_base):
        self.me = me
        self.api_base = api_base
        self.read_state = {}  # message id -> bool as rendered
        self._own_proto = _proto(True)
        self._other_proto = _proto(False)

    def make(self, message, clock, full=""):
        own = message["sender"]["id"] == self.me["id"]
        is_read = bool(message.get("is_read"))
        node = (self._own_proto if own else self._other_proto).cloneNode(True)
        node.setAttribute("data-message-id", message["id"])
        bubble = node.firstChild
        text = bubble.firstChild
        content = message.get("content") or ""
        if content:
            fill_text(text, content)
        else:
            text.remove()
        image_url = safe_image_url(message.get("image"), self.api_base)
        if image_url:
            bubble.insertBefore(_photo(image_url, formatting.display_name(message["sender"])), bubble.firstChild)
        stamp = node.lastChild.firstChild
        stamp.textContent = clock
        stamp.setAttribute("datetime", message.get("created_at") or "")
        if full:
            # Every message keeps its full date and time, also where its group shows one time.
            stamp.setAttribute("title", full)
            bubble.setAttribute("title", full)
        if is_read:
            node.setAttribute("data-read", "true")
            if own:
                _set_ticks(stamp.nextSibling, True)
        self.read_state[message["id"]] = is_read
        return node

    def update(self, node, message):
        """The message's read state changed (or not): flip the node in place."""
        mid = message["id"]
        is_read = bool(message.get("is_read"))
        if self.read_state.get(mid) == is_read:
            return
        self.read_state[mid] = is_read
        node.setAttribute("data-read", "true" if is_read else "false")
        if message["sender"]["id"] != self.me["id"]:
            return  # only one's own messages have ticks (_proto): no lookup for the other party's
        ticks = node.querySelector(".ticks")
        if present(ticks):
            _set_ticks(ticks, is_read)

    def forget_all(self):
        self.read_state.clear()

    def dispose(self):
        self.read_state.clear()
        self._own_proto = self._other_proto = None
