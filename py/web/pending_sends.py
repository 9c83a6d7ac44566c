"""Sends not yet confirmed (the outbox), after the real messages, in the order written:
"Sending…"; held for the link, "Sending…" with a clock mark; refused, "Not sent: <reason>" and Retry.
The marks are drawn (svg_icon), never emoji: a phone or a desktop without an emoji font shows
them the same (issue 22.7)."""

from web.web_dom import clear, document, el, svg_icon

ICON_CLOCK = "M12 3a9 9 0 1 0 0 18 9 9 0 1 0 0-18zM12 7v5l3 2"
ICON_CLIP = ("M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19"
             "a2 2 0 0 1-2.83-2.83l8.49-8.48")


class PendingSends:
    def __init__(self, box):
        self.box = box
        self.nodes = {}  # client_message_id -> element
        self._gone = []

    def show(self, pending_list):
        """Render the outbox; a confirmed send's node waits for `drop_gone()`."""
        seen = set()
        for item in pending_list:
            cmid = item.client_message_id
            seen.add(cmid)
            node = self.nodes.get(cmid)
            if node is None:
                node = self._make(item)
                self.box.appendChild(node)
                self.nodes[cmid] = node
            self._set_status(node, item)
        for cmid in list(self.nodes):
            if cmid not in seen:
                self._gone.append(self.nodes.pop(cmid))

    def drop_gone(self):
        # A resolved send leaves in the same task that inserts its real message:
        # never a frame with both, never a frame with neither.
        for node in self._gone:
            node.remove()
        self._gone = []

    @staticmethod
    def _make(item):
        cmid = item.client_message_id
        node = el("div", "message is-pending", attrs={
            "data-testid": "message", "data-own": "true", "data-read": "false",
            "data-pending": "true", "data-client-message-id": cmid,
        })
        bubble = el("div", "bubble")
        if item.content:
            bubble.appendChild(el("span", "message-text", item.content))
        if getattr(item, "image_name", None):
            name = el("span", "muted pending-image", attrs={"title": "Image: " + item.image_name})
            name.appendChild(svg_icon(ICON_CLIP))
            name.appendChild(document.createTextNode(" " + item.image_name))
            bubble.appendChild(name)
        node.appendChild(bubble)
        node.appendChild(el("div", "message-meta"))
        return node

    @staticmethod
    def _set_status(node, item):
        cmid = item.client_message_id
        meta = node.lastChild
        status = getattr(item.status, "value", item.status)
        failed = status == "failed"
        node.classList.toggle("is-failed", failed)
        node.classList.toggle("is-pending", not failed)
        node.classList.toggle("is-held", status == "held")
        node.setAttribute("data-status", status)
        clear(meta)
        if failed:
            reason = getattr(item, "error", None)
            meta.appendChild(el("span", "send-error", "Not sent: " + reason if reason else "Not sent."))
            meta.appendChild(el("button", "retry-btn", "Retry", attrs={
                "type": "button", "data-retry": cmid, "data-testid": "retry-send",
            }))
        elif status == "held":
            # Waiting for the link: it goes by itself, nothing to press.
            clock = el("span", "held-clock", attrs={
                "data-testid": "send-held", "role": "img", "aria-label": "Waiting for the connection",
                "title": "Waiting for the connection; it will be sent by itself",
            })
            clock.appendChild(svg_icon(ICON_CLOCK))
            meta.appendChild(clock)
            meta.appendChild(el("span", None, " Sending…"))
        else:
            meta.appendChild(el("span", None, "Sending…"))

    def dispose(self):
        self.nodes.clear()
        self._gone = []
