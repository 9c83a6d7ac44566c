"""Held sends of the conversations that are not open (core/held_sends.py), carried out: their
posts, their timer, their outboxes in localStorage.

    held = HeldOutboxes(me_id, api, storage, clock, on_sent=..., on_outcome=..., on_error=...)
    held.restore()                   # sign-in: what this user left in storage
    handed = held.take(cid)          # a chat opens: it takes that conversation's outbox
    held.give_back(outbox, files)    # ...and gives it back when it closes
    held.stop()

A post's answer goes to `on_outcome(cid, cmid, message, error)`, not back here: by then the
conversation may be open, and its chat holds the outbox (web/messages_page.py routes it).
"""

import asyncio

from core.held_sends import HeldSends, MessageSent, PostHeld, stored_conversation_id
from web.send_io import post_send, store_outbox
from web.timers import WakeTimer


class HeldOutboxes:
    def __init__(self, my_user_id, api, storage, clock, *, on_sent, on_outcome, on_error):
        self.my_user_id = my_user_id
        self.api = api
        self.storage = storage  # localStorage (web/browser_storage.py)
        self.clock = clock
        self.on_sent = on_sent  # (conversation id, message): a held send was stored
        self.on_outcome = on_outcome
        self.on_error = on_error
        self.core = HeldSends(my_user_id)
        self.timer = WakeTimer(lambda: self._run(self.core.tick(self.clock())))
        self.stopped = False

    def restore(self):
        self._run(self.core.restore(self._stored_outboxes(), self.clock()))

    def take(self, cid):
        return self.core.take(cid)

    def give_back(self, outbox, files):
        self._run(self.core.give_back(outbox, files, self.clock()))

    def server_heard(self):
        """The server answered (a fetch, a send, a socket): held sends go now."""
        self._run(self.core.server_heard(self.clock()))

    def send_outcome(self, cid, cmid, message, error):
        """A send's answer for a conversation whose outbox is held here."""
        now = self.clock()
        if error is None:
            self._run(self.core.send_answered(cid, cmid, message, now))
        else:
            self._run(self.core.send_failed(cid, cmid, error, now))

    def stop(self):
        """Session end: what is held stays in storage for this user's next session."""
        self.stopped = True
        self.timer.cancel()

    def _stored_outboxes(self):
        """Every outbox this user left in storage, by conversation id."""
        try:
            found = {}
            for key in self.storage.keys():
                cid = stored_conversation_id(key, self.my_user_id)
                text = self.storage.get_item(key) if cid is not None else None
                if isinstance(text, str):
                    found[cid] = text
            return found
        except Exception:
            return {}  # storage blocked: nothing was kept

    async def _post(self, post):
        cid, cmid = post.conversation_id, post.client_message_id
        try:
            message = await post_send(self.api, cid, cmid, post.content, post.attachment)
        except Exception as exc:
            self.on_error(exc)
            self.on_outcome(cid, cmid, None, exc)
            return
        self.on_outcome(cid, cmid, message, None)

    def _run(self, effects):
        if self.stopped:
            return
        for effect in effects:
            kind = type(effect)
            if kind is PostHeld:
                asyncio.ensure_future(self._post(effect))
            elif kind is MessageSent:
                self.on_sent(effect.conversation_id, effect.message)
            else:  # StoreOutbox
                store_outbox(self.storage, effect)
        self.timer.set(self.core.next_wakeup())
