"""Fan-out: every event a socket can receive reaches the right sockets of every worker.

Theory of operation. A worker's open sockets live in its `Hub` (conversation -> sockets,
user -> inbox sockets). Whatever produces an event (a send, a read, a typing frame, a
logout) hands it to the fan-out as an `Envelope`: where it goes, and the frame's text,
encoded once by the producer. The fan-out decides how it reaches the hubs:

- `LocalFanout` (the default, one process): straight to this process's hub.
- `RedisFanout` (`--redis URL`): PUBLISH on one channel that every worker SUBSCRIBEs to
  (Redis pub/sub through redis-py's asyncio client); each worker hands what it receives to
  its own hub, which drops what it has no socket for. Redis sends a channel's messages to
  each subscriber in the order they were published, so a producer that publishes after its
  COMMIT while it still holds its conversation's order (see `messaging.deliver`) gives every
  worker the conversation's messages in id order.

Losing Redis (`RedisFanout`): a worker that cannot reach it (the subscription breaks, or a
PING each `HEALTH_INTERVAL` goes unanswered for `HEALTH_TIMEOUT`) can no longer promise its
sockets their events, so it closes them with 1011 (CONTRACT: "the server may close at any
moment: 1001, 1006, 1011") and refuses new ones (`available` False) until it has subscribed
again. Clients reconnect with backoff, poll meanwhile, and fill the gap with `after=`:
the database, not Redis, holds every acknowledged message. REST keeps answering meanwhile.

The wire form of an envelope is one line of routing words, a newline, then the frame text
as the sockets will get it, so a worker never decodes or re-encodes the frame:

    M <conversation> <user,user>\\n<frame>   a new message: the chat's sockets and the inboxes
    C <conversation>\\n<frame>               the chat's sockets
    I <user,user> <conversation or ->\\n<frame>  those users' inbox sockets (but pages that hold its own)
    T <conversation> <typer>\\n<frame>       a typing indicator (coalesced, not to the typer)
    S <code> <session>\\n                    close the sockets opened by that session
    A\\n                                     an admin command committed: read admin_events now
                                             (`server.realtime.admin_events`), from serve.py users/conversations
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any

from server.realtime.hub import Hub, Outgoing

log = logging.getLogger("server")

UNAVAILABLE = 1011  # what a worker that lost Redis closes its sockets with
HEALTH_INTERVAL = 1.0
HEALTH_TIMEOUT = 1.5
RECONNECT_DELAYS = (0.2, 0.5, 1.0, 2.0)  # then every 2 s


@dataclass(frozen=True)
class Envelope:
    kind: str  # M, C, I, T, S or A (see the module's docstring)
    text: str | Outgoing = ""  # an Outgoing is encoded on first use (not at all if no socket takes it)
    conversation_id: int | None = None
    users: tuple[int, ...] = ()
    typer_id: int | None = None
    session_id: str | None = None
    code: int = 0


def encode(envelope: Envelope) -> str:
    users = ",".join(str(u) for u in envelope.users) or "-"
    kind = envelope.kind
    if kind == "M":
        head = f"M {envelope.conversation_id} {users}"
    elif kind == "C":
        head = f"C {envelope.conversation_id}"
    elif kind == "I":
        head = f"I {users} {envelope.conversation_id if envelope.conversation_id is not None else '-'}"
    elif kind == "T":
        head = f"T {envelope.conversation_id} {envelope.typer_id}"
    elif kind == "S":
        head = f"S {envelope.code} {envelope.session_id}"
    elif kind == "A":
        head = "A"
    else:
        raise ValueError(f"unknown envelope kind {kind!r}")
    text = envelope.text
    return head + "\n" + (text if isinstance(text, str) else text.text)


def decode(payload: str) -> Envelope:
    """The envelope `encode` made; ValueError for anything else."""
    head, newline, text = payload.partition("\n")
    words = head.split(" ")
    if not newline or not words:
        raise ValueError("not an envelope")
    kind = words[0]

    def ids(word: str) -> tuple[int, ...]:
        return () if word == "-" else tuple(int(u) for u in word.split(","))

    if kind == "M" and len(words) == 3:
        return Envelope("M", text, conversation_id=int(words[1]), users=ids(words[2]))
    if kind == "C" and len(words) == 2:
        return Envelope("C", text, conversation_id=int(words[1]))
    if kind == "I" and len(words) == 3:
        return Envelope("I", text, users=ids(words[1]), conversation_id=None if words[2] == "-" else int(words[2]))
    if kind == "T" and len(words) == 3:
        return Envelope("T", text, conversation_id=int(words[1]), typer_id=int(words[2]))
    if kind == "S" and len(words) == 3:
        return Envelope("S", code=int(words[1]), session_id=words[2])
    if kind == "A" and len(words) == 1:
        return Envelope("A")
    raise ValueError(f"not an envelope: {head[:40]!r}")


def deliver_locally(hub: Hub, envelope: Envelope) -> None:
    """Hand `envelope` to this worker's sockets."""
    kind = envelope.kind
    if kind in ("M", "C"):
        hub.broadcast_text(envelope.conversation_id, envelope.text)
    if kind in ("M", "I"):
        hub.notify_inboxes_text(envelope.users, envelope.text, envelope.conversation_id)
    elif kind == "T":
        hub.typing_text(envelope.conversation_id, envelope.typer_id, envelope.text)
    elif kind == "S":
        hub.close_session(envelope.session_id, envelope.code)


