"""The search box in the list pane (issue 22 item 6): across conversations, or in the open one.

    panel = SearchPanel(slot, sidebar, api=..., capabilities=lambda: caps, cache=..., me=...,
                        clock=..., tz_offset=..., now_iso=..., on_choose=open_at_message)
    panel.chat_changed(cid)   # the scope toggle offers "Only this conversation" while a chat is open
    panel.search_here(cid)    # the chat header's search button
    panel.dispose()

The rules (debounce, stale answers, paging, the local fallback's matching) are core/search.py's;
this carries them out: the server's search when the backend offers it (CONTRACT "Search"),
else the messages this page has loaded (the query cache's logs). Ctrl+K (or / outside a text
field) puts the focus in the box; ArrowDown goes to the results, Escape back and then clears.
"""

import asyncio

import js

from core.query_cache import CONVERSATIONS_KEY
from core.search import SearchBox, Status, query_hint, search_loaded
from core.search_rows import result_rows
from web.search_results import SearchResults
from web.timers import WakeTimer
from web.web_dom import Listeners, el, present, svg_icon

ICON_SEARCH = "M11 4a7 7 0 1 0 0 14 7 7 0 0 0 0-14zM21 21l-4.35-4.35"
EDITABLE = ("INPUT", "TEXTAREA", "SELECT")


def _loaded_logs(cache):
    """(conversation id, its messages) for every conversation whose messages the page holds."""
    for key in cache.keys():
        if key[0] == "messages":
            log = cache.get_query_data(key)
            if log is not None:
                yield key[1], list(log)


