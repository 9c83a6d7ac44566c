"""Admin changes reach the sockets that are already open, on every worker.

Theory of operation. `serve.py users ...` and `serve.py conversations ...` run in a process
of their own, perhaps while the server runs as one process or as several workers on several
machines. A change that open sockets must feel (a disabled account, ended sessions, an
archived conversation, a new one) commits with a row in `admin_events` (`server.admin`).
Each worker polls that table every `POLL_INTERVAL` seconds (`WHERE id > last`: one indexed
read, nothing when idle) and re-checks its own sockets concerned, as their handshake would
now: a session ended or an account disabled closes with 4001, a conversation the user may
no longer open (archived) with 4003 (CONTRACT "WebSocket"). With Redis, the command also
publishes a poke (envelope `A`) so that workers look at once instead of within a second;
the table stays the one source of truth, so a lost poke only costs that second.

The poll starts at the newest event when the worker starts: what happened before is in
the database already, and every handshake reads the database. A socket whose handshake
read the database before a change and joined the hub after the worker applied it would be
missed: `generation` counts the batches applied, and a socket that sees it change during
its handshake checks itself again (`server.realtime.ws`).
"""

from __future__ import annotations

import asyncio
import logging

from server.realtime.hub import Connection

log = logging.getLogger("server")

POLL_INTERVAL = 1.0
AUTH_FAILED = 4001  # CONTRACT: bad token or ended session
FORBIDDEN = 4003  # CONTRACT: not a participant, archived, or no such conversation


class AdminWatch:
    """This worker's reader of `admin_events`."""

    def __init__(self, interval: float = POLL_INTERVAL) -> None:
        self.interval = interval
        self.generation = 0  # batches of events taken in; a handshake compares it
        self._wake = asyncio.Event()

    def poke(self) -> None:
        """Look now (a fan-out `A` envelope: an admin command has just committed)."""
        self._wake.set()

    async def run(self, ctx) -> None:
        last = await ctx.store.last_admin_event_id()
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.interval)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()
            try:
                events = await ctx.store.admin_events_after(last)
                if not events:
                    continue
                self.generation += 1  # before applying: a socket joining from now on checks itself
                for event in events:
                    await apply_event(ctx, event)
                    last = event["id"]
            except Exception:  # one bad poll must not end the watch
                log.exception("could not apply the admin events")


async def apply_event(ctx, event: dict) -> None:
    kind, subject = event["kind"], int(event["subject_id"])
    if kind == "user":
        await recheck(ctx, [conn for conn in ctx.hub.connections() if conn.user_id == subject])
    elif kind == "conversation":
        await recheck(ctx, ctx.hub.connections(subject))
        await _tell_inboxes(ctx, subject)


async def recheck(ctx, connections: list[Connection]) -> None:
    """Close those of `connections` that their handshake would now refuse."""
    for conn in connections:
        code = await refusal(ctx, conn)
        if code is not None:
            conn.close(code, even_if_silent=True)


async def refusal(ctx, conn: Connection) -> int | None:
    """The close code a socket like `conn` would now get at its handshake, or None."""
    session = await ctx.store.session(conn.session_id) if conn.session_id is not None else None
    if (session is None or session["revoked_at"] is not None or session["user_disabled_at"] is not None
            or session["expires_at"] <= ctx.clock()):
        return AUTH_FAILED
    if conn.conversation_id is not None:
        conversation = await ctx.store.conversation(conn.conversation_id)
        if (conversation is None or conversation["is_archived"]
                or conn.user_id not in (conversation["trainer_id"], conversation["trainee_id"])):
            return FORBIDDEN
    return None


async def _tell_inboxes(ctx, conversation_id: int) -> None:
    """The participants' inbox sockets on this worker get `conversation_updated` (archived,
    or new), each as that participant sees the conversation."""
    from server.messaging import conversation_view  # messaging imports the context, which imports this

    conversation = await ctx.store.conversation(conversation_id)
    if conversation is None:
        return
    for user_id in {conversation["trainer_id"], conversation["trainee_id"]}:
        if any(conn.user_id == user_id for conn in ctx.hub.connections() if conn.conversation_id is None):
            view = await conversation_view(ctx, conversation_id, user_id)
            ctx.hub.notify_inboxes((user_id,), {"type": "conversation_updated", "conversation": view})
