"""`create_app()`: the site, the API and the WebSocket on one origin, as one Starlette app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route

from server import api, auth, features, images, openapi, search
from server.data import db, seed
from server.realtime import ws
from server.context import AppContext, Limits, local_limits
from server.realtime.admin_events import POLL_INTERVAL, AdminWatch
from server.errors import EXCEPTION_HANDLERS, ApiError
from server.realtime.fanout import RedisFanout
from server.realtime.hub import Hub
from server.origins import HostAllowListMiddleware
from server import shared_limits
from server.shared_limits import RedisLimits
from server.security_headers import SecurityHeadersMiddleware, backend_origins, read_config
from server.sessions import DEFAULT_SESSION_TTL, Sessions
from server.site.static_site import StaticSite
from server.data.store import Store
from server.tokens import TokenService

SECRET_KEY = "jwt_secret"
REDIS_PREFIX = "coachline"  # every key and channel this app uses in Redis starts with it


async def open_context(database: str | Path, *, clock: Callable[[], float] = time.time, access_ttl: float = 300,
                       refresh_ttl: float = 86400, session_ttl: float = DEFAULT_SESSION_TTL,
                       allowed_origins: Iterable[str] = (), limits: Limits | None = None,
                       media_dir: Path | None = None, hub: Hub | None = None,
                       redis_url: str | None = None, demo: bool = False,
                       admin_poll: float = POLL_INTERVAL) -> AppContext:
    """Open (create, migrate, and with `demo` seed when empty) the database and build the
    shared services. `database` is a SQLite path or a postgresql:// URL; `redis_url` fans the
    sockets' events out through Redis and counts the limits there (`server.realtime.fanout`,
    `server.shared_limits`). Without `demo` a new database starts with no accounts
    (`serve.py users add` makes them): demo passwords are public."""

    async def seed_when_empty(tx) -> None:
        store = Store(tx)
        if demo and await store.user_count() == 0:
            await seed.seed_demo(store, clock())

    database_handle = await db.open_database(database, then=seed_when_empty)
    store = Store(database_handle)
    await search.fill_search_text(store)  # rows older than the search column (migration 5)
    # Generated once and kept in the database, so tokens outlive a restart (and every worker
    # signs with the same key).
    secret = await db.meta_set_default(database_handle, SECRET_KEY, secrets.token_urlsafe(48))
    tokens = TokenService(secret=secret, clock=clock, access_ttl=access_ttl, refresh_ttl=refresh_ttl)
    limits = limits or Limits()
    hub = hub or Hub()
    fanout = None
    shared = local_limits(limits)
    if redis_url:
        fanout = RedisFanout(hub, redis_url, prefix=REDIS_PREFIX)
        shared = RedisLimits(shared_limits.connect(redis_url), REDIS_PREFIX, fallback=shared)
    if media_dir is None:
        media_dir = Path(database).parent / "media" if db.is_sqlite(database) else Path("data/media")
    ctx = AppContext(store=store, tokens=tokens, sessions=Sessions(store, tokens, session_ttl=session_ttl),
                     clock=clock, media_dir=media_dir, allowed_origins=frozenset(allowed_origins),
                     limits=limits, hub=hub, fanout=fanout, shared=shared, admin_watch=AdminWatch(admin_poll))
    ctx.fanout.on_admin_event = ctx.admin_watch.poke
    await ctx.fanout.start()
    # File times are wall-clock times, whatever clock the app runs on.
    await asyncio.to_thread(images.remove_stale_parts, media_dir, time.time())
    ctx.background.append(asyncio.ensure_future(ctx.admin_watch.run(ctx)))
    if isinstance(shared, RedisLimits):
        ctx.background.append(asyncio.ensure_future(_renew_socket_leases(ctx, shared)))
    return ctx


async def _renew_socket_leases(ctx: AppContext, shared: RedisLimits) -> None:
    """This worker's open sockets keep counting towards their users' caps; a worker that
    dies stops renewing, and its sockets stop counting within one lease."""
    while True:
        await asyncio.sleep(shared.socket_lease / 3)
        sockets: dict[int, list[str]] = {}
        for conn in ctx.hub.connections():
            if conn.socket_id is not None:
                sockets.setdefault(conn.user_id, []).append(conn.socket_id)
        try:
            await shared.renew(sockets, ctx.clock())
        except Exception:  # never let one failed renewal end the renewals
            logging.getLogger("server").exception("could not renew the socket leases")


def prepare_database(database: str | Path, *, clock: Callable[[], float] = time.time, demo: bool = False) -> None:
    """Create and migrate the database (and with `demo` seed it when empty), outside any running server."""

    async def prepare() -> None:
        await close_context(await open_context(database, clock=clock, demo=demo))

    asyncio.run(prepare())


async def close_context(ctx: AppContext) -> None:
    for task in ctx.background:
        task.cancel()
    await ctx.fanout.stop()
    if isinstance(ctx.shared, RedisLimits):
        await ctx.shared.client.aclose()
    ctx.hashing.close()
    ctx.uploads.close()
    await ctx.store.close()


def _allowed_methods(routes: list, scope: dict) -> list[str]:
    """The methods of the routes whose path is this request's (but not its method)."""
    allowed: set[str] = set()
    for route in routes:
        if isinstance(route, Route) and route.methods and route.path != "/{path:path}":
            match, _ = route.matches(scope)
            if match == Match.PARTIAL:
                allowed |= route.methods
    return sorted(allowed)


