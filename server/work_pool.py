"""A few threads of its own for CPU-heavy request work, with a bounded backlog.

    pool = BoundedPool(workers=1, queue=8, name="upload")
    result = await pool.run(clean_image, data)   # BoundedPool.Busy when 8 are already in

Why not `asyncio.to_thread`: its executor is shared with every other blocking call (file
reads, DNS), and N large uploads at once would take all its threads and queue without end.
Here at most `workers` run (each decode holds up to a few hundred MB) and at most `queue`
wait or run; more are refused at once, so a burst of uploads costs a 503, never the memory
or the other requests' threads. A job counts until it ends, even when its caller stopped
waiting (threads cannot be interrupted).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any


class BoundedPool:
    class Busy(Exception):
        pass

    def __init__(self, workers: int, queue: int, name: str) -> None:
        self.workers = workers
        self.queue = queue
        self.outstanding = 0
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix=name)

    async def run(self, func: Callable[..., Any], *args: Any) -> Any:
        if self.outstanding >= self.queue:
            raise BoundedPool.Busy
        self.outstanding += 1
        future = self._executor.submit(func, *args)
        loop = asyncio.get_running_loop()
        future.add_done_callback(lambda _: loop.call_soon_threadsafe(self._done))
        return await asyncio.wrap_future(future)

    def _done(self) -> None:
        self.outstanding -= 1

    def close(self) -> None:
        """At shutdown: drop the queued jobs (their callers are gone), let running ones end."""
        self._executor.shutdown(wait=False, cancel_futures=True)
