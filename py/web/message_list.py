"""The message list: confirmed messages by id, pending sends after them, and the scroll.

- Render by key (STYLE rule 6): one node per message id, created once (message_nodes.py),
  updated in place when its read state changes (AC-24). Pending sends live in their own
  box after the real messages (pending_sends.py) and leave when their real message comes.
- New messages at the end are inserted at once, in the task that received them (a DOM
  write is cheap and the p99 target is one frame from the server's send); everything that
  READS layout (scrollHeight/scrollTop: follow the bottom, hold the view still when
  history is prepended) waits for the next animation frame, so a 2,000-message burst
  costs one layout per frame, not one per message.
- Scrolling (scroll_rules.py): near the bottom the list follows new messages (AC-23);
  reading history it counts them on the scroll button instead (edge 8); at the top it
  asks for older history.
"""

import bisect

import js

from core import formatting
from core import scroll_rules
from core.chat_marks import watch_until_seen
from web.found_message import FoundMessage
from web.message_groups import MessageGroups
from web.message_nodes import MessageNodes
from web.pending_sends import PendingSends
from web.photo_thumbs import PhotoThumbs
from web.size_watch import SizeWatch
from web.unread_line import UnreadLine
from web.web_dom import FrameScheduler, clear, el, perf_now, present, set_text

SLIDE_IN_GAP_MS = 500
SETTLE_FRAMES = 2


def _with_next(items):
    """(item, the item after it or None) for each item, in order."""
    return zip(items, items[1:] + [None])


def show_broken_image(event):
    """An image that failed to load (error events do not bubble: caught on the way down)."""
    target = event.target
    if getattr(target, "tagName", "") == "IMG":
        target.classList.add("is-broken")
        target.setAttribute("alt", "Image unavailable")
        note = el("span", "muted", "Image unavailable")
        parent = target.parentNode
        if present(parent):
            parent.insertBefore(note, target.nextSibling)


