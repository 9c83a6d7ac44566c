"""Edit and delete one's own messages: the calls and their answers into the cache (issue 22.3).

    edits = MessageEdits(api, cache, conversation, me, capabilities=getter, clock=wall_clock)
    edits.actions(mid)            # ("edit", "delete") as core/message_actions.py allows now
    edits.last_editable()         # the Up arrow's message id, or None
    await edits.save(mid, text)   # None when saved, else a calm sentence (a 403's detail)
    await edits.delete(mid)       # the same

The rules are core/message_actions.py's; the server is the judge. An answer goes into the
query cache (message_log's updaters), which re-renders the node in place: the socket's
`message_updated` / `message_deleted` that follows changes nothing more. Nothing is shown
as done before the server said so, so a failure has nothing to undo: the message is as it
was, and the sentence says why.
"""

from core import models
from core.message_actions import action_failure_text, allowed_actions, last_editable_id
from core.message_log import with_changed, with_deleted
from core.query_cache import messages_key


class MessageEdits:
    def __init__(self, api, cache, conversation, me, *, capabilities, clock):
        self.api = api
        self.cache = cache
        self.key = messages_key(conversation["id"])
        self.archived = bool(conversation.get("is_archived"))
        self.me_id = me["id"]
        self.capabilities = capabilities  # a getter: the answer may come after the chat opened
        self.clock = clock

    def message(self, mid):
        log = self.cache.get_query_data(self.key)
        return log.get(mid) if log is not None else None

    def actions(self, mid):
        return allowed_actions(self.message(mid), self.me_id, self.capabilities(), self.clock(),
                               archived=self.archived)

    def last_editable(self):
        log = self.cache.get_query_data(self.key)
        if log is None:
            return None
        newest_first = (log.get(mid) for mid in reversed(log.ids()))
        return last_editable_id(newest_first, self.me_id, self.capabilities(), self.clock(),
                                archived=self.archived)

    async def save(self, mid, text):
        try:
            answer = await self.api.edit_message(mid, text)
        except Exception as exc:
            return action_failure_text(exc, "save the change")
        edited = models.parse_message(answer)
        if edited is not None:
            self.cache.set_query_data(self.key, with_changed(edited))
        return None

    async def delete(self, mid):
        try:
            await self.api.delete_message(mid)
        except Exception as exc:
            return action_failure_text(exc, "delete the message")
        self.cache.set_query_data(self.key, with_deleted(mid))
        return None
