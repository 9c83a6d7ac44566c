"""`HashingPool`: password hashes on threads of their own, in two lanes.

Theory of operation. scrypt holds 16 MiB and ~0.2 s of a core per hash, so hashes run on a
fixed set of threads, never on the event loop or anyio's 40. Two lanes share them:

- the *open* lane (every login that is not from a known device: unknown e-mails, new
  browsers, floods) may run at most `workers` hashes at once and hold at most `queue`
  (queued or running); one client (its address group) at most `per_client` of those;
- the *device* lane (a known device logging into its own account, `server.login_limits`)
  has `device_workers` more threads that the open lane never takes, may also use an idle
  open thread, is started first when a thread frees up, and holds at most `device_queue`;
  one client (there: the account) at most `device_per_client` of those.

So a flood of wrong logins, from one address or many, fills the open lane and gets 503
there, while a known device's login waits for no one's hash. Past a lane's bound `run`
raises Busy at once. A hash counts until it ends, even when its caller stopped waiting
(threads cannot be interrupted), so memory is bounded by the threads x 16 MiB; a hash whose
caller left before it started is dropped. (A lower CPU priority for these threads was tried:
under a busy machine a single login then took over 5 s, and message latency did not improve.)
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

OPEN = "open"
DEVICE = "device"


@dataclass
class _Job:
    func: Callable[..., Any]
    args: tuple
    lane: str
    client: str | None
    result: asyncio.Future
    loop: asyncio.AbstractEventLoop


class HashingPool:
    class Busy(Exception):
        pass

    def __init__(self, workers: int, queue: int, *, device_workers: int = 1, device_queue: int = 8,
                 per_client: int | None = None, device_per_client: int | None = None) -> None:
        self.workers = workers
        self.queue = queue
        self.device_workers = device_workers
        self.device_queue = device_queue
        self._bounds = {OPEN: (queue, per_client), DEVICE: (device_queue, device_per_client)}
        self._executor = ThreadPoolExecutor(workers + device_workers, thread_name_prefix="hash")
        self._waiting: dict[str, deque[_Job]] = {DEVICE: deque(), OPEN: deque()}
        self._running = {DEVICE: 0, OPEN: 0}
        self._held = {DEVICE: 0, OPEN: 0}  # queued or running, per lane
        self._per_client: Counter[tuple[str, str]] = Counter()  # (lane, client) -> held

    @property
    def outstanding(self) -> int:
        return sum(self._held.values())

    async def run(self, func: Callable[..., Any], *args: Any, lane: str = OPEN, client: str | None = None) -> Any:
        """`func(*args)` on a hashing thread of `lane`; Busy when the lane (or this client's
        share of it) is full."""
        bound, per_client = self._bounds[lane]
        if self._held[lane] >= bound:
            raise HashingPool.Busy
        if client is not None and per_client is not None and self._per_client[lane, client] >= per_client:
            raise HashingPool.Busy
        loop = asyncio.get_running_loop()
        job = _Job(func, args, lane, client if per_client is not None else None, loop.create_future(), loop)
        self._held[lane] += 1
        if job.client is not None:
            self._per_client[lane, job.client] += 1
        self._waiting[lane].append(job)
        self._start_waiting()
        return await job.result

    def _start_waiting(self) -> None:
        while (job := self._next_job()) is not None:
            self._running[job.lane] += 1
            future = self._executor.submit(job.func, *job.args)
            future.add_done_callback(lambda done, job=job: job.loop.call_soon_threadsafe(self._finished, job, done))

    def _next_job(self) -> _Job | None:
        if sum(self._running.values()) >= self.workers + self.device_workers:
            return None
        for lane in (DEVICE, OPEN):
            if lane == OPEN and self._running[OPEN] >= self.workers:
                continue
            while self._waiting[lane]:
                job = self._waiting[lane].popleft()
                if not job.result.cancelled():
                    return job
                self._forget(job)  # its caller left before it started
        return None

    def _finished(self, job: _Job, done: Future) -> None:
        self._running[job.lane] -= 1
        self._forget(job)
        if not job.result.done():
            if done.cancelled():
                job.result.cancel()
            elif done.exception() is not None:
                job.result.set_exception(done.exception())
            else:
                job.result.set_result(done.result())
        self._start_waiting()

    def _forget(self, job: _Job) -> None:
        self._held[job.lane] -= 1
        if job.client is not None:
            self._per_client[job.lane, job.client] -= 1
            if self._per_client[job.lane, job.client] <= 0:
                del self._per_client[job.lane, job.client]

    def close(self) -> None:
        """At shutdown: drop the queued hashes (their callers are gone), let running ones end."""
        for lane in self._waiting.values():
            for job in lane:
                job.result.cancel()
            lane.clear()
        self._executor.shutdown(wait=False, cancel_futures=True)