class SearchPanel:
    def __init__(self, slot, sidebar, *, api, capabilities, cache, me, clock, tz_offset, now_iso, on_choose,
                 report_error=None):
        self.slot, self.sidebar = slot, sidebar
        self.api, self.capabilities, self.cache = api, capabilities, cache
        self.me_id = me.get("id")
        self.clock, self.tz_offset, self.now_iso = clock, tz_offset, now_iso
        self.on_choose = on_choose
        self.report_error = report_error or (lambda _exc: None)
        self.box = SearchBox()
        self.chat_cid = None
        self.disposed = False
        self.timer = WakeTimer(self._on_wake)
        self.listeners = Listeners()

        form = el("form", "search-bar", attrs={"role": "search", "aria-label": "Search messages"})
        field = el("span", "search-field")
        field.appendChild(svg_icon(ICON_SEARCH))
        self.input = el("input", "search-input", attrs={
            "type": "search", "id": "search-input", "data-testid": "search-input", "autocomplete": "off",
            "aria-label": "Search messages", "placeholder": "Search messages", "aria-controls": "search-results",
            "aria-keyshortcuts": "Control+K", "enterkeyhint": "search", "maxlength": "400",
        })
        field.appendChild(self.input)
        form.appendChild(field)
        self.scope = el("input", None, attrs={"type": "checkbox", "id": "search-scope", "data-testid": "search-scope"})
        self.scope_label = el("label", "search-scope", attrs={"for": "search-scope", "hidden": ""})
        self.scope_label.appendChild(self.scope)
        self.scope_label.appendChild(js.document.createTextNode(" Only this conversation"))
        form.appendChild(self.scope_label)
        self.results = SearchResults(self.listeners, on_choose=self._choose, on_more=self._more,
                                     on_leave=lambda: self.input.focus())
        slot.appendChild(form)
        # The results take the list's place while a search is typed (inside the sidebar).
        sidebar.insertBefore(self.results.node, slot.nextSibling)

        self.listeners.add(form, "submit", self._on_submit)
        self.listeners.add(self.input, "input", self._on_input)
        self.listeners.add(self.input, "keydown", self._on_input_key)
        self.listeners.add(self.scope, "change", self._on_scope)
        self.listeners.add(js.document, "keydown", self._on_page_key)

    # ----- what the page says ------------------------------------------------------------

    def chat_changed(self, cid):
        """The open conversation (None: none): the scope toggle follows it."""
        self.chat_cid = cid
        self.scope_label.hidden = cid is None
        if cid is None:
            self.scope.checked = False
        self._apply_scope()

    def capabilities_changed(self):
        """The backend's capabilities came in: a search answered from the loaded messages
        meanwhile is asked of the server when it searches."""
        if not self.disposed and self.capabilities().search:
            self._start(self.box.again())  # renders when it asks; otherwise nothing shown changes

    def search_here(self, cid):
        """Search the open conversation (the chat header's button)."""
        self.chat_changed(cid)
        self.scope.checked = True
        self._apply_scope()
        self.focus()

    def focus(self):
        self.input.focus()
        self.input.select()

    # ----- inputs ------------------------------------------------------------------------

    def _on_input(self, _event):
        self.box.typed(self.input.value, self.clock())
        self._after_change()

    def _on_scope(self, _event):
        self._apply_scope()

    def _apply_scope(self):
        scoped = self.scope.checked and self.chat_cid is not None
        self.input.setAttribute("placeholder", "Search this conversation" if scoped else "Search messages")
        self.box.scoped(self.chat_cid if scoped else None, self.clock())
        self._after_change()

    def _on_submit(self, event):
        event.preventDefault()
        self._start(self.box.submit(self.clock()))

    def _on_input_key(self, event):
        if event.key == "ArrowDown" and self.results.focus_first():
            event.preventDefault()
        elif event.key == "Escape" and self.input.value:
            event.preventDefault()
            event.stopPropagation()  # the chat's Escape (back, on a phone) is not this one
            self.input.value = ""
            self.box.typed("", self.clock())
            self._after_change()

    def _on_page_key(self, event):
        """Ctrl+K (Cmd+K) anywhere, or / outside a text field: to the search box."""
        key = event.key
        if (event.ctrlKey or event.metaKey) and not event.altKey and isinstance(key, str) and key.lower() == "k":
            event.preventDefault()
            self.focus()
        elif key == "/" and not (event.ctrlKey or event.metaKey or event.altKey) and not _in_text_field(event):
            event.preventDefault()
            self.focus()

    def _on_wake(self):
        if not self.disposed:
            self._start(self.box.tick(self.clock()))
            self.timer.set(self.box.next_wakeup())

    def _more(self):
        self._start(self.box.more())

    def _choose(self, cid, mid):
        self.on_choose(cid, mid)

    # ----- the search itself -------------------------------------------------------------

    def _after_change(self):
        self.timer.set(self.box.next_wakeup())
        self._render()

    def _start(self, request):
        if request is not None:
            self._render()
            asyncio.ensure_future(self._run(request))

    async def _run(self, request):
        try:
            if self.capabilities().search:
                data = await self.api.search(request.q, conversation_id=request.conversation_id,
                                             limit=request.limit, before=request.before)
            else:  # CONTRACT: without the capability, the messages the page has loaded
                data = search_loaded(_loaded_logs(self.cache), request.q, conversation_id=request.conversation_id,
                                     limit=request.limit, before=request.before)
        except Exception as exc:
            self.report_error(exc)
            self.box.failed(request)
        else:
            self.box.answered(request, data)
        if not self.disposed:
            self._render()

    def _render(self):
        box = self.box
        active = bool(box.text.strip())
        self.sidebar.classList.toggle("is-searching", active)
        self.results.show(active)
        conversations = self.cache.get_query_data(CONVERSATIONS_KEY) or []
        rows = result_rows(box.results, conversations, self.me_id, box.query or "", self.now_iso(), self.tz_offset)
        self.results.render(box.query, rows, box.has_more, box.loading_more)
        self.results.say(self._status_text(len(rows)))

    def _status_text(self, count):
        box = self.box
        where = " in this conversation" if box.conversation_id is not None else ""
        local = "" if self.capabilities().search else " (messages loaded on this device)"
        if box.status is Status.IDLE:
            return query_hint(box.text)
        if box.status in (Status.WAITING, Status.LOADING):
            return "Searching…"
        if box.status is Status.EMPTY:
            return f"No messages match “{box.query}”{where}{local}."
        if box.status is Status.FAILED:
            return "Search did not answer. Press Enter to try again." if not count else \
                "More results could not be loaded. Try again."
        plural = "" if count == 1 else "s"
        more = ", newest first" if box.has_more else ""
        return f"{count} result{plural}{where}{more}{local}."

    def dispose(self):
        self.disposed = True
        self.timer.cancel()
        self.listeners.dispose()
        self.results.node.remove()
        self.slot.replaceChildren()
        self.sidebar.classList.remove("is-searching")


def _in_text_field(event):
    target = event.target
    if not present(target):
        return False
    return getattr(target, "tagName", "") in EDITABLE or bool(getattr(target, "isContentEditable", False))
