"""The messaging rules of CONTRACT.md ("Messaging REST"), independent of HTTP.

Both the REST endpoints and the `send_as` fault control go through `deliver()`, so a
message sent either way is stored, made idempotent and broadcast the same way.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from server import images
from server.context import AppContext
from server.data.db import Row
from server.errors import ApiError, bad_request, too_many
from server.realtime.fanout import Envelope
from server.realtime.hub import Outgoing
from server.request_body import LONE_SURROGATE, has_lone_surrogate
from server.send_form import parse_send_form
from server.path_ids import MAX_ID  # SQLite's INTEGER; a larger id cannot name anything
from server.data.store import Store
from server.serializers import conversation_json, message_json
from server.timefmt import iso_utc

MAX_CONTENT_CHARS = 2000
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
UPLOAD_QUOTA_WINDOW = 86400.0
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")  # fullmatch


@dataclass(frozen=True)
class PageQuery:
    limit: int
    before: int | None = None
    after: int | None = None


@dataclass(frozen=True)
class Draft:
    content: str
    client_message_id: str | None = None
    image: images.CleanImage | None = None  # re-encoded: what is stored and counted


def parse_page_query(params: Mapping[str, str]) -> PageQuery:
    """`limit` defaults to 50 and is clamped to 200; a non-integer or < 1 is a 400."""
    limit = query_int(params, "limit", minimum=1)
    before = query_int(params, "before", minimum=0)
    after = query_int(params, "after", minimum=0)
    if before is not None and after is not None:
        raise bad_request("Use either before or after, not both.")
    return PageQuery(limit=DEFAULT_LIMIT if limit is None else min(limit, MAX_LIMIT), before=before, after=after)


def query_int(params: Mapping[str, str], name: str, *, minimum: int) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not re.fullmatch(r"[0-9]{1,19}", raw.strip()):
        raise bad_request(f"{name} must be an integer >= {minimum}.")
    value = int(raw)
    if value < minimum or value > MAX_ID:
        raise bad_request(f"{name} must be an integer >= {minimum}.")
    return value


def checked_text(value: object, name: str, max_chars: int) -> str:
    """A text field as any request may carry it (a send's or an edit's content, a saved
    reply's title, a search's q): the one place where such text is checked. Kept exactly as
    sent; whether it may be blank is the caller's rule."""
    if not isinstance(value, str):
        raise bad_request(f"{name} must be a string.")
    if len(value) > max_chars:
        raise bad_request(f"{name} must be at most {max_chars} characters.")
    if has_lone_surrogate(value):  # whatever the body's encoding
        raise bad_request(LONE_SURROGATE)
    if "\x00" in value:  # PostgreSQL's text cannot hold it (a 500 there); one rule on every engine
        raise bad_request(f"{name} must not contain NUL characters.")
    return value


def make_draft(content: object, client_message_id: object, image: bytes | None = None) -> Draft:
    """Validate what a send carries, whether it came as JSON or as a form: the one place
    where its fields are checked. Content is kept exactly as sent. With an image this
    decodes and re-encodes it (`images.clean_image`): call it on a worker thread then."""
    content = checked_text("" if content is None else content, "content", MAX_CONTENT_CHARS)
    # fullmatch: `$` with match() lets a trailing newline through.
    if client_message_id is not None and not (isinstance(client_message_id, str)
                                              and _UUID.fullmatch(client_message_id)):
        raise bad_request("client_message_id must be a UUID string.")
    if not content.strip() and image is None:
        raise bad_request("A message needs text or an image.")
    clean = None
    if image is not None:  # last: the text is refused before any pixel is decoded
        if len(image) > images.MAX_IMAGE_BYTES:
            raise ApiError(413, "Image is larger than 5 MB.")
        try:
            clean = images.clean_image(image)
        except images.BadImage as exc:
            raise bad_request(str(exc)) from None
    return Draft(content=content, client_message_id=client_message_id, image=clean)


