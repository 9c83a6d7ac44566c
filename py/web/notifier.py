"""Desktop notifications in the browser (issue 22, point 1): the adapter of
core/notifications.py (when, and what) and core/notify_prefs.py (the user's choices).

    notifier = Notifier(me, cache=..., storage=..., clock=..., open_conversation=page.open_conversation,
                        open_id=lambda: page.chat.cid, list_view=page.list_view)
    notifier.chat_opened(cid)   # puts the mute toggle in that chat's header
    notifier.stop()             # signed out: closes what it showed, releases every proxy

It follows the conversation list in the query cache (every source of messages writes
there) and shows what the rules return with the Notification API. The list pane's controls
(index.html, #notify-controls): "Turn on notifications" asks the browser's permission only
when clicked; once granted, "Turn off" and a sound toggle; a denial hides them for good
(until the browser's permission says otherwise). A click on a notification focuses the tab
and opens its conversation the way a row click does.
"""

import asyncio

import js

from core.notifications import NotificationRules, notification_tag
from core.notify_prefs import Controls, NotifyPrefs, controls_for
from core.query_cache import CONVERSATIONS_KEY
from pyodide.ffi import create_proxy, to_js
from web.bell_icons import ICON_BELL, ICON_BELL_OFF
from web.notify_sound import NotifySound
from web.web_dom import Listeners, by_id, el, present, svg_icon

ICON = "./static/icon.svg"
MUTE_LABEL = "Mute notifications for this conversation"


def notifications_supported():
    return bool(js.Reflect.has(js.window, "Notification"))


def permission():
    try:
        return str(js.Notification.permission)
    except Exception:
        return "denied"


