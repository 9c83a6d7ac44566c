"""Everything a request handler needs, built once by `create_app` and kept on `app.state.ctx`."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from server.admin_events import AdminWatch
from server.fanout import LocalFanout
from server.hub import Hub
from server.rate_limit import BucketLimiter, LoginRateLimiter
from server.sessions import Sessions
from server.shared_limits import LocalLimits
from server.store import Store
from server.tokens import TokenService


@dataclass(frozen=True)
class Limits:
    """The server's abuse limits. The defaults sit well above what an honest client does
    (the e2e suite and bench/run.py included); `serve.py` flags change some of them."""

    max_sockets_per_user: int = 256  # tabs x conversations; the e2e suite opens 200 for one user
    send_burst: int = 300  # messages a user may send at once ...
    send_rate: float = 10.0  # ... then this many per second
    upload_quota_bytes: int = 200 * 1024 * 1024  # image bytes per user per rolling 24 h
    # scrypt hashes at once (16 MiB each); one core is left to the event loop
    hash_workers: int = max(1, min(4, (os.cpu_count() or 2) - 1))
    hash_queue: int = 32  # hashes queued or running; more -> 503 (32 x 0.18 s: a 6 s wait at worst)
    frame_burst: int = 200  # client frames a socket may send at once ...
    frame_rate: float = 20.0  # ... then this many per second; more -> close 1008
    typing_interval: float = 0.25  # at most one typing relay per socket per interval (coalesced)
    header_timeout: float = 20.0  # a request line + headers must arrive within this (Apache: 20-40 s)
    body_timeout: float = 60.0  # and a body within this, once the headers are in


class HashingPool:
    """Runs password hashes on `workers` threads of its own; at most `queue` hashes may be
    queued or running, more raise Busy at once.

    A hash counts until it ends, even when its caller stopped waiting (threads cannot be
    interrupted), so the memory in use is bounded by `workers` x the hash's memory and the
    backlog by `queue`. (A lower CPU priority for these threads was tried: under a busy
    machine a single login then took over 5 s, and message latency did not improve.)
    """

    class Busy(Exception):
        pass

    def __init__(self, workers: int, queue: int) -> None:
        self.workers = workers
        self.queue = queue
        self.outstanding = 0
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="hash")

    async def run(self, func: Callable[..., Any], *args: Any) -> Any:
        if self.outstanding >= self.queue:
            raise HashingPool.Busy
        self.outstanding += 1
        future = self._executor.submit(func, *args)
        loop = asyncio.get_running_loop()
        future.add_done_callback(lambda _: loop.call_soon_threadsafe(self._done))
        return await asyncio.wrap_future(future)

    def _done(self) -> None:
        self.outstanding -= 1

    def close(self) -> None:
        """At shutdown: drop the queued hashes (their callers are gone), let running ones end."""
        self._executor.shutdown(wait=False, cancel_futures=True)


@dataclass
class AppContext:
    """`fanout` carries socket events to every worker (`server.fanout`); `shared` holds the
    limits that count across workers (`server.shared_limits`): in-process by default, in
    Redis with `--redis`."""

    store: Store
    tokens: TokenService
    sessions: Sessions
    clock: Callable[[], float]
    media_dir: Path
    allowed_origins: frozenset[str] = frozenset()
    limits: Limits = field(default_factory=Limits)
    hub: Hub = field(default_factory=Hub)
    fanout: Any = None
    shared: Any = None
    hashing: HashingPool | None = None
    worker_id: str = field(default_factory=lambda: secrets.token_hex(4))  # names this process's sockets
    background: list[asyncio.Task] = field(default_factory=list)  # ended when the app stops
    admin_watch: AdminWatch = field(default_factory=AdminWatch)  # admin changes -> open sockets

    def __post_init__(self) -> None:
        if self.fanout is None:
            self.fanout = LocalFanout(self.hub)
        if self.shared is None:
            self.shared = LocalLimits(LoginRateLimiter(),
                                      BucketLimiter(self.limits.send_burst, self.limits.send_rate))
        if self.hashing is None:
            self.hashing = HashingPool(self.limits.hash_workers, self.limits.hash_queue)
