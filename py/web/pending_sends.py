"""Sends not yet confirmed (the outbox): after the real messages, "Sending…" or "Not sent. Retry"."""

from web.web_dom import clear, el


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
            bubble.appendChild(el("span", "muted", " 📎 " + item.image_name))
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
        node.setAttribute("data-status", status)
        clear(meta)
        if failed:
            meta.appendChild(el("span", None, "Not sent."))
            meta.appendChild(el("button", "retry-btn", "Retry", attrs={
                "type": "button", "data-retry": cmid, "data-testid": "retry-send",
            }))
        else:
            meta.appendChild(el("span", None, "Sending…"))

    def dispose(self):
        self.nodes.clear()
        self._gone = []
