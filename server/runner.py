"""Running the app under uvicorn: WebSocket limits, token-free logs, 1001 on shutdown.

uvicorn closes open WebSockets with 1012 (service restart) when it stops; CONTRACT lists
1001 (going away) for a server shutting down, so `GracefulServer` closes every socket of
the hub with 1001 first, then lets uvicorn finish its own shutdown.
"""

from __future__ import annotations

import logging
import sys

import uvicorn
from starlette.applications import Starlette

from server import logging_redact
from server.context import AppContext
from server.ws_frames import MAX_FRAME_BYTES

GOING_AWAY = 1001


class GracefulServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, ctx: AppContext) -> None:
        super().__init__(config)
        self.ctx = ctx

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets)
        if self.started:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            print(f"Serving at http://{self.config.host if port == self.config.port else host}:{port}", flush=True)

    async def shutdown(self, sockets=None) -> None:
        await self.ctx.hub.close_all(GOING_AWAY)
        await super().shutdown(sockets)


def make_config(app: Starlette, host: str, port: int) -> uvicorn.Config:
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        ws="websockets-sansio",
        ws_max_size=MAX_FRAME_BYTES,  # a bigger frame closes the socket with 1009
        lifespan="on",
        server_header=False,
        log_level="info",
    )
    _log_to_stderr("server")
    logging_redact.install()
    return config


def _log_to_stderr(name: str) -> None:
    logger = logging.getLogger(name)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def run(app: Starlette, host: str, port: int) -> None:
    GracefulServer(make_config(app, host, port), app.state.ctx).run()
