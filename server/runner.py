"""Running the app under uvicorn: WebSocket limits, token-free logs with time and level,
a planned shutdown on SIGTERM, slow-client timeouts and who may set X-Forwarded-For.

SIGTERM (or SIGINT) is a planned shutdown, as a deploy or a restart sends it. `GracefulServer`:
1. stops accepting connections (the listening sockets close: a new client is refused at once
   and tries again, or another worker or machine);
2. closes every WebSocket of the hub with 1012 (service restart): the page reconnects at once,
   without its backoff and without the offline banner (py/ws_hook.py), and fills the gap;
3. lets uvicorn finish the HTTP answers in flight (a send that was accepted is answered, one
   that was not is not stored: a transaction commits whole or not at all), for at most
   `DRAIN_TIMEOUT` seconds, then closes the database and Redis;
4. exits 0: uvicorn would re-raise the signal once done, which makes a planned stop look like
   a crash to a supervisor (exit -15).
A watchdog thread started by the signal ends the process after `HARD_DEADLINE` seconds
whatever still runs (exit 1, logged), so a stop never hangs a deploy.

uvicorn trusts `X-Forwarded-For` from loopback by default, which lets any local client
pick the address the login limiter counts (and the logs show). Here the header is ignored
unless `--trusted-proxy` names the proxy that sends it.

uvicorn waits for ever for a request line and headers that never end, or a body that never
comes (a slowloris holds connections open that way). `GuardedH11Protocol` closes the
connection when the headers take longer than `Limits.header_timeout` or the body than
`Limits.body_timeout`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Sequence
from types import FrameType

import h11
import uvicorn
from starlette.applications import Starlette
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from server import log_format, logging_redact
from server.context import AppContext, Limits
from server.realtime.ws_frames import MAX_FRAME_BYTES

SERVICE_RESTART = 1012  # CONTRACT "WebSocket": the page reconnects at once, no banner
MAX_CONNECTIONS = 4096  # over this uvicorn answers 503
SOCKETS_CLOSE_TIMEOUT = 2.0  # for the close frames to go out
CLOSE_REPLY_TIMEOUT = 3.0  # then for the peers' close replies (a loaded peer answers late)
DRAIN_TIMEOUT = 5.0  # for the HTTP answers in flight
HARD_DEADLINE = 9.5  # from the signal to the end of the process, whatever happens
log = logging.getLogger("server")


class GracefulServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: Starlette, ready_fd: int | None = None) -> None:
        super().__init__(config)
        self.app = app
        self.ready_fd = ready_fd

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets)
        if self.started and self.ready_fd is not None:  # a worker: its supervisor says when all listen
            os.write(self.ready_fd, b"1")
            os.close(self.ready_fd)
            self.ready_fd = None
        elif self.started:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            print(f"Serving at http://{self.config.host if port == self.config.port else host}:{port}", flush=True)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if not self.should_exit:  # the first signal starts the clock (no logging here: a signal handler)
            watchdog = threading.Timer(HARD_DEADLINE, _past_the_deadline, args=(time.monotonic(),))
            watchdog.daemon = True
            watchdog.start()
        super().handle_exit(sig, frame)

    async def shutdown(self, sockets=None) -> None:
        started = time.monotonic()
        why = ", ".join(signal_name(sig) for sig in self._captured_signals) or "stop"
        log.info("%s: planned shutdown (sockets close with 1012, answers in flight finish)", why)
        for server in self.servers:  # refuse new connections before telling the sockets to come back
            server.close()
        for sock in sockets or []:
            sock.close()
        # A request still unfinished at DRAIN_TIMEOUT is cut as a too-slow client's is (its
        # connection closes, the app hears a disconnect) rather than left to uvicorn's own
        # timeout, which cancels the app's task: a 500 and a traceback for a planned stop.
        cut = asyncio.get_running_loop().call_later(DRAIN_TIMEOUT, self._cut_unfinished)
        ctx: AppContext | None = getattr(self.app.state, "ctx", None)  # set once the app has started
        if ctx is not None:
            await ctx.hub.close_all(SERVICE_RESTART, timeout=SOCKETS_CLOSE_TIMEOUT)
            await self._closing_handshakes(CLOSE_REPLY_TIMEOUT)
        await super().shutdown(sockets)
        cut.cancel()
        self._captured_signals.clear()  # exit 0, not by the signal: this stop was planned
        log.info("shutdown complete in %.2f s", time.monotonic() - started)

    async def _closing_handshakes(self, timeout: float) -> None:
        """Wait (bounded) for each WebSocket's close reply, after which uvicorn ends its
        connection. uvicorn's own shutdown closes a socket whose close frame is sent at once;
        if the peer's frames are still arriving then, the kernel answers them with a reset, and
        a peer that had not read our close frame yet loses it with the reset: it sees 1006, a
        crash, instead of 1012, and backs off instead of coming back at once."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline and any(isinstance(conn, WebSocketsSansIOProtocol)
                                             for conn in self.server_state.connections):
            await asyncio.sleep(0.01)  # connection_lost takes each one out of the set

    def _cut_unfinished(self) -> None:
        unfinished = [conn for conn in list(self.server_state.connections) if isinstance(conn, GuardedH11Protocol)]
        if unfinished:
            log.warning("%d connection(s) still unfinished after %.0f s: closing them", len(unfinished), DRAIN_TIMEOUT)
        for conn in unfinished:
            conn.cut()


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for the headers and one for the body."""

    header_timeout = 10.0
    body_timeout = 30.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline: asyncio.TimerHandle | None = None
        self._waiting_for: object = None
        self._watch()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._disarm()  # the transport now belongs to the WebSocket protocol
        self._waiting_for = "upgraded"
        super().handle_websocket_upgrade(event)

    def _watch(self) -> None:
        """Arm the deadline for what we now wait for: headers (a new request whose bytes have
        started, or the first one), the body, or nothing (keep-alive has its own timer)."""
        if self._waiting_for == "upgraded":
            return
        state = self.conn.their_state
        if state is h11.IDLE and (self.conn.trailing_data[0] or self.server_state.total_requests == 0
                                  or self.cycle is None):
            waiting_for, timeout = "headers", self.header_timeout
        elif state is h11.SEND_BODY:
            waiting_for, timeout = "body", self.body_timeout
        else:
            waiting_for, timeout = None, 0.0
        if waiting_for == self._waiting_for:
            return  # keep the deadline already running: trickling bytes does not extend it
        self._disarm()
        self._waiting_for = waiting_for
        if waiting_for is not None:
            self._deadline = self.loop.call_later(timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def cut(self) -> None:
        """Close now, the app's request (if any) hearing a disconnect (a planned stop's drain is over)."""
        self._disarm()
        self._too_slow()

    def _too_slow(self) -> None:
        self._deadline = None
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True  # the app's receive() answers http.disconnect
            self.cycle.message_event.set()
        if not self.transport.is_closing():
            self.transport.close()


def make_config(app: Starlette, host: str, port: int, *, limits: Limits,
                trusted_proxies: Sequence[str] = (), log_style: str = "text") -> uvicorn.Config:
    protocol = type("GuardedH11", (GuardedH11Protocol,),
                    {"header_timeout": limits.header_timeout, "body_timeout": limits.body_timeout})
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol,
        ws="websockets-sansio",
        ws_max_size=MAX_FRAME_BYTES,  # a bigger frame closes the socket with 1009
        # No permessage-deflate: a chat frame is a few hundred bytes, and each socket would
        # keep zlib's state (about 40 KB) for its whole life: 400 MB per 10,000 sockets
        # (bench/scale.py, issue 19).
        ws_per_message_deflate=False,
        lifespan="on",
        server_header=False,
        log_level="info",
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=list(trusted_proxies) or None,
        limit_concurrency=MAX_CONNECTIONS,
        timeout_graceful_shutdown=DRAIN_TIMEOUT + 1.0,  # a backstop: `_cut_unfinished` comes first
        log_config=log_format.logging_config(log_style),
    )
    logging_redact.install()  # after uvicorn's dictConfig made the handlers
    return config


def signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def _past_the_deadline(signalled_at: float) -> None:
    """The watchdog: the graceful stop is stuck (a hung database or Redis call, say)."""
    log.error("shutdown still running %.1f s after the signal: exiting now", time.monotonic() - signalled_at)
    for handler in log.handlers:
        handler.flush()
    os._exit(1)


def run(app: Starlette, host: str, port: int, *, limits: Limits, trusted_proxies: Sequence[str] = (),
        sockets: Sequence[socket.socket] | None = None, ready_fd: int | None = None,
        log_style: str = "text") -> None:
    """Serve `app` until stopped; on `sockets` when given (a worker of `serve.py --workers`,
    sharing the listening socket its supervisor bound)."""
    config = make_config(app, host, port, limits=limits, trusted_proxies=trusted_proxies, log_style=log_style)
    GracefulServer(config, app, ready_fd).run(sockets=list(sockets) if sockets else None)