def draft_from_form(body: bytes, content_type: str) -> Draft:
    """A form send's draft (blocking: parses and re-encodes; run it on the upload pool).
    An empty client_message_id is an absent one (a form cannot send null)."""
    form = parse_send_form(body, content_type)
    if "content" in form.files or "client_message_id" in form.files:
        raise bad_request("content and client_message_id must be text fields.")
    if form.fields.get("image"):
        raise bad_request("image must be a file.")
    return make_draft(form.fields.get("content"), form.fields.get("client_message_id") or None,
                      form.files.get("image"))


async def participant_conversation(ctx: AppContext, conversation_id: int, user_id: int) -> Row:
    """The conversation if `user_id` takes part in it: 404 when missing, 403 when not theirs."""
    row = await ctx.store.conversation(conversation_id) if 0 < conversation_id <= MAX_ID else None
    if row is None:
        raise ApiError(404, "Not found.")
    if user_id not in (row["trainer_id"], row["trainee_id"]):
        raise ApiError(403, "You do not have permission to perform this action.")
    return row


async def sendable_conversation(ctx: AppContext, conversation_id: int, user_id: int) -> Row:
    row = await participant_conversation(ctx, conversation_id, user_id)
    if row["is_archived"]:
        raise ApiError(403, "This conversation is archived.")
    return row


async def conversation_list(ctx: AppContext, user_id: int) -> list[dict]:
    return [conversation_json(row) for row in await ctx.store.conversation_summaries(user_id)]


async def conversation_view(ctx: AppContext, conversation_id: int, user_id: int) -> dict:
    row = await ctx.store.conversation_summary(conversation_id, user_id)
    assert row is not None
    return conversation_json(row)


async def message_page(ctx: AppContext, conversation_id: int, query: PageQuery) -> dict:
    if query.after is not None:
        page = await ctx.store.messages_after(conversation_id, query.after, query.limit)
    elif query.before is not None:
        page = await ctx.store.messages_before(conversation_id, query.before, query.limit)
    else:
        page = await ctx.store.newest_messages(conversation_id, query.limit)
    return {"results": [message_json(row) for row in page.rows], "has_more": page.has_more}


async def take_send(ctx: AppContext, user_id: int) -> None:
    """Count one send (or edit) against the user's rate, or refuse it: 429 with Retry-After."""
    wait = await ctx.shared.send_take(user_id, ctx.clock())
    if wait is not None:
        raise too_many("Too many messages. Slow down.", wait)


async def upload_headroom(ctx: AppContext, sender_id: int) -> int:
    """Image bytes `sender_id` may still store in the rolling 24 h window (negative when over)."""
    since = iso_utc(ctx.clock() - UPLOAD_QUOTA_WINDOW)
    return ctx.limits.upload_quota_bytes - await ctx.store.image_bytes_since(sender_id, since)


def quota_refusal() -> ApiError:
    return ApiError(429, "Upload quota reached: try again tomorrow.", {"Retry-After": "3600"})


async def _check_upload_quota(ctx: AppContext, store: Store, sender_id: int, size: int) -> None:
    """429 when `size` more stored bytes would take the sender over the rolling 24 h quota.
    Run inside the send's transaction with the sender's row held, so that concurrent
    uploads on any worker are counted one after the other."""
    await store.lock_user(sender_id)
    since = iso_utc(ctx.clock() - UPLOAD_QUOTA_WINDOW)
    if await store.image_bytes_since(sender_id, since) + size > ctx.limits.upload_quota_bytes:
        raise quota_refusal()


