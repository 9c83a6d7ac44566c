"""One message's DOM node: built once per message id, its read state, text, "edited" label
and deletion updated in place (STYLE 6).

A clone of a prebuilt node costs a third of the DOM calls of building one element by
element, and this runs once per message (2,000 in a burst). Text goes in with textContent
only (STYLE 7); an image URL must pass safe_url first.
"""

from core import formatting
from core.linkify import split_links
from core.message_actions import DELETED_TEXT, may_change_later
from core.safe_url import safe_image_url
from web.web_dom import document, el, present, svg_icon

LINK_REL = "noopener noreferrer nofollow"
ICON_MORE = "M5 12h.01M12 12h.01M19 12h.01"  # three dots (round caps draw them)


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
        # The menu of one's own message (issue 22.3): shown by the CSS only when the backend
        # offers edit or delete (body[data-capabilities]); what it offers is decided on open.
        more = el("button", "message-menu-btn", attrs={
            "type": "button", "aria-label": "More actions", "aria-haspopup": "menu", "aria-expanded": "false",
            "data-testid": "message-menu-button", "title": "More actions",
        })
        more.appendChild(svg_icon(ICON_MORE))
        meta.appendChild(more)
    node.appendChild(meta)
    return node


def _version(message):
    return (message.get("content") or "", message.get("image"), message.get("edited_at"),
            bool(message.get("deleted")))


def _show_deleted(node):
    """For both sides: no text, no image, no menu; the place in the history stays."""
    node.classList.add("is-deleted")
    node.setAttribute("data-deleted", "true")
    node.firstChild.replaceChildren(el("span", "message-text deleted-text", DELETED_TEXT))
    for stale in node.querySelectorAll(".message-menu-btn, .message-menu, .edited-label"):
        stale.remove()


def _show_edited(node):
    if present(node.querySelector(".edited-label")):
        return
    meta = node.lastChild
    meta.insertBefore(el("span", "edited-label", "edited", attrs={"data-testid": "message-edited"}),
                      meta.firstChild)


class MessageNodes:
    """Makes message nodes and keeps their read state as rendered (AC-24: ticks in place)."""

    def __init__(self, me, api_base, clock=None):
        self.me = me
        self.api_base = api_base
        self.clock = clock  # seconds since the epoch: whether a menu can still be of use
        self.read_state = {}  # message id -> bool as rendered
        self.versions = {}  # message id -> (content, image, edited_at, deleted) as rendered
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
            img = el("img", "message-image", attrs={
                "alt": "Image from " + formatting.display_name(message["sender"]),
                "loading": "lazy", "decoding": "async", "width": "240", "height": "180",
            })
            img.src = image_url
            bubble.insertBefore(img, bubble.firstChild)
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
        self.versions[message["id"]] = _version(message)
        if message.get("deleted"):
            _show_deleted(node)
        else:
            if message.get("edited_at"):
                _show_edited(node)
            if own and self.clock is not None and not may_change_later(message, self.clock()):
                node.querySelector(".message-menu-btn").remove()  # older history: no dead Tab stop
        return node

    def _refill(self, node, message):
        """An edit or a delete arrived: the bubble's words (and the label) change in place."""
        if message.get("deleted"):
            _show_deleted(node)
            return
        bubble = node.firstChild
        text = bubble.querySelector(".message-text")
        if not present(text):
            text = el("span", "message-text")
            bubble.appendChild(text)
        text.replaceChildren()
        content = message.get("content") or ""
        if content:
            fill_text(text, content)
        else:
            text.remove()
        if message.get("edited_at"):
            _show_edited(node)

    def update(self, node, message):
        """The message's read state or words changed (or not): change the node in place."""
        mid = message["id"]
        version = _version(message)
        if self.versions.get(mid) != version:
            self.versions[mid] = version
            self._refill(node, message)
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
        self.versions.clear()

    def dispose(self):
        self.read_state.clear()
        self.versions.clear()
        self._own_proto = self._other_proto = None
