"""A state machine's moves as data: look the next state up in a table, or fail loudly.

As in h11's _state.py, the transitions a machine allows are one table, readable at a glance,
and a move the table does not list is a named error, never a silent fix-up: it means the code
asked for something its own rules say cannot happen.

    TABLE = {Door.SHUT: {"open": Door.OPEN}, Door.OPEN: {"shut": Door.SHUT}}
    door = fire(TABLE, door, "open")      # Door.OPEN, or IllegalTransition
"""
from __future__ import annotations

from typing import Mapping, TypeVar

S = TypeVar("S")


class IllegalTransition(Exception):
    """A machine was asked for a move its transition table does not list (a bug, not a state)."""


def fire(table: Mapping[S, Mapping[str, S]], state: S, event: str) -> S:
    """The state `event` moves `state` to, per `table`; IllegalTransition when it lists none."""
    moves = table.get(state)
    if moves is None or event not in moves:
        raise IllegalTransition(f"{state} cannot take {event!r}")
    return moves[event]
