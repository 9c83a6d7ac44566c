"""`create_app()`: the site, the API and the WebSocket on one origin, as one Starlette app."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server import api, auth, db, seed, ws
from server import faults as fault_controls
from server.context import AppContext, Limits
from server.errors import EXCEPTION_HANDLERS, ApiError
from server.origins import HostAllowListMiddleware
from server.security_headers import SecurityHeadersMiddleware, backend_origins, read_config
from server.sessions import DEFAULT_SESSION_TTL, Sessions
from server.static_site import StaticSite
from server.store import Store
from server.tokens import TokenService

SECRET_KEY = "jwt_secret"


def open_context(db_path: Path, *, clock: Callable[[], float] = time.time, access_ttl: float = 300,
                 refresh_ttl: float = 86400, session_ttl: float = DEFAULT_SESSION_TTL,
                 allowed_origins: Iterable[str] = (), limits: Limits | None = None) -> AppContext:
    """Open (create, migrate, seed when empty) the database and build the shared services."""
    conn = db.connect(Path(db_path))
    store = Store(conn)
    # Generated once and kept in the database, so tokens outlive a restart.
    secret = db.meta_set_default(conn, SECRET_KEY, secrets.token_urlsafe(48))
    if store.user_count() == 0:
        seed.seed_demo(store, clock())
    tokens = TokenService(secret=secret, clock=clock, access_ttl=access_ttl, refresh_ttl=refresh_ttl)
    return AppContext(store=store, tokens=tokens, sessions=Sessions(store, tokens, session_ttl=session_ttl),
                      clock=clock, media_dir=Path(db_path).parent / "media",
                      allowed_origins=frozenset(allowed_origins), limits=limits or Limits())


def create_app(
    db_path: str | Path,
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
) -> Starlette:
    """The app. `host_names` None serves any Host (in-process tests); serve.py always passes
    its allow-list (see `origins.host_allowed`). `inbox` False leaves out the optional inbox
    socket, as a backend without it would (its handshake then fails)."""
    allowed_origins = tuple(allowed_origins)
    ctx = open_context(Path(db_path), clock=clock, access_ttl=access_ttl, refresh_ttl=refresh_ttl,
                       session_ttl=session_ttl, allowed_origins=allowed_origins, limits=limits)
    site = StaticSite(Path(site_root))

    async def static(request: Request) -> Response:
        # Every other path lands here, whatever the method: unknown paths are 404 (as in DRF),
        # site files are read-only.
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
        warm_up = asyncio.ensure_future(site.warm_up())
        try:
            yield
        finally:
            warm_up.cancel()
            ctx.hashing.close()
            ctx.store.conn.close()

    routes = [*auth.ROUTES, *api.ROUTES, *ws.ROUTES, *(ws.INBOX_ROUTES if inbox else ())]
    middleware = []
    if host_names is not None:
        middleware.append(Middleware(HostAllowListMiddleware, names=host_names))
    middleware.append(Middleware(SecurityHeadersMiddleware, backends=backend_origins(read_config(Path(site_root)))))
    fault_state = None
    if faults:
        routes += fault_controls.ROUTES
        fault_state, wrapper = fault_controls.install(ctx)
        middleware.append(wrapper)
    routes.append(Route("/{path:path}", static, methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]))
    if allowed_origins:
        # Lets a copy of the site served from another origin use this backend (config.json api_base).
        middleware.append(Middleware(CORSMiddleware, allow_origins=list(allowed_origins),
                                     allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type"],
                                     max_age=600))
    app = Starlette(routes=routes, middleware=middleware, exception_handlers=EXCEPTION_HANDLERS, lifespan=lifespan)
    app.state.ctx = ctx
    app.state.faults = fault_state
    return app