class Notifier:
    def __init__(self, me, *, cache, storage, clock, open_conversation, open_id, list_view):
        self.cache = cache
        self.clock = clock
        self.open_conversation = open_conversation
        self.open_id = open_id
        self.supported = notifications_supported()
        self.rules = NotificationRules(me["id"])
        self.prefs = NotifyPrefs(storage, me["id"])
        self.sound = NotifySound()
        self.listeners = Listeners()  # the list pane's controls, for the session
        self.chat_listeners = Listeners()  # the open chat's mute toggle
        self.shown = {}  # tag -> (Notification, its onclick proxy)
        self.asking = False
        self.controls = by_id("notify-controls")
        self.offer, self.on_group = by_id("notify-offer"), by_id("notify-on")
        self.off, self.sound_toggle = by_id("notify-off"), by_id("notify-sound")
        self.listeners.add(self.offer, "click", self._on_offer)
        self.listeners.add(self.off, "click", lambda _e: self._set_on(False))
        self.listeners.add(self.sound_toggle, "click", self._on_sound)
        # After a reload with the sound on, audio may start only after a gesture on the page.
        for kind in ("pointerdown", "keydown"):
            self.listeners.add(js.document, kind, self._arm_sound)
        self.mute_button = None
        self.list_view = list_view
        list_view.is_muted = self.prefs.is_muted  # each row shows a mark when muted
        self.unsubscribe = cache.subscribe(self._rows_changed, CONVERSATIONS_KEY)
        self._rows_changed()  # what the list holds already is the baseline
        self._render_controls()

    # ----- the list pane's controls ------------------------------------------------------------

    def _state(self):
        return controls_for(supported=self.supported, permission=permission() if self.supported else None,
                            prefs=self.prefs)

    def _render_controls(self):
        state = self._state()
        self.controls.hidden = state is Controls.NONE
        self.offer.hidden = state is not Controls.OFFER
        self.on_group.hidden = state is not Controls.ON
        self.sound_toggle.setAttribute("aria-pressed", "true" if self.prefs.sound else "false")
        if self.mute_button is not None:
            self.mute_button.hidden = state is Controls.NONE

    def _on_offer(self, _event):
        if permission() == "granted":
            self._set_on(True)
            return
        if self.asking:
            return
        self.asking = True
        try:
            # Asked inside the click (the browser wants a gesture), answered later.
            answer = js.Notification.requestPermission()
        except Exception:
            self.asking = False
            return
        asyncio.ensure_future(self._permission_answered(answer))

    async def _permission_answered(self, answer):
        try:
            result = str(await answer)
        except Exception:
            result = "default"
        finally:
            self.asking = False
        if self.unsubscribe is None:
            return  # signed out meanwhile
        if result == "granted":
            self.prefs.set_on(True)
        elif result == "denied":
            self.prefs.set_denied()
        self._render_controls()
        state = self._state()
        if state is Controls.ON:
            self.off.focus()
        elif state is Controls.NONE:  # the control is gone: focus goes to the list, not the page
            row = js.document.querySelector("[data-testid=conversation-item][tabindex='0']")
            if present(row):
                row.focus()

    def _set_on(self, on):
        self.prefs.set_on(on)
        self._render_controls()
        (self.off if on else self.offer).focus()

    def _on_sound(self, _event):
        self.prefs.set_sound(not self.prefs.sound)
        if self.prefs.sound:
            self.sound.arm()
        self._render_controls()

    def _arm_sound(self, _event):
        if self.prefs.sound and self.prefs.on:
            self.sound.arm()

    # ----- the open chat's mute toggle -----------------------------------------------------------

    def chat_opened(self, cid):
        """The chat of `cid` is on screen: its header gets the mute toggle."""
        self.chat_listeners.dispose()
        self.mute_button = None
        self._close_shown(notification_tag(cid))  # read now: its notification has done its job
        if not self.supported:
            return
        header = js.document.querySelector(f'#main .chat-view[data-conversation-id="{int(cid)}"] .chat-header')
        if not present(header):
            return
        button = el("button", "icon-btn mute-btn", attrs={
            "type": "button", "aria-label": MUTE_LABEL, "title": MUTE_LABEL, "data-testid": "chat-mute"})
        self.chat_listeners.add(button, "click", lambda _e: self._toggle_mute(cid))
        header.appendChild(button)
        self.mute_button = button
        self._render_mute(cid)
        self._render_controls()

    def _toggle_mute(self, cid):
        self.prefs.set_muted(cid, not self.prefs.is_muted(cid))
        self._render_mute(cid)
        self.list_view.show_muted(cid, self.prefs.is_muted(cid))

    def _render_mute(self, cid):
        button = self.mute_button
        muted = self.prefs.is_muted(cid)
        button.setAttribute("aria-pressed", "true" if muted else "false")
        button.replaceChildren(svg_icon(ICON_BELL_OFF if muted else ICON_BELL))

    # ----- showing them --------------------------------------------------------------------------

    def _enabled(self):
        return self.supported and self.prefs.on and permission() == "granted"

    def _rows_changed(self, _key=None):
        notes = self.rules.rows_changed(
            self.cache.get_query_data(CONVERSATIONS_KEY), self.clock(), open_id=self.open_id(),
            page_visible=js.document.visibilityState == "visible", enabled=self._enabled(),
            muted=self.prefs.muted)
        for note in notes:
            self._show(note)

    def _show(self, note):
        options = {"body": note.body, "tag": note.tag, "renotify": note.alert, "silent": not note.alert,
                   "icon": ICON}
        try:
            notification = js.Notification.new(note.title, to_js(options, dict_converter=js.Object.fromEntries))
        except Exception:  # e.g. a phone browser that only shows them from a service worker
            return
        self._release(note.tag)
        proxy = create_proxy(lambda _e, tag=note.tag, cid=note.conversation_id: self._clicked(tag, cid))
        notification.onclick = proxy
        self.shown[note.tag] = (notification, proxy)
        if note.alert and self.prefs.sound:
            self.sound.play()

    def _clicked(self, tag, cid):
        entry = self.shown.pop(tag, None)
        if entry is not None:
            notification, proxy = entry
            notification.onclick = None
            notification.close()
            # The proxy is the one running now: destroyed once this call has returned.
            asyncio.get_event_loop().call_soon(proxy.destroy)
        js.window.focus()
        self.open_conversation(cid)

    def _release(self, tag):
        entry = self.shown.pop(tag, None)
        if entry is not None:
            entry[0].onclick = None
            entry[1].destroy()

    def _close_shown(self, tag):
        entry = self.shown.get(tag)
        self._release(tag)
        if entry is not None:
            try:
                entry[0].close()
            except Exception:  # already gone: nothing to close
                pass

    # ----- the end -------------------------------------------------------------------------------

    def stop(self):
        """Signed out: what was shown is closed (the next user must not open it), nothing is left."""
        if self.unsubscribe is None:
            return
        self.unsubscribe()
        self.unsubscribe = None
        for tag in list(self.shown):
            self._close_shown(tag)
        self.listeners.dispose()
        self.chat_listeners.dispose()
        self.mute_button = None
        self.sound.close()
        self.controls.hidden = True
