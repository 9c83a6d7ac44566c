"""`GET /readyz`: may a load balancer send this process traffic now?

`/healthz` says the process runs (no I/O: a liveness probe must not fail because the database
is slow, or the orchestrator restarts a healthy process). `/readyz` asks each part this process
needs, all at once, each within `CHECK_TIMEOUT` seconds, so the probe itself never hangs:

    database   answers `SELECT 1`
    redis      (with --redis) answers PING, and the fan-out is subscribed: without it this
               process refuses sockets (server/realtime/fanout.py)

200 {"status": "ready"}, or 503 {"status": "not ready", "not_ready": {"redis": "no answer"}}.
The answer names the part and how it failed, never a URL, host or exception text (a URL may
hold a password).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from server.context import AppContext
from server.realtime.fanout import RedisFanout

CHECK_TIMEOUT = 2.0
READY = "ready"


async def _database(ctx: AppContext) -> str:
    row = await ctx.store.db.fetch_one("SELECT 1 AS one")
    return READY if row is not None and row.get("one") == 1 else "unexpected answer"


async def _redis(fanout: RedisFanout) -> str:
    if not fanout.available:
        return "not subscribed"
    return READY if await fanout.ready() else "no answer"


async def _bounded(check: Awaitable[str], timeout: float) -> str:
    try:
        return await asyncio.wait_for(check, timeout)
    except asyncio.TimeoutError:
        return "timed out"
    except Exception:  # what failed is logged by the part itself; the probe only says which
        return "error"


async def readiness(ctx: AppContext, timeout: float | None = None) -> dict[str, str]:
    """{part: "ready" or why not}, for every part this process depends on."""
    timeout = CHECK_TIMEOUT if timeout is None else timeout
    checks = {"database": _database(ctx)}
    if isinstance(ctx.fanout, RedisFanout):
        checks["redis"] = _redis(ctx.fanout)
    results = await asyncio.gather(*(_bounded(check, timeout) for check in checks.values()))
    return dict(zip(checks, results))
