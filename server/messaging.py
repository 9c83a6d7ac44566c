"""The messaging rules of CONTRACT.md ("Messaging REST"), independent of HTTP.

Both the REST endpoints and the `send_as` fault control go through `deliver()`, so a
message sent either way is stored, made idempotent and broadcast the same way.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass

from server import images
from server.context import AppContext
from server.errors import ApiError, bad_request
from server.hub import Outgoing
from server.serializers import conversation_json, message_json
from server.timefmt import iso_utc

MAX_CONTENT_CHARS = 2000
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
UPLOAD_QUOTA_WINDOW = 86400.0
MAX_ID = 2**63 - 1  # SQLite's INTEGER; a larger id cannot name anything
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass(frozen=True)
class PageQuery:
    limit: int
    before: int | None = None
    after: int | None = None


@dataclass(frozen=True)
class Draft:
    content: str
    client_message_id: str | None = None
    image: bytes | None = None
    image_extension: str | None = None


def parse_page_query(params: Mapping[str, str]) -> PageQuery:
    """`limit` defaults to 50 and is clamped to 200; a non-integer or < 1 is a 400."""
    limit = _query_int(params, "limit", minimum=1)
    before = _query_int(params, "before", minimum=0)
    after = _query_int(params, "after", minimum=0)
    if before is not None and after is not None:
        raise bad_request("Use either before or after, not both.")
    return PageQuery(limit=DEFAULT_LIMIT if limit is None else min(limit, MAX_LIMIT), before=before, after=after)


def _query_int(params: Mapping[str, str], name: str, *, minimum: int) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not re.fullmatch(r"[0-9]{1,19}", raw.strip()):
        raise bad_request(f"{name} must be an integer >= {minimum}.")
    value = int(raw)
    if value < minimum or value > MAX_ID:
        raise bad_request(f"{name} must be an integer >= {minimum}.")
    return value


def make_draft(content: object, client_message_id: object, image: bytes | None = None) -> Draft:
    """Validate what a send carries; content is kept exactly as sent."""
    if content is None:
        content = ""
    if not isinstance(content, str):
        raise bad_request("content must be a string.")
    if len(content) > MAX_CONTENT_CHARS:
        raise bad_request(f"content must be at most {MAX_CONTENT_CHARS} characters.")
    if client_message_id is not None and not (isinstance(client_message_id, str) and _UUID.match(client_message_id)):
        raise bad_request("client_message_id must be a UUID string.")
    extension = None
    if image is not None:
        if len(image) > images.MAX_IMAGE_BYTES:
            raise ApiError(413, "Image is larger than 5 MB.")
        try:
            extension = images.inspect_image(image).extension
        except images.BadImage as exc:
            raise bad_request(str(exc)) from None
    if not content.strip() and image is None:
        raise bad_request("A message needs text or an image.")
    return Draft(content=content, client_message_id=client_message_id, image=image, image_extension=extension)


def participant_conversation(ctx: AppContext, conversation_id: int, user_id: int) -> sqlite3.Row:
    """The conversation if `user_id` takes part in it: 404 when missing, 403 when not theirs."""
    row = ctx.store.conversation(conversation_id) if 0 < conversation_id <= MAX_ID else None
    if row is None:
        raise ApiError(404, "Not found.")
    if user_id not in (row["trainer_id"], row["trainee_id"]):
        raise ApiError(403, "You do not have permission to perform this action.")
    return row


def sendable_conversation(ctx: AppContext, conversation_id: int, user_id: int) -> sqlite3.Row:
    row = participant_conversation(ctx, conversation_id, user_id)
    if row["is_archived"]:
        raise ApiError(403, "This conversation is archived.")
    return row


def conversation_list(ctx: AppContext, user_id: int) -> list[dict]:
    return [conversation_json(row, ctx.user_row) for row in ctx.store.conversation_summaries(user_id)]


def conversation_view(ctx: AppContext, conversation_id: int, user_id: int) -> dict:
    row = ctx.store.conversation_summary(conversation_id, user_id)
    assert row is not None
    return conversation_json(row, ctx.user_row)


def message_page(ctx: AppContext, conversation_id: int, query: PageQuery) -> dict:
    if query.after is not None:
        page = ctx.store.messages_after(conversation_id, query.after, query.limit)
    elif query.before is not None:
        page = ctx.store.messages_before(conversation_id, query.before, query.limit)
    else:
        page = ctx.store.newest_messages(conversation_id, query.limit)
    return {"results": [message_json(row, ctx.user_row) for row in page.rows], "has_more": page.has_more}


def check_upload_quota(ctx: AppContext, sender_id: int, size: int) -> None:
    """429 when `size` more image bytes would take the sender over the rolling 24 h quota."""
    since = iso_utc(ctx.clock() - UPLOAD_QUOTA_WINDOW)
    if ctx.store.image_bytes_since(sender_id, since) + size > ctx.limits.upload_quota_bytes:
        raise ApiError(429, "Upload quota reached: try again tomorrow.", {"Retry-After": "3600"})


def deliver(ctx: AppContext, conversation_id: int, sender_id: int, draft: Draft) -> tuple[dict, bool]:
    """Store and broadcast a message; return (Message JSON, created).

    A repeated client_message_id from the same sender returns the stored message with
    created=False and broadcasts nothing (CONTRACT: idempotent send).
    """
    if draft.client_message_id is not None:
        existing = ctx.store.message_by_client_id(sender_id, draft.client_message_id)
        if existing is not None:
            if existing["conversation_id"] != conversation_id:
                raise bad_request("client_message_id was already used for another conversation.")
            return message_json(existing, ctx.user_row), False
    image_url = None
    if draft.image is not None:
        assert draft.image_extension is not None
        image_url = images.save_image(ctx.media_dir, draft.image, draft.image_extension)
    message_id = ctx.store.insert_message(
        conversation_id, sender_id, draft.content, image_url, iso_utc(ctx.clock()), draft.client_message_id,
        image_bytes=len(draft.image) if draft.image is not None else 0,
    )
    row = ctx.store.message(message_id)
    assert row is not None
    message = message_json(row, ctx.user_row)
    event = Outgoing({"type": "new_message", "message": message})  # one encoding for both audiences
    ctx.hub.broadcast(conversation_id, event)
    ctx.hub.notify_inboxes(participants(ctx, conversation_id), event)
    return message, True


def mark_read(ctx: AppContext, conversation_id: int, reader_id: int) -> int:
    """Mark the other party's messages read; broadcast a read_receipt when any changed."""
    read_at = iso_utc(ctx.clock())
    marked = ctx.store.mark_read(conversation_id, reader_id, read_at)
    if marked:
        ctx.hub.broadcast(conversation_id, {"type": "read_receipt", "reader_id": reader_id, "read_at": read_at})
        ctx.hub.notify_inboxes(participants(ctx, conversation_id), {
            "type": "read_receipt", "conversation_id": conversation_id, "reader_id": reader_id, "read_at": read_at,
        })
    return marked


def participants(ctx: AppContext, conversation_id: int) -> tuple[int, ...]:
    conversation = ctx.store.conversation(conversation_id)
    return () if conversation is None else (conversation["trainer_id"], conversation["trainee_id"])
