"""The scale bench's delivery figures, from what was sent and what the sockets received.
Pure: no sockets, no clock; `delivery_figures` takes plain records and returns numbers.

A delivery is one (message, socket) pair: every socket open on a message's conversation
should receive it once (CONTRACT: the sender's own sockets included). Lost = expected pairs
not received; a frame for another conversation's socket is misrouted; a second copy is a
duplicate. A delivery crossed workers when the worker that handled the send is not the one
holding the socket (both known from /proc, see `scale_server.connection_owners`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Send:
    seq: int
    conversation: int
    worker: int | None = None  # pid of the worker that answered the POST, when known


def percentile(values: list[float], p: float) -> float | None:
    """Nearest rank on sorted `values` (as bench/run.py's)."""
    if not values:
        return None
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


LATE_MS = 250.0  # issue 19's ceiling for a crossed delivery's p99


def latency_summary(values: list[float]) -> dict:
    values = sorted(values)
    return {"count": len(values), "p50": percentile(values, 50), "p99": percentile(values, 99),
            "max": values[-1] if values else None,
            "late_share": sum(1 for v in values if v > LATE_MS) / len(values) if values else None}


def delivery_figures(sends: Mapping[int, Send], receipts: Iterable[tuple[int, int, float]],
                     socket_conversation: Mapping[int, int], socket_worker: Mapping[int, int | None]) -> dict:
    """`sends`: seq -> Send (the measured ones; a receipt of any other seq is ignored);
    `receipts`: (socket, seq, latency ms); `socket_conversation`: every socket that was open
    for the measurement; `socket_worker`: socket -> pid of its worker (None unknown)."""
    sockets_of: dict[int, int] = {}
    for conversation in socket_conversation.values():
        sockets_of[conversation] = sockets_of.get(conversation, 0) + 1
    seen: set[tuple[int, int]] = set()
    every: list[float] = []
    crossed: list[float] = []
    same: list[float] = []
    duplicates = misrouted = ignored = 0
    for socket, seq, latency in receipts:
        send = sends.get(seq)
        if send is None:
            ignored += 1
            continue
        if socket_conversation.get(socket) != send.conversation:
            misrouted += 1
            continue
        if (socket, seq) in seen:
            duplicates += 1
            continue
        seen.add((socket, seq))
        every.append(latency)
        worker = socket_worker.get(socket)
        if send.worker is not None and worker is not None:
            (crossed if worker != send.worker else same).append(latency)
    expected = sum(sockets_of.get(send.conversation, 0) for send in sends.values())
    known = len(crossed) + len(same)
    return {
        "sends": len(sends), "expected": expected, "received": len(seen), "lost": expected - len(seen),
        "duplicates": duplicates, "misrouted": misrouted, "ignored": ignored,
        "all": latency_summary(every), "crossed": latency_summary(crossed), "same": latency_summary(same),
        "crossed_share": len(crossed) / known if known else None,
    }
