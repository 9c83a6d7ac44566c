"""Adapter for a send's I/O, shared by the open chat (web/chat_controller.py) and the held
sends of conversations that are not open (web/held_outboxes.py): posting one send, and
writing an outbox to localStorage. Its own small module so that held messages can go at
start-up without importing the chat view, which loads only when a chat is first opened.
"""

import asyncio

from web.web_http import multipart_form

# A send with no answer by then is held like one without network (core: send_is_held) and
# goes again with the same client_message_id, so a late answer cannot store it twice.
SEND_TIMEOUT = 20.0


async def post_send(api, cid, client_message_id, content, attachment):
    """POST one send (a form when it has a file); raises as api_client does, or TimeoutError."""
    form = multipart_form(content, client_message_id, attachment) if attachment is not None else None
    return await asyncio.wait_for(api.send(cid, content, client_message_id, form=form), SEND_TIMEOUT)


def store_outbox(storage, effect):
    """Carry out a StoreOutbox in `storage` (web/browser_storage.py); text None removes the key."""
    try:
        if effect.text is None:
            storage.remove_item(effect.key)
        else:
            storage.set_item(effect.key, effect.text)
    except Exception:
        pass  # storage full or blocked: the outbox still lives in memory