def _poke_or_deliver(fanout: LocalFanout | RedisFanout, envelope: Envelope) -> None:
    if envelope.kind == "A":
        if fanout.on_admin_event is not None:
            fanout.on_admin_event()
    else:
        deliver_locally(fanout.hub, envelope)


class LocalFanout:
    """One process: an envelope goes straight to this process's hub."""

    available = True

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.on_admin_event: Callable[[], None] | None = None  # the `A` envelope's receiver

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def publish(self, *envelopes: Envelope) -> None:
        for envelope in envelopes:
            _poke_or_deliver(self, envelope)

    async def ready(self) -> bool:
        return True


def channel_name(prefix: str) -> str:
    return f"{prefix}:events"


def publish_admin_poke(url: str, prefix: str = "coachline") -> None:
    """From a process that is not a server (serve.py users/conversations): tell every
    worker to read `admin_events` now. Raises redis-py's errors when Redis is away."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=HEALTH_TIMEOUT, socket_connect_timeout=2)
    try:
        client.publish(channel_name(prefix), encode(Envelope("A")))
    finally:
        client.close()


class RedisFanout:
    """Through Redis pub/sub, to every worker's hub; see the module's docstring."""

    def __init__(self, hub: Hub, url: str, *, prefix: str = "coachline") -> None:
        import redis.asyncio as redis  # only a server started with --redis needs the package

        self.hub = hub
        self.on_admin_event: Callable[[], None] | None = None  # the `A` envelope's receiver
        self.channel = channel_name(prefix)
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        # One immediate retry: a pooled connection that a Redis restart broke is replaced at
        # once, so the first publish or readiness PING after the restart does not fail on it.
        self.client: Any = redis.Redis.from_url(url, socket_timeout=HEALTH_TIMEOUT, socket_connect_timeout=2,
                                                health_check_interval=0, retry=Retry(NoBackoff(), 1))
        self.available = False
        self.worker_id = secrets.token_hex(4)
        self._stopping = False
        self._task: asyncio.Task | None = None
        self._subscribed = asyncio.Event()
        self.outages = 0

    async def start(self, wait: float = 5.0) -> None:
        """Subscribe; waits up to `wait` s for Redis (a worker that starts without it serves
        REST and refuses sockets until Redis is there)."""
        self._task = asyncio.ensure_future(self._run())
        try:
            await asyncio.wait_for(self._subscribed.wait(), wait)
        except asyncio.TimeoutError:
            log.warning("Redis is not reachable yet: sockets are refused until it is")

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.client.aclose()

    async def publish(self, *envelopes: Envelope) -> None:
        """Publish, in order; a lost Redis is logged, never raised (the message is stored,
        and every socket that would have taken it is being closed). While this worker knows
        Redis is gone it does not try (a send would otherwise wait for a timeout while it
        holds its conversation); the other workers' clients then get the message when they
        next catch up (`after=`), not live."""
        if not self.available:
            return
        try:
            if len(envelopes) == 1:
                await self.client.publish(self.channel, encode(envelopes[0]))
                return
            async with self.client.pipeline(transaction=False) as pipe:
                for envelope in envelopes:
                    pipe.publish(self.channel, encode(envelope))
                await pipe.execute()
        except Exception as exc:  # redis-py's ConnectionError/TimeoutError, or OSError
            log.warning("fan-out: could not publish (%s)", type(exc).__name__)

    async def ready(self) -> bool:
        """For /readyz: subscribed and Redis answers."""
        if not self.available:
            return False
        try:
            return bool(await asyncio.wait_for(self.client.ping(), HEALTH_TIMEOUT))
        except Exception:
            return False

    async def _run(self) -> None:
        attempt = 0
        while not self._stopping:
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                attempt = 0
                self._up()
                await self._listen(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.available or attempt == 0:
                    log.warning("fan-out: lost Redis (%s); closing this worker's sockets", type(exc).__name__)
                self._down()
            finally:
                await asyncio.shield(_quietly(pubsub.aclose()))
            await asyncio.sleep(RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)])
            attempt += 1

    async def _listen(self, pubsub: Any) -> None:
        """Deliver what arrives; PING the subscription's own link every HEALTH_INTERVAL and
        give up on it when nothing (no message, no pong) came for HEALTH_TIMEOUT past that."""
        loop = asyncio.get_running_loop()
        last_heard = next_ping = loop.time()
        while True:
            message = await pubsub.get_message(timeout=HEALTH_INTERVAL / 2)
            now = loop.time()
            if message is not None:
                last_heard = now
                if message.get("type") == "message":
                    self._deliver(message["data"])
            if now - last_heard > HEALTH_INTERVAL + HEALTH_TIMEOUT:
                raise ConnectionError("Redis stopped answering")
            if now >= next_ping:
                await pubsub.ping()
                next_ping = now + HEALTH_INTERVAL

    def _deliver(self, data: bytes | str) -> None:
        try:
            envelope = decode(data.decode() if isinstance(data, bytes) else data)
        except (ValueError, UnicodeDecodeError):
            log.warning("fan-out: ignored a message that is not an envelope")
            return
        _poke_or_deliver(self, envelope)

    def _up(self) -> None:
        if not self.available:
            self.available = True
            self._subscribed.set()
            log.info("fan-out: subscribed to Redis")

    def _down(self) -> None:
        if self.available:
            self.outages += 1
        self.available = False
        self._subscribed.clear()
        self.hub.close(None, UNAVAILABLE, even_if_silent=True)


async def _quietly(awaitable: Any) -> None:
    try:
        await awaitable
    except Exception:
        pass
