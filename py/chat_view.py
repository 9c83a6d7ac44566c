"""The chat DOM: message list, typing indicator, connection banner, composer.

This is a browser adapter: it owns DOM nodes and nothing else. What to show
comes from the query cache (a MessageLog per conversation) and from small pure
rule modules (scroll_rules, formatting, banner, safe_url). The controller
(chat_controller.py) tells the view what changed; the view renders only that:

- Render by key (STYLE rule 6): one node per message id, created once, updated
  in place when its read state changes (AC-24). Pending sends live in their own
  box after the real messages and become real nodes when resolved.
- New messages at the end are inserted at once, in the task that received them
  (a DOM write is cheap and the p99 target is one frame from the server's send);
  everything that READS layout (scrollHeight/scrollTop: follow the bottom, hold
  the view still when history is prepended) waits for the next animation frame,
  so a 2,000-message burst costs one layout per frame, not one per message.
- Text goes in with textContent only (STYLE rule 7); image URLs pass safe_url.
"""

import bisect

import js

from core.banner import BANNER_TEXT
from core import formatting
from core.safe_url import safe_image_url
from core import scroll_rules
from web.web_dom import FrameScheduler, Listeners, clear, el, perf_now, present, set_text, svg_icon

SLIDE_IN_GAP_MS = 500
SETTLE_FRAMES = 2

ICON_SEND = "M22 2 11 13M22 2l-7 20-4-9-9-4 20-7z"
ICON_ATTACH = "M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19a2 2 0 0 1-2.83-2.83l8.49-8.48"
ICON_BACK = "M15 18l-6-6 6-6"


def _avatar(user):
    box = el("span", "avatar", attrs={"aria-hidden": "true"})
    url = safe_image_url((user or {}).get("profile_image"))
    if url:
        img = el("img", attrs={"alt": "", "loading": "lazy", "decoding": "async"})
        img.src = url
        box.appendChild(img)
    else:
        box.textContent = formatting.initials(user or {})
    return box