class MessageList:
    def __init__(self, me, listeners, *, api_base, tz_offset, on_load_older, is_loading_older, on_retry,
                 on_unseen, on_frame, on_menu=None, clock=None):
        self.me = me
        self.tz_offset = tz_offset
        self.on_load_older = on_load_older
        self.is_loading_older = is_loading_older
        self.on_retry = on_retry
        self.on_unseen = on_unseen  # (count, label): the scroll button
        self.on_frame = on_frame  # a frame or a resize: the layout may have changed
        self.frame = FrameScheduler(self._flush)
        self.message_nodes = MessageNodes(me, api_base, clock)
        self.on_menu = on_menu  # (message id, its "More actions" button): web/message_menu.py

        self.nodes = {}          # message id -> element
        self.rendered_ids = []   # ascending ids in the DOM
        self.day_first = {}      # day key -> (first id, separator node)
        self.groups = MessageGroups(tz_offset, self.nodes)
        self.revision = 0        # MessageLog revision rendered so far
        self.stick_to_bottom = True
        self.unseen = scroll_rules.NewMessagesCounter()
        self._want_scroll_bottom = True
        self._log = None
        self._appended = False       # appended since the last frame (follow the bottom)
        self._appended_others = 0    # ...of them from the other party (edge 8 counter)
        self._last_append_at = float("-inf")
        self._settle_frames = 0      # frames left that keep following the bottom
        # Issue 13, read only when seen: the other party's unread messages are watched
        # (watch_other(node, id)) until they are read (unwatch_other(node, id)).
        self.watch_other = None
        self.unwatch_other = None
        self.watched = set()         # ids of the nodes watched now
        self.unread, self.found = UnreadLine(), FoundMessage()  # "New messages" (issue 14); search (22.6)

        self.node = el("div", "message-list", attrs={
            "data-testid": "message-list", "role": "log", "tabindex": "0", "aria-label": "Messages",
        })
        self.history_status = el("div", "history-status", attrs={"aria-live": "polite"})
        self.items = el("div", "message-items")
        pending_box = el("div", "message-items pending-items")
        self.pending = PendingSends(pending_box)
        for child in (self.history_status, self.items, pending_box):
            self.node.appendChild(child)

        listeners.add(self.node, "scroll", self._on_scroll, js.Object.fromEntries([["passive", True]]))
        listeners.add(self.node, "click", self._on_click)
        # Images that fail to load: 'error' does not bubble, so listen in the capture phase.
        listeners.add(self.node, "error", show_broken_image, True)
        # A resize (phone rotation, keyboard) keeps a reader who was at the bottom there.
        listeners.add(js.window, "resize", self._on_resize)
        # Anything that grows while the reader follows the bottom (a tall message rendered
        # late, an image, a pending send) keeps the bottom in view.
        self.size_watch = SizeWatch([self.items, pending_box], self.keep_bottom)
        self.photos = PhotoThumbs(self.node, listeners)  # fitted thumbnails, the viewer (issue 22)

    # ----- what the view asks -----------------------------------------------------------

    def show_log(self, log):
        """Render what changed in the log: appends now, layout work in the next frame."""
        self._log = log
        changes = log.changes_since(self.revision)
        # Appends (and read-state updates) need no layout read: write them now. A reset
        # or older history waits for the frame, which reads the scroll height first.
        if self._placement(changes) == "append":
            self._apply(log, changes)
            self.pending.drop_gone()
        self.frame.request()

    def show_pending(self, pending_list):
        self.pending.show(pending_list)
        self._want_scroll_bottom = self._want_scroll_bottom or bool(pending_list)
        self.frame.request()

    def follow_bottom(self):
        """Scroll to the bottom at the next frame (a send, the scroll button)."""
        self._want_scroll_bottom = True

    def keep_bottom(self):
        """Something below the list changed height (AC-23): stay at the bottom if there."""
        if self.stick_to_bottom:
            self._want_scroll_bottom = True
            self.frame.request()

    def decide_unread_line(self):
        """The first page is in: a line above the first unread message from the other
        party, if any. Once per open; it stays put while the conversation stays open."""
        if self.unread.decide(self._log, self.me["id"]):
            self.frame.request()

    def show_status(self, text):
        set_text(self.history_status, text)

    def dismiss_unseen(self):
        """Escape: the new-messages button goes (the messages stay where they are)."""
        if not self.unseen.count:
            return False
        self.unseen.reset()
        self.on_unseen(self.unseen.count, self.unseen.label())
        return True

    def jump_to_bottom(self):
        self.unseen.reset()
        self._want_scroll_bottom = True
        self.frame.flush()
        self.on_unseen(self.unseen.count, self.unseen.label())

    # ----- list events -------------------------------------------------------------------

    def _on_scroll(self, _event):
        lst = self.node
        top = lst.scrollTop
        near = scroll_rules.is_near_bottom(top, lst.clientHeight, lst.scrollHeight)
        self.stick_to_bottom = near
        if self.unseen.on_scroll(near):
            self.on_unseen(self.unseen.count, self.unseen.label())
        if self._log is not None and scroll_rules.should_load_older(
            top, loading=self.is_loading_older(), has_more=self._log.has_more_before
        ):
            self.on_load_older()

    def _on_resize(self, _event):
        self.on_frame()
        if self.stick_to_bottom:
            self._want_scroll_bottom = True
            self.frame.request()

    def _on_click(self, event):
        target = event.target
        cmid = target.getAttribute("data-retry") if present(target) and hasattr(target, "getAttribute") else None
        if present(cmid) and cmid:
            self.on_retry(cmid)
            return
        button = target.closest(".message-menu-btn") if present(target) and hasattr(target, "closest") else None
        if self.on_menu is not None and present(button):
            node = button.closest("[data-message-id]")
            mid = int(node.getAttribute("data-message-id")) if present(node) else None
            if mid in self.nodes:
                self.on_menu(mid, button)

    # ----- rendering -------------------------------------------------------------------------

    def _placement(self, changes):
        """Where `changes` put new messages: "reset", "append" (after every rendered one, or
        none new), "prepend" (older history: the first lands before the first rendered) or
        "insert" (among the rendered ones)."""
        added = changes.added_ids
        if changes.reset:
            return "reset"
        if not added or not self.rendered_ids or added[0] > self.rendered_ids[-1]:
            return "append"
        return "prepend" if added[0] < self.rendered_ids[0] else "insert"

    def _apply(self, log, changes):
        """DOM writes for `changes`; no layout reads. Remembers what the frame must scroll for."""
        self.revision = changes.revision
        if changes.reset:
            self._rebuild(log)
            self._appended = True
            return
        # Only what arrives after the first render is live (may slide in):
        # the first page of history is not, whichever path brings it.
        live = bool(self.rendered_ids)
        now = perf_now() if live and changes.added_ids else None  # one clock read per batch
        fresh = [m for m in map(log.get, changes.added_ids) if m is not None and m["id"] not in self.nodes]
        for message, after in _with_next(fresh):
            if self._insert(message, animate=live, now=now, after=after) == "end":
                self._appended = True
                if message["sender"]["id"] != self.me["id"]:
                    self._appended_others += 1
        for mid in changes.updated_ids:
            message = log.get(mid)
            if message is not None and mid in self.nodes:
                self.message_nodes.update(self.nodes[mid], message)
                if mid in self.watched and not watch_until_seen(message, self.me["id"]):
                    self._unwatch(mid)

    def _flush(self):
        """Once per animation frame: what could not be written at once, then the one layout read."""
        self.on_frame()
        log = self._log
        if log is None:
            return
        self.photos.after_render()
        lst = self.node
        changes = log.changes_since(self.revision)
        old_height = old_top = None
        prepending = self._placement(changes) == "prepend"
        if prepending:
            old_height = lst.scrollHeight
            old_top = lst.scrollTop
        first_before = self.rendered_ids[0] if self.rendered_ids else None
        self._apply(log, changes)
        self.pending.drop_gone()
        prepended = prepending and self.rendered_ids[0] != first_before
        set_text(self.history_status, "" if log.has_more_before else ("Start of conversation" if self.rendered_ids else ""))
        appended, appended_others = self._appended, self._appended_others
        self._appended, self._appended_others = False, 0
        # One layout read/write per frame.
        if prepended and old_height is not None:
            lst.scrollTop = scroll_rules.scroll_top_after_prepend(old_top, old_height, lst.scrollHeight)
        if self.found.place(self.nodes, lst):  # the reader asked for this message: no other scroll
            self.unread.scrolled, self.stick_to_bottom, self._want_scroll_bottom, self._settle_frames = True, False, False, 0
            return
        if self._place_unread_line():
            return
        if self._want_scroll_bottom or (appended and self.stick_to_bottom):
            self._want_scroll_bottom = False
            lst.scrollTop = lst.scrollHeight
            self.stick_to_bottom = True
            # What renders a frame late (a font, a tall message) still moves the
            # bottom: follow it for a few more frames.
            self._settle_frames = SETTLE_FRAMES
            self.frame.request()
        elif self._settle_frames and self.stick_to_bottom:
            self._settle_frames -= 1
            if lst.scrollTop + lst.clientHeight < lst.scrollHeight - 1:
                lst.scrollTop = lst.scrollHeight
            if self._settle_frames:
                self.frame.request()
        elif appended_others:
            # Edge 8: reading history; count what arrived instead of jumping.
            for _ in range(appended_others):
                self.unseen.on_message(own=False, near_bottom=False)
            self.on_unseen(self.unseen.count, self.unseen.label())

    def _place_unread_line(self):
        """The "New messages" line (web/unread_line.py). True when the view was placed at
        the line (no bottom following this frame)."""
        if not self.unread.place(self.nodes, self.items, self.node):
            return False
        mid = self.unread.mid
        self.stick_to_bottom = False
        self._want_scroll_bottom = False
        self._settle_frames = 0
        # The button counts what waits below: the unread messages from the line down.
        me = self.me["id"]
        below = sum(1 for i in self.rendered_ids if i >= mid and self._log.get(i) is not None
                    and self._log.get(i)["sender"]["id"] != me)
        for _ in range(below):
            self.unseen.on_message(own=False, near_bottom=False)
        self.on_unseen(self.unseen.count, self.unseen.label())
        return True

    def _unwatch(self, mid):
        self.watched.discard(mid)
        if self.unwatch_other is not None:
            self.unwatch_other(self.nodes[mid], mid)

    def _rebuild(self, log):
        for mid in list(self.watched):
            self._unwatch(mid)  # the old nodes leave the DOM: nothing keeps watching them
        clear(self.items)
        self.nodes.clear()
        self.message_nodes.forget_all()
        self.rendered_ids = []
        self.day_first = {}
        self.groups.clear()
        messages = [m for m in map(log.get, log.ids()) if m is not None]
        for message, after in _with_next(messages):
            self._insert(message, animate=False, after=after)

    def _insert(self, message, animate=True, now=None, after=None):
        """One message's node into the list. `after`: the message inserted next, if any
        (it goes right after this one when this one goes last)."""
        mid = message["id"]
        key = self.groups.key_of(message)
        # Its time parsed once: the key's UTC time, when there is one, formats as the text would.
        when = key.at if key is not None else message.get("created_at")
        clock, day, full = formatting.message_times(when, self.tz_offset)
        node = self.message_nodes.make(message, clock, full)
        index = bisect.bisect_left(self.rendered_ids, mid)
        at_end = index == len(self.rendered_ids)
        before = None if at_end else self.nodes[self.rendered_ids[index]]
        first = self.day_first.get(day)
        if first is None:
            sep = el("div", "day-separator", formatting.day_label(message.get("created_at"), js.Date.new().toISOString(), self.tz_offset), attrs={"role": "separator"})
            self.day_first[day] = (mid, sep)
            self.items.insertBefore(sep, before)
        elif mid < first[0]:
            sep = first[1]
            self.day_first[day] = (mid, sep)
            # The separator moves up to stay before the earliest message of its day.
            self.items.insertBefore(sep, before)
        classes = []
        if animate and at_end and self.rendered_ids:
            # No content-visibility: auto on live messages any more: in
            # Chromium each such node is one more intersection test on every frame, and a
            # 2,000-message burst measured 30-50 % more main-thread time with it than
            # without (the layout it skips is cheap next to that).
            # A lone new message slides in to catch the eye; in a stream (less than
            # SLIDE_IN_GAP_MS since the last one) motion is noise, and every frame of
            # an animation is a repaint of the list.
            now = perf_now() if now is None else now
            if now - self._last_append_at >= SLIDE_IN_GAP_MS:
                classes.append("slide-in")
            self._last_append_at = now
        classes += self.groups.join(self.rendered_ids, index, message, key, after)
        if classes:
            node.classList.add(*classes)  # one call for all of the new node's classes
        self.items.insertBefore(node, before)
        if self.watch_other is not None and watch_until_seen(message, self.me["id"]):
            self.watch_other(node, mid)
            self.watched.add(mid)
        self.rendered_ids.insert(index, mid)
        self.nodes[mid] = node
        return "end" if at_end else "middle"

    def dispose(self):
        self.photos.dispose()
        self.size_watch.dispose()
        self.frame.dispose()
        # Let go of every node now: the view and its controller reference each other,
        # so without this the detached DOM would wait for Python's cycle collector.
        self.nodes.clear()
        self.message_nodes.dispose()
        self.pending.dispose()
        self.day_first.clear()
        self.groups.clear()
        self.watched.clear()
        self.rendered_ids = []
        self._log = None
        self.unread.node = None  # placed only above a rendered node, and none is left