async def deliver(ctx: AppContext, conversation_id: int, sender_id: int, draft: Draft) -> tuple[dict, bool]:
    """Store and broadcast a message; return (Message JSON, created).

    A repeated client_message_id from the same sender returns the stored message with
    created=False and broadcasts nothing (CONTRACT: idempotent send). The unique index
    decides (`INSERT ... ON CONFLICT DO NOTHING`), so the same id sent to several workers at
    once stores one row.

    The message is published once its transaction has committed, while what orders the
    conversation's transactions is still held (`Store.lock_conversation`: the one writer in
    SQLite, the conversation's order lock in PostgreSQL): the next message of the
    conversation can neither take an id, nor commit, nor be published before this one is, so
    every worker's sockets get them in id order, and a reader of `after=` never sees an id
    while a smaller one is still uncommitted. A socket never carries a message the database
    does not hold (a crash or a failed COMMIT before the publish leaves nothing to unsay),
    and a client told of a message by its socket finds it on the next read.

    An image is written under a hidden name before the transaction (the write lock is not
    held for a 5 MB write) and renamed to its served name after its row is inserted; any
    failure (quota, database, a repeated id, a cancelled request) removes it under either
    name, so every file in the media directory has its row. The quota counts the stored
    (re-encoded) bytes, recorded with the row.
    """
    if draft.client_message_id is not None:
        existing = await _repeat(ctx, conversation_id, sender_id, draft.client_message_id)
        if existing is not None:
            return existing, False
    pending = None
    stored: list[bool] = []  # [True] once the COMMIT is done
    try:
        if draft.image is not None:
            pending = images.PendingImage.named(ctx.media_dir, draft.image.extension)
            await _write(pending, draft.image.data)
        async with ctx.store.transaction() as store:
            if draft.image is not None:
                await _check_upload_quota(ctx, store, sender_id, len(draft.image.data))
            await store.lock_conversation(conversation_id)
            message_id = await store.insert_message(
                conversation_id, sender_id, draft.content, pending.url if pending else None, iso_utc(ctx.clock()),
                draft.client_message_id, image_bytes=len(draft.image.data) if draft.image is not None else 0,
            )
            if message_id is not None:
                if pending is not None:
                    # On the loop: one rename (no data moves), so that a cancellation cannot
                    # land between it and the cleanup below.
                    pending.place()
                row = await store.message(message_id)
                conversation = await store.conversation(conversation_id)
                message = message_json(row)
                # One encoding for the chat's sockets and both participants' inboxes.
                envelope = Envelope(
                    "M", Outgoing({"type": "new_message", "message": message}),
                    conversation_id=conversation_id, users=(conversation["trainer_id"], conversation["trainee_id"]))
                store.after_commit(functools.partial(_publish_stored, ctx, envelope, stored))
    except BaseException:
        if pending is not None and not stored:  # cancelled after the COMMIT: the row has its file
            pending.discard()
        raise
    if message_id is None:  # another request with this client_message_id won the race
        if pending is not None:
            pending.discard()
        existing = await _repeat(ctx, conversation_id, sender_id, draft.client_message_id)
        assert existing is not None
        return existing, False
    return message, True


async def _publish_stored(ctx: AppContext, envelope: Envelope, stored: list[bool]) -> None:
    stored.append(True)
    await ctx.fanout.publish(envelope)


async def _write(pending: images.PendingImage, data: bytes) -> None:
    """Write on a thread. A request cancelled meanwhile still waits for the write to end:
    otherwise the thread could create the file after the cleanup looked for it."""
    write = asyncio.ensure_future(asyncio.to_thread(pending.write, data))
    try:
        await asyncio.shield(write)
    except asyncio.CancelledError:
        await asyncio.wait([write])
        raise


async def _repeat(ctx: AppContext, conversation_id: int, sender_id: int, client_message_id: str) -> dict | None:
    existing = await ctx.store.message_by_client_id(sender_id, client_message_id)
    if existing is None:
        return None
    if existing["conversation_id"] != conversation_id:
        raise bad_request("client_message_id was already used for another conversation.")
    return message_json(existing)


async def mark_read(ctx: AppContext, conversation_id: int, reader_id: int) -> int:
    """Mark the other party's messages read; broadcast a read_receipt when any changed."""
    read_at = iso_utc(ctx.clock())
    marked = await ctx.store.mark_read(conversation_id, reader_id, read_at)
    if marked:
        conversation = await ctx.store.conversation(conversation_id)
        chat = {"type": "read_receipt", "reader_id": reader_id, "read_at": read_at}
        inbox = {"type": "read_receipt", "conversation_id": conversation_id, "reader_id": reader_id,
                 "read_at": read_at}
        await ctx.fanout.publish(
            Envelope("C", json.dumps(chat), conversation_id=conversation_id),
            Envelope("I", json.dumps(inbox), users=(conversation["trainer_id"], conversation["trainee_id"]),
                     conversation_id=conversation_id))
    return marked
