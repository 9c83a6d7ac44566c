"""Everything a request handler needs, built once by `create_app` and kept on `app.state.ctx`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from server.hub import Hub
from server.rate_limit import BucketLimiter, LoginRateLimiter
from server.sessions import Sessions
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
    hash_workers: int = 2  # scrypt hashes at once (16 MiB each)
    hash_queue: int = 64  # logins waiting for a worker; more -> 503
    frame_burst: int = 200  # client frames a socket may send at once ...
    frame_rate: float = 20.0  # ... then this many per second; more -> close 1008
    typing_interval: float = 0.25  # at most one typing relay per socket per interval (coalesced)
    header_timeout: float = 10.0  # a request line + headers must arrive within this
    body_timeout: float = 30.0  # and a body within this (from the first byte asked for)


class HashingPool:
    """Runs password hashes in at most `workers` threads; at most `queue` callers wait.

    A hash the caller stops waiting for still holds its worker until it ends (threads cannot
    be interrupted), so the memory in use is bounded by `workers` x the hash's memory.
    """

    class Busy(Exception):
        pass

    def __init__(self, workers: int, queue: int) -> None:
        self.workers = workers
        self.queue = queue
        self.waiting = 0
        self._semaphore: asyncio.Semaphore | None = None

    async def run(self, func: Callable[..., Any], *args: Any) -> Any:
        if self.waiting >= self.queue:
            raise HashingPool.Busy
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.workers)
        self.waiting += 1
        try:
            async with self._semaphore:
                return await anyio.to_thread.run_sync(func, *args)
        finally:
            self.waiting -= 1


@dataclass
class AppContext:
    store: Store
    tokens: TokenService
    sessions: Sessions
    clock: Callable[[], float]
    media_dir: Path
    allowed_origins: frozenset[str] = frozenset()
    limits: Limits = field(default_factory=Limits)
    hub: Hub = field(default_factory=Hub)
    login_limiter: LoginRateLimiter = field(default_factory=LoginRateLimiter)
    send_limiter: BucketLimiter | None = None
    hashing: HashingPool | None = None

    def __post_init__(self) -> None:
        if self.send_limiter is None:
            self.send_limiter = BucketLimiter(self.limits.send_burst, self.limits.send_rate)
        if self.hashing is None:
            self.hashing = HashingPool(self.limits.hash_workers, self.limits.hash_queue)

    def user_row(self, user_id: int):
        row = self.store.user_by_id(user_id)
        if row is None:
            raise LookupError(user_id)
        return row