def _fault_controls():
    """The test-only `/__faults/` controls, imported only when asked for: a server started
    without `--faults` never loads server/testing/ (tests/test_architecture.py checks that
    this is the runtime's one import of it)."""
    from server.testing import faults

    return faults


def create_app(
    database: str | Path,
    *,
    site_root: str | Path,
    faults: bool = False,
    access_ttl: float = 300,
    refresh_ttl: float = 86400,
    session_ttl: float = DEFAULT_SESSION_TTL,
    allowed_origins: Iterable[str] = (),
    host_names: Iterable[str] | None = None,
    limits: Limits | None = None,
    clock: Callable[[], float] = time.time,
    inbox: bool = True,
    media_dir: Path | None = None,
    redis_url: str | None = None,
    demo: bool = False,
    admin_poll: float = POLL_INTERVAL,
    rehash_passwords: bool = True,
) -> Starlette:
    """The app. `host_names` None serves any Host (in-process tests); serve.py always passes
    its allow-list (see `origins.host_allowed`). `inbox` False leaves out the optional inbox
    socket, as a backend without it would (its handshake then fails). `demo` seeds the demo
    accounts into an empty database; `admin_poll` is how often, in seconds, this worker reads
    the admin changes (`server.realtime.admin_events`). `rehash_passwords` False (a test server's
    `--keep-password-hashes`, refused without `--faults`) keeps every stored password hash as it
    is at login: the demo's and the test trainees' low-cost hashes stay cheap to check. The database is opened, and `app.state.ctx` set, when
    the app starts (its lifespan)."""
    allowed_origins = tuple(allowed_origins)
    site = StaticSite(Path(site_root))
    fault_controls = _fault_controls() if faults else None
    fault_state = fault_controls.FaultState() if fault_controls else None

    async def static(request: Request) -> Response:
        # Every other path lands here, whatever the method: a path a route serves with other
        # methods is 405 with Allow (as in DRF), unknown paths are 404, site files read-only.
        allowed = _allowed_methods(routes, request.scope)
        if allowed:
            raise ApiError(405, f'Method "{request.method}" not allowed.', {"Allow": ", ".join(allowed)})
        if request.method not in ("GET", "HEAD"):
            if site.find(request.url.path) is None:
                raise ApiError(404, "Not found.")
            raise ApiError(405, f'Method "{request.method}" not allowed.', {"Allow": "GET, HEAD"})
        response = await site.respond(request)
        if response is None:
            raise ApiError(404, "Not found.")
        return response

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        ctx = await open_context(database, clock=clock, access_ttl=access_ttl, refresh_ttl=refresh_ttl,
                                 session_ttl=session_ttl, allowed_origins=allowed_origins, limits=limits,
                                 media_dir=media_dir, redis_url=redis_url, demo=demo, admin_poll=admin_poll,
                                 hub=fault_controls.FaultyHub(fault_state) if fault_state else None)
        ctx.rehash_passwords = rehash_passwords
        app.state.ctx = ctx
        warm_up = asyncio.ensure_future(site.warm_up())
        try:
            yield
        finally:
            warm_up.cancel()
            await close_context(ctx)

    routes = [*auth.ROUTES, *api.ROUTES, *features.ROUTES, *openapi.ROUTES, *ws.ROUTES,
              *(ws.INBOX_ROUTES if inbox else ())]
    middleware = []
    if host_names is not None:
        middleware.append(Middleware(HostAllowListMiddleware, names=host_names))
    middleware.append(Middleware(SecurityHeadersMiddleware, backends=backend_origins(read_config(Path(site_root)))))
    if fault_state is not None:
        routes += fault_controls.ROUTES
        middleware.append(Middleware(fault_controls.FaultWrapper, state=fault_state))
    routes.append(Route("/{path:path}", static, methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]))
    if allowed_origins:
        # Lets a copy of the site served from another origin use this backend (config.json api_base).
        middleware.append(Middleware(CORSMiddleware, allow_origins=list(allowed_origins),
                                     allow_methods=["GET", "POST", "PATCH", "DELETE"],
                                     allow_headers=["Authorization", "Content-Type"],
                                     max_age=600))
    app = Starlette(routes=routes, middleware=middleware, exception_handlers=EXCEPTION_HANDLERS, lifespan=lifespan)
    app.state.faults = fault_state
    return app

