"""The conversation list DOM: one row per conversation, keyed by id.

Rows are created once and updated in place; order changes move existing nodes
(AC-15: a new message lifts its conversation to the top without a refetch).
"""

from core.conversation_ops import other_party
from core import formatting
from core.safe_url import safe_image_url
from web.bell_icons import ICON_BELL_OFF
from web.web_dom import Listeners, el, present, set_text, svg_icon


class ConversationListView:
    def __init__(self, list_node, empty_node, total_node, me, *, tz_offset, now_iso, on_open):
        self.list = list_node
        self.empty = empty_node
        self.total = total_node
        self.me = me
        self.tz_offset = tz_offset
        self.now_iso = now_iso  # callable -> ISO string of the current time
        self.on_open = on_open
        self.rows = {}   # id -> (li, parts dict)
        self.order = []
        # id -> what the row shows now. The list re-renders on every live message (a
        # 2,000-message burst: 2,000 renders); a row whose text, badge and selection are
        # unchanged then costs no DOM calls at all.
        self.shown = {}
        self.shown_total = None
        self.when_cache = {}
        self.selected = None
        self.is_muted = lambda cid: False  # set by web/notifier.py: a muted row shows a mark
        self.stop = None  # the one row in the Tab order (a roving tabindex, issue 14)
        self.listeners = Listeners()
        self.listeners.add(self.list, "click", self._on_click)
        self.listeners.add(self.list, "focusin", self._on_focusin)

    def _on_focusin(self, event):
        node = event.target.closest("[data-conversation-id]") if present(event.target) else None
        if present(node):
            self._set_stop(int(node.getAttribute("data-conversation-id")))

    def _set_stop(self, cid):
        """Arrow keys move between rows; Tab enters the list at one row and leaves it."""
        if cid not in self.rows:
            cid = self.selected if self.selected in self.rows else (self.order[0] if self.order else None)
        if cid == self.stop and cid is not None and self.rows[cid][1]["button"].getAttribute("tabindex") == "0":
            return
        old = self.rows.get(self.stop)
        if old is not None:
            old[1]["button"].setAttribute("tabindex", "-1")
        self.stop = cid
        if cid is not None:
            self.rows[cid][1]["button"].setAttribute("tabindex", "0")

    def _on_click(self, event):
        node = event.target.closest("[data-conversation-id]")
        if present(node):
            self.on_open(int(node.getAttribute("data-conversation-id")))

    def _make_row(self, conversation):
        other = other_party(conversation, self.me.get("id"))
        li = el("li", "conversation-row")
        button = el("button", "conversation-item", attrs={
            "type": "button", "data-testid": "conversation-item",
            "data-conversation-id": conversation["id"], "tabindex": "-1",
        })
        avatar = el("span", "avatar", attrs={"aria-hidden": "true"})
        url = safe_image_url(other.get("profile_image"))
        if url:
            img = el("img", attrs={"alt": "", "loading": "lazy"})
            img.src = url
            avatar.appendChild(img)
        else:
            avatar.textContent = formatting.initials(other)
        body = el("span", "conversation-body")
        top = el("span", "conversation-top")
        name = el("span", "conversation-name", formatting.display_name(other))
        when = el("time", "conversation-time")
        top.appendChild(name)
        muted = el("span", "muted-mark", attrs={"data-testid": "conversation-muted", "title": "Muted"},
                   children=(svg_icon(ICON_BELL_OFF), el("span", "visually-hidden", "(muted)")))
        muted.hidden = not self.is_muted(conversation["id"])
        top.appendChild(muted)
        if conversation.get("is_archived"):
            # Outside the name, so a long name's ellipsis never clips the tag.
            top.appendChild(el("span", "tag-archived", "Archived"))
        top.appendChild(when)
        bottom = el("span", "conversation-bottom")
        preview = el("span", "conversation-preview", attrs={"data-testid": "conversation-preview"})
        badge = el("span", "badge", attrs={"data-testid": "conversation-unread"})
        bottom.appendChild(preview)
        bottom.appendChild(badge)
        body.appendChild(top)
        body.appendChild(bottom)
        button.appendChild(avatar)
        button.appendChild(body)
        li.appendChild(button)
        return li, {"button": button, "when": when, "preview": preview, "badge": badge, "name": name,
                    "muted": muted}

    def show_muted(self, cid, muted):
        row = self.rows.get(cid)
        if row is not None:
            row[1]["muted"].hidden = not muted

    def render(self, conversations, total_unread):
        seen = set()
        now_iso = self.now_iso()
        for conversation in conversations:
            cid = conversation["id"]
            seen.add(cid)
            row = self.rows.get(cid)
            if row is None:
                row = self._make_row(conversation)
                self.rows[cid] = row
            li, parts = row
            preview = conversation.get("last_message_preview") or "No messages yet"
            when = self._when(cid, conversation.get("last_message_at"), now_iso)
            unread = int(conversation.get("unread_count") or 0)
            state = (preview, when, unread, cid == self.selected)
            if self.shown.get(cid) == state:
                continue
            self.shown[cid] = state
            set_text(parts["preview"], preview)
            set_text(parts["when"], when)
            if unread:
                parts["badge"].hidden = False
                set_text(parts["badge"], str(unread))
                parts["badge"].setAttribute("aria-label", f"{unread} unread")
            else:
                parts["badge"].hidden = True
                set_text(parts["badge"], "0")
            parts["button"].classList.toggle("has-unread", unread > 0)
            parts["button"].setAttribute("aria-current", "true" if cid == self.selected else "false")
        for cid in list(self.rows):
            if cid not in seen:
                li, _ = self.rows.pop(cid)
                self.shown.pop(cid, None)
                self.when_cache.pop(cid, None)
                li.remove()
        # Reorder with the fewest moves: walk the wanted order, move only misplaced rows.
        order = [c["id"] for c in conversations]
        if order != self.order:
            cursor = self.list.firstChild
            for cid in order:
                li = self.rows[cid][0]
                if present(cursor) and li == cursor:
                    cursor = cursor.nextSibling
                else:
                    self.list.insertBefore(li, cursor if present(cursor) else None)
            self.order = order
        self.empty.hidden = bool(conversations)
        self._set_stop(self.stop)
        if self.shown_total != total_unread:
            self.shown_total = total_unread
            set_text(self.total, str(total_unread))
            self.total.setAttribute("data-count", str(total_unread))
            self.total.setAttribute("aria-label", f"{total_unread} unread messages")

    def _when(self, cid, at, now_iso):
        """The row's time label, recomputed only when its time or the current minute
        changes (the label depends on the local date, a function of the UTC minute)."""
        if not at:
            return ""
        key = (at, str(now_iso)[:16])
        cached = self.when_cache.get(cid)
        if cached is not None and cached[0] == key:
            return cached[1]
        when = formatting.format_list_time(at, now_iso, self.tz_offset)
        self.when_cache[cid] = (key, when)
        return when

    def select(self, cid):
        self.selected = cid
        for rid, (li, parts) in self.rows.items():
            parts["button"].setAttribute("aria-current", "true" if rid == cid else "false")
        if cid is not None:
            self._set_stop(cid)

    def focus_row(self, cid):
        """Focus the row of `cid` (None: the selected row, else the first)."""
        if cid is None:
            cid = self.selected if self.selected in self.rows else (self.order[0] if self.order else None)
        row = self.rows.get(cid)
        if row is not None:
            row[1]["button"].focus()

    def dispose(self):
        self.listeners.dispose()
        for li, _ in self.rows.values():
            li.remove()
        self.rows.clear()
        self.order = []
        self.stop = None
        self.shown.clear()
        self.shown_total = None
