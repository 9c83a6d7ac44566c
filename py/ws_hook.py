"""The design card's name for the socket machine: a thin re-export, nothing of its own.

The machine lives in core/connection_machine.py (logic under core/ imports only downward, so
core/inbox.py and the chat's adapters import it from there). This module keeps the card's
`import ws_hook` working for readers and tests; new code imports core.connection_machine.
"""
from core.connection_machine import (  # noqa: F401 - re-exported
    ALLOWED_TRANSITIONS,
    Action,
    CloseSocket,
    ConnectionMachine,
    ConnectionState,
    Dispatch,
    FailReason,
    GapFill,
    IllegalTransition,
    Log,
    OpenSocket,
    RequestToken,
    SendFrame,
    StateChanged,
)

__all__ = [
    "ConnectionState", "FailReason", "IllegalTransition", "ALLOWED_TRANSITIONS",
    "RequestToken", "OpenSocket", "CloseSocket", "SendFrame", "StateChanged", "Dispatch",
    "GapFill", "Log", "Action", "ConnectionMachine",
]