class ChatView:
    """DOM for one open conversation. Created on open, disposed on switch."""

    def __init__(self, host, conversation, me, other, *, api_base, tz_offset, callbacks):
        self.conversation_id = conversation["id"]
        self.me = me
        self.other = other
        self.api_base = api_base
        self.tz_offset = tz_offset
        self.cb = callbacks  # dict of controller callbacks
        self.listeners = Listeners()
        self.frame = FrameScheduler(self._flush)
        self.read_only = bool(conversation.get("is_archived"))

        self.nodes = {}          # message id -> element
        self.read_state = {}     # message id -> bool as rendered
        self.rendered_ids = []   # ascending ids in the DOM
        self.day_first = {}      # day key -> (first id, separator node)
        self.pending_nodes = {}  # client_message_id -> element
        self.revision = 0        # MessageLog revision rendered so far
        self.stick_to_bottom = True
        self.unseen = scroll_rules.NewMessagesCounter()
        self._want_scroll_bottom = True
        self._prepend_anchor = None
        self._typing_node = None
        self._banner_node = None
        self._scroll_button = None
        self._log = None
        self._attachment = None
        self._pending_gone = []
        self._appended = False       # appended since the last frame (follow the bottom)
        self._appended_others = 0    # ...of them from the other party (edge 8 counter)
        self._last_append_at = float("-inf")
        self._shown = None           # is_visible()'s layout part, kept until the next frame
        self._settle_frames = 0      # frames left that keep following the bottom
        self._build_protos()

        self.root = el("section", "chat-view", attrs={
            "data-testid": "chat-view",
            "data-conversation-id": self.conversation_id,
            "data-ws-state": "connecting",
            "aria-label": "Conversation with " + formatting.display_name(other),
        })
        self._build_header(conversation)
        self.banner_slot = el("div", "banner-slot")
        self.list = el("div", "message-list", attrs={
            "data-testid": "message-list", "role": "log", "tabindex": "0",
            "aria-label": "Messages",
        })
        self.history_status = el("div", "history-status", attrs={"aria-live": "polite"})
        self.items = el("div", "message-items")
        self.pending_box = el("div", "message-items pending-items")
        self.list.appendChild(self.history_status)
        self.list.appendChild(self.items)
        self.list.appendChild(self.pending_box)
        self.typing_slot = el("div", "typing-slot", attrs={"aria-live": "polite"})
        self.root.appendChild(self.banner_slot)
        self.root.appendChild(self.list)
        self.root.appendChild(self.typing_slot)
        if self.read_only:
            self.root.appendChild(el("p", "archived-note", "This conversation is archived. You can read it, but not reply."))
        else:
            self._build_composer()
        host.appendChild(self.root)

        self.listeners.add(self.list, "scroll", self._on_scroll, js.Object.fromEntries([["passive", True]]))
        self.listeners.add(self.list, "click", self._on_list_click)
        # Images that fail to load: 'error' does not bubble, so listen in the capture phase.
        self.listeners.add(self.list, "error", self._on_image_error, True)
        # A resize (phone rotation, keyboard) keeps a reader who was at the bottom there.
        self.listeners.add(js.window, "resize", self._on_resize)

    # ----- building -------------------------------------------------------------

    def _build_header(self, conversation):
        header = el("header", "chat-header")
        back = el("button", "icon-btn back-btn", attrs={"type": "button", "aria-label": "Back to conversations"})
        back.appendChild(svg_icon(ICON_BACK))
        self.listeners.add(back, "click", lambda e: self.cb["back"]())
        header.appendChild(back)
        header.appendChild(_avatar(self.other))
        titles = el("div")
        titles.appendChild(el("h2", "chat-title", formatting.display_name(self.other)))
        sub = "Archived conversation" if self.read_only else "Trainee" if self.other.get("id") != conversation.get("trainer", {}).get("id") else "Trainer"
        titles.appendChild(el("p", "chat-subtitle", sub))
        header.appendChild(titles)
        self.root.appendChild(header)

    def _build_composer(self):
        form = el("form", "composer", attrs={"aria-label": "Send a message"})
        file_id = "attach-" + str(self.conversation_id)
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
        self.root.appendChild(form)
        self.listeners.add(form, "submit", self._on_submit)
        self.listeners.add(self.input, "keydown", self._on_keydown)
        self.listeners.add(self.input, "input", self._on_input)
        self.listeners.add(self.file_input, "change", self._on_file)

    # ----- composer events ------------------------------------------------------

    def _on_submit(self, event):
        event.preventDefault()
        self._send()

    def _on_keydown(self, event):
        # Enter sends, Shift+Enter makes a new line; never during IME composition.
        if event.key == "Enter" and not event.shiftKey and not event.isComposing:
            event.preventDefault()
            self._send()

    def _on_input(self, _event):
        self.cb["typing"]()
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
        self._want_scroll_bottom = True
        self.cb["send"](text, attachment)

    def focus_input(self):
        if not self.read_only:
            self.input.focus()

    # ----- list events -----------------------------------------------------------

    def _on_scroll(self, _event):
        lst = self.list
        top = lst.scrollTop
        near = scroll_rules.is_near_bottom(top, lst.clientHeight, lst.scrollHeight)
        self.stick_to_bottom = near
        if self.unseen.on_scroll(near):
            self._render_scroll_button()
        if self._log is not None and scroll_rules.should_load_older(
            top, loading=self.cb["is_loading_older"](), has_more=self._log.has_more_before
        ):
            self.cb["load_older"]()

    def _on_resize(self, _event):
        self._shown = None
        if self.stick_to_bottom:
            self._want_scroll_bottom = True
            self.frame.request()

    def _on_list_click(self, event):
        target = event.target
        cmid = target.getAttribute("data-retry") if present(target) and hasattr(target, "getAttribute") else None
        if present(cmid) and cmid:
            self.cb["retry"](cmid)

    def _on_image_error(self, event):
        target = event.target
        if getattr(target, "tagName", "") == "IMG":
            target.classList.add("is-broken")
            target.setAttribute("alt", "Image unavailable")
            note = el("span", "muted", "Image unavailable")
            parent = target.parentNode
            if present(parent):
                parent.insertBefore(note, target.nextSibling)

    # ----- messages ----------------------------------------------------------------

    def show_log(self, log):
        """Render what changed in the log: appends now, layout work in the next frame."""
        self._log = log
        changes = log.changes_since(self.revision)
        added = changes.added_ids
        # Appends (and read-state updates) need no layout read: write them now. A reset
        # or older history waits for the frame, which reads the scroll height first.
        if not changes.reset and not (added and self.rendered_ids and added[0] < self.rendered_ids[-1]):
            self._apply(log, changes)
            self._drop_resolved_pending()
        self.frame.request()

    def _apply(self, log, changes):
        """DOM writes for `changes`; no layout reads. Remembers what the frame must scroll for."""
        self.revision = changes.revision
        if changes.reset:
            self._rebuild(log)
            self._appended = True
            return
        # Only what arrives after the first render is live (slides in, content-visibility):
        # the first page of history is not, whichever path brings it.
        live = bool(self.rendered_ids)
        for mid in changes.added_ids:
            message = log.get(mid)
            if message is None or mid in self.nodes:
                continue
            if self._insert(message, animate=live) == "end":
                self._appended = True
                if message["sender"]["id"] != self.me["id"]:
                    self._appended_others += 1
        for mid in changes.updated_ids:
            message = log.get(mid)
            if message is not None and mid in self.nodes:
                self._update(message)

    def _drop_resolved_pending(self):
        # A resolved send leaves in the same task that inserts its real message:
        # never a frame with both, never a frame with neither.
        for node in self._pending_gone:
            node.remove()
        self._pending_gone = []

    def _flush(self):
        """Once per animation frame: what could not be written at once, then the one layout read."""
        self._shown = None
        log = self._log
        if log is None:
            return
        lst = self.list
        changes = log.changes_since(self.revision)
        old_height = old_top = None
        added = changes.added_ids
        prepending = not changes.reset and added and self.rendered_ids and added[0] < self.rendered_ids[0]
        if prepending:
            old_height = lst.scrollHeight
            old_top = lst.scrollTop
        first_before = self.rendered_ids[0] if self.rendered_ids else None
        self._apply(log, changes)
        self._drop_resolved_pending()
        prepended = prepending and self.rendered_ids[0] != first_before
        set_text(self.history_status, "" if log.has_more_before else ("Start of conversation" if self.rendered_ids else ""))
        appended, appended_others = self._appended, self._appended_others
        self._appended, self._appended_others = False, 0
        # One layout read/write per frame.
        if prepended and old_height is not None:
            lst.scrollTop = scroll_rules.scroll_top_after_prepend(old_top, old_height, lst.scrollHeight)
        if self._want_scroll_bottom or (appended and self.stick_to_bottom):
            self._want_scroll_bottom = False
            lst.scrollTop = lst.scrollHeight
            self.stick_to_bottom = True
            # Live messages below the view had an estimated height (content-visibility)
            # until the scroll brought them in: follow the bottom for a few more frames.
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
            self._render_scroll_button()

    def _rebuild(self, log):
        clear(self.items)
        self.nodes.clear()
        self.read_state.clear()
        self.rendered_ids = []
        self.day_first = {}
        for mid in log.ids():
            message = log.get(mid)
            if message is not None:
                self._insert(message, animate=False)

    def _insert(self, message, animate=True):
        mid = message["id"]
        clock, day = formatting.time_and_day(message.get("created_at"), self.tz_offset)
        node = self._message_node(message, clock)
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
        if animate and at_end and self.rendered_ids:
            node.classList.add("is-live")  # app.css: rendered only while near the view
            # A lone new message slides in to catch the eye; in a stream (less than
            # SLIDE_IN_GAP_MS since the last one) motion is noise, and every frame of
            # an animation is a repaint of the list.
            now = perf_now()
            if now - self._last_append_at >= SLIDE_IN_GAP_MS:
                node.classList.add("slide-in")
            self._last_append_at = now
        self.items.insertBefore(node, before)
        self.rendered_ids.insert(index, mid)
        self.nodes[mid] = node
        return "end" if at_end else "middle"

    def _message_node(self, message, clock):
        # A clone of a prebuilt node costs a third of the DOM calls of building one
        # element by element, and this runs once per message (2,000 in a burst).
        own = message["sender"]["id"] == self.me["id"]
        is_read = bool(message.get("is_read"))
        node = (self._own_proto if own else self._other_proto).cloneNode(True)
        node.setAttribute("data-message-id", message["id"])
        bubble = node.firstChild
        text = bubble.firstChild
        content = message.get("content") or ""
        if content:
            text.textContent = content
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
        if is_read:
            node.setAttribute("data-read", "true")
            if own:
                self._set_ticks(stamp.nextSibling, True)
        self.read_state[message["id"]] = is_read
        return node

    def _build_protos(self):
        """The two shapes of a message node, filled per message by _message_node."""
        def proto(own):
            node = el("div", "message", attrs={
                "data-testid": "message", "data-own": "true" if own else "false", "data-read": "false",
            })
            node.appendChild(el("div", "bubble", children=[el("span", "message-text")]))
            meta = el("div", "message-meta", children=[el("time")])
            if own:
                meta.appendChild(self._ticks(False))
            node.appendChild(meta)
            return node
        self._own_proto = proto(True)
        self._other_proto = proto(False)

    def _ticks(self, is_read):
        ticks = el("span", "ticks", attrs={"role": "img"})
        self._set_ticks(ticks, is_read)
        return ticks

    @staticmethod
    def _set_ticks(ticks, is_read):
        ticks.textContent = "✓✓" if is_read else "✓"
        ticks.setAttribute("aria-label", "Read" if is_read else "Sent")

    def _update(self, message):
        mid = message["id"]
        is_read = bool(message.get("is_read"))
        if self.read_state.get(mid) == is_read:
            return
        self.read_state[mid] = is_read
        node = self.nodes[mid]
        node.setAttribute("data-read", "true" if is_read else "false")
        ticks = node.querySelector(".ticks")
        if present(ticks):
            self._set_ticks(ticks, is_read)

    # ----- pending sends ------------------------------------------------------------

    def show_pending(self, pending_list):
        """Render the outbox: pending and failed sends after the real messages."""
        seen = set()
        for item in pending_list:
            cmid = item.client_message_id
            seen.add(cmid)
            node = self.pending_nodes.get(cmid)
            if node is None:
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
                self.pending_box.appendChild(node)
                self.pending_nodes[cmid] = node
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
        for cmid in list(self.pending_nodes):
            if cmid not in seen:
                # Removed in the same frame that inserts the real message: never
                # a frame with both, never a frame with neither.
                self._pending_gone.append(self.pending_nodes.pop(cmid))
        self._want_scroll_bottom = self._want_scroll_bottom or bool(pending_list)
        self.frame.request()

    # ----- state: typing, banner, connection ----------------------------------------

    def set_ws_state(self, state):
        self.root.setAttribute("data-ws-state", state)

    def set_typing(self, names):
        if names and self._typing_node is None:
            node = el("div", "typing-indicator", attrs={"data-testid": "typing-indicator", "aria-live": "polite"})
            dots = el("span", "dots", attrs={"aria-hidden": "true"}, children=[el("span"), el("span"), el("span")])
            node.appendChild(dots)
            node.appendChild(el("span", "typing-text"))
            self.typing_slot.appendChild(node)
            self._typing_node = node
        if names:
            text = (names[0] if len(names) == 1 else ", ".join(names)) + (" is typing..." if len(names) == 1 else " are typing...")
            set_text(self._typing_node.lastChild, text)
        elif self._typing_node is not None:
            self._typing_node.remove()
            self._typing_node = None
        # AC-23: the list got shorter or taller; stay at the bottom if we were there.
        if self.stick_to_bottom:
            self._want_scroll_bottom = True
            self.frame.request()

    def set_banner(self, kind):
        current = self._banner_node.getAttribute("data-state") if self._banner_node is not None else None
        if kind == current:
            return
        if self._banner_node is not None:
            self._banner_node.remove()
            self._banner_node = None
        if kind:
            node = el("div", "connection-banner", attrs={
                "data-testid": "connection-banner", "data-state": kind, "role": "status",
            })
            if kind == "reconnecting":
                node.appendChild(el("span", "spinner", attrs={"aria-hidden": "true"}))
            node.appendChild(el("span", None, BANNER_TEXT[kind]))
            self.banner_slot.appendChild(node)
            self._banner_node = node

    def set_loading_older(self, loading):
        if loading:
            set_text(self.history_status, "Loading earlier messages…")

    def show_error(self, text):
        self.history_status.textContent = text

    def _render_scroll_button(self):
        count = self.unseen.count
        if count and self._scroll_button is None:
            button = el("button", "scroll-to-bottom", attrs={"type": "button", "data-testid": "scroll-to-bottom"})
            self.listeners.add(button, "click", self._on_scroll_button)
            self.root.appendChild(button)
            self._scroll_button = button
        if count:
            set_text(self._scroll_button, self.unseen.label() + " ↓")
        elif self._scroll_button is not None:
            self.listeners.remove_target(self._scroll_button)
            self._scroll_button.remove()
            self._scroll_button = None

    def _on_scroll_button(self, _event):
        self.unseen.reset()
        self._want_scroll_bottom = True
        self.frame.flush()
        self._render_scroll_button()

    def is_visible(self):
        """AC-28: the chat is on screen (tab visible and, on phones, the chat screen shown)."""
        if js.document.visibilityState != "visible":
            return False
        # Whether the chat screen is shown changes with the layout (phone width, chat
        # open or not), which only a frame or a resize can bring: the answer is kept
        # until then. Asking the browser per message made it recompute styles per
        # message in a burst, instead of once per frame.
        if self._shown is None:
            root = self.root
            if not root.isConnected:
                return False
            # checkVisibility() needs only styles; offsetParent forces a full layout.
            if hasattr(root, "checkVisibility"):
                self._shown = bool(root.checkVisibility())
            else:
                self._shown = present(root.offsetParent)
        return self._shown

    def dispose(self):
        self.frame.dispose()
        self.listeners.dispose()
        self.root.remove()
        # Let go of every node now: the view and its controller reference each other,
        # so without this the detached DOM would wait for Python's cycle collector.
        self.nodes.clear()
        self.read_state.clear()
        self.pending_nodes.clear()
        self.day_first.clear()
        self.rendered_ids = []
        self._pending_gone = []
        self._own_proto = self._other_proto = None
        self._typing_node = self._banner_node = self._scroll_button = None
        self._log = None
