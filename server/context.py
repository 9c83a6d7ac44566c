"""Everything a request handler needs, built once by `create_app` and kept on `app.state.ctx`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from server.faults_state import FaultState
from server.hub import Hub
from server.rate_limit import LoginRateLimiter
from server.store import Store
from server.tokens import TokenService


@dataclass
class AppContext:
    store: Store
    tokens: TokenService
    clock: Callable[[], float]
    media_dir: Path
    allowed_origins: frozenset[str] = frozenset()
    hub: Hub = field(default_factory=Hub)
    faults: FaultState = field(default_factory=FaultState)
    login_limiter: LoginRateLimiter = field(default_factory=LoginRateLimiter)

    def user_row(self, user_id: int):
        row = self.store.user_by_id(user_id)
        if row is None:
            raise LookupError(user_id)
        return row
