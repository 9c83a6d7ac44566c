"""Everything a request handler needs, built once by `create_app` and kept on `app.state.ctx`."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from server.realtime.admin_events import AdminWatch
from server.device_tokens import DeviceTokens
from server.realtime.fanout import LocalFanout
from server.hashing import HashingPool
from server.realtime.hub import Hub
from server.rate_limit import BucketLimiter, FailureCounter
from server.sessions import Sessions
from server.shared_limits import LocalLimits
from server.data.store import Store
from server.work_pool import BoundedPool
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
    hash_queue: int = 32  # open-lane hashes queued or running; more -> 503 (32 x 0.18 s: a 6 s wait at worst)
    hash_queue_per_address: int = 8  # of those, one address group's at most (more -> 503)
    hash_device_workers: int = 1  # threads only known devices use (a flood cannot take them)
    hash_device_queue: int = 8  # known devices' hashes queued or running; more -> 503
    hash_device_per_account: int = 2  # of those, one account's at most
    # Failed logins (server/login_limits.py): past a limit -> 429 until failures leave the window.
    login_account_failures: int = 5  # per account, from anywhere but a known device of it ...
    login_account_window: float = 300.0  # ... per this many seconds
    login_address_failures: int = 20  # per IPv4 address or IPv6 /64, whatever the e-mails
    login_address_window: float = 300.0
    login_device_failures: int = 5  # per known device (then it counts as unknown) ...
    login_devices_failures: int = 20  # ... and over all of one account's known devices
    login_device_window: float = 300.0
    login_global_failures: int = 120  # per server (all workers), from unknown devices: the cap on
    login_global_window: float = 60.0  # wrong-login hashing work (120/min: ~0.36 of a core)
    device_token_ttl: float = 90 * 86400  # a browser stays a known device this long after a login
    refresh_address_burst: int = 60  # token refreshes per IPv4 address or IPv6 /64 at once ...
    refresh_address_rate: float = 1.0  # ... then this many per second (sessions: 10 per 60 s each)
    frame_burst: int = 200  # client frames a socket may send at once ...
    frame_rate: float = 20.0  # ... then this many per second; more -> close 1008
    typing_interval: float = 0.25  # at most one typing relay per socket per interval (coalesced)
    header_timeout: float = 20.0  # a request line + headers must arrive within this (Apache: 20-40 s)
    body_timeout: float = 60.0  # and a body within this, once the headers are in
    # Upload parses and image re-encodes at once (each holds up to ~0.5 GB for a 40 MP
    # picture); one core is left to the event loop ...
    upload_workers: int = max(1, min(2, (os.cpu_count() or 2) - 1))
    upload_queue: int = 8  # ... and this many queued or running; more -> 503
    # Searches per user on one worker at once, then per second (each may read every message
    # of the table: bench/search_cost.py, `server.search`); more -> 429.
    search_burst: int = 30
    search_rate: float = 2.0


@dataclass
class AppContext:
    """`fanout` carries socket events to every worker (`server.realtime.fanout`); `shared` holds the
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
    devices: DeviceTokens | None = None  # known-device cookies, signed with the tokens' secret
    uploads: BoundedPool | None = None  # form parsing and image checks (`server.work_pool`)
    searches: BucketLimiter | None = None  # per user, this worker's (`server.search`)
    worker_id: str = field(default_factory=lambda: secrets.token_hex(4))  # names this process's sockets
    background: list[asyncio.Task] = field(default_factory=list)  # ended when the app stops
    admin_watch: AdminWatch = field(default_factory=AdminWatch)  # admin changes -> open sockets
    # A login stores a fresh hash of a password kept at another cost (`passwords.needs_rehash`);
    # False only on a test server (`serve.py --faults --keep-password-hashes`).
    rehash_passwords: bool = True

    def __post_init__(self) -> None:
        if self.fanout is None:
            self.fanout = LocalFanout(self.hub)
        if self.shared is None:
            self.shared = local_limits(self.limits)
        if self.hashing is None:
            self.hashing = hashing_pool(self.limits)
        if self.devices is None:
            self.devices = DeviceTokens(self.tokens.secret, self.limits.device_token_ttl)
        if self.searches is None:
            self.searches = BucketLimiter(self.limits.search_burst, self.limits.search_rate)
        if self.uploads is None:
            self.uploads = BoundedPool(self.limits.upload_workers, self.limits.upload_queue, "upload")


def local_limits(limits: Limits) -> LocalLimits:
    return LocalLimits(FailureCounter(), BucketLimiter(limits.send_burst, limits.send_rate),
                       refresh=BucketLimiter(limits.refresh_address_burst, limits.refresh_address_rate))


def hashing_pool(limits: Limits) -> HashingPool:
    return HashingPool(limits.hash_workers, limits.hash_queue, device_workers=limits.hash_device_workers,
                       device_queue=limits.hash_device_queue, per_client=limits.hash_queue_per_address,
                       device_per_client=limits.hash_device_per_account)
