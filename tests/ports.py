"""Loopback ports for the servers a test run starts, chosen so that nothing else takes one
between the choice and the server's own bind.

The usual way, bind port 0 and close the probe, hands out a port from the kernel's ephemeral
range, which every outgoing connection also draws its source port from: a busy test (a hundred
sockets, a Redis client) could take the port in the moment before the server binds it, and the
server then exits with "Address already in use". Two pytest-xdist workers choosing at once make
that likelier still. So:

- the ports come from below the ephemeral range (`/proc/sys/net/ipv4/ip_local_port_range`),
  where neither `connect()` nor a bind to port 0 ever lands;
- each xdist worker (`PYTEST_XDIST_WORKER`, gw0, gw1, ...) has its own slice of that range,
  so two workers never choose the same port;
- a port a browser refuses to load from (Chromium's and Firefox's blocked-port list: of it,
  only 10080, amanda, lies in this range) is never handed out: a page on it fails with
  net::ERR_UNSAFE_PORT before any request is made;
- within a process a port is handed out once (a stopped server keeps its port for its own
  restart), and a port something already holds (a bind without SO_REUSEADDR fails, also on a
  connection still in TIME_WAIT) is passed over.
"""

from __future__ import annotations

import os
import random
import socket
import threading
from pathlib import Path

LOWEST = 10_000  # above the well-known and commonly configured service ports
# Browsers' blocked ports at or above LOWEST (Chromium net/base/port_util.cc, Firefox
# nsIOService.cpp): the rest of that list is below 10,000.
BROWSER_BLOCKED = frozenset({10080})
SLICES = 16  # worker slices: gw0..gw15 (more workers than this share slices modulo 16)

_lock = threading.Lock()
_given: set[int] = set()


def ephemeral_low(path: Path = Path("/proc/sys/net/ipv4/ip_local_port_range")) -> int:
    """The first port of the kernel's ephemeral range (32768 when it cannot be read)."""
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def worker_slice(worker: str | None, low: int = LOWEST, high: int | None = None) -> range:
    """The ports of one xdist worker (the whole span when not under xdist)."""
    high = ephemeral_low() if high is None else high
    if not worker or not worker.startswith("gw") or not worker[2:].isdigit():
        return range(low, high)
    size = (high - low) // SLICES
    start = low + (int(worker[2:]) % SLICES) * size
    return range(start, start + size)


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _kernel_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def free_port() -> int:
    """A loopback port no other server of this run holds or will be given."""
    ports = worker_slice(os.environ.get("PYTEST_XDIST_WORKER"))
    if len(ports) < 64:  # a kernel whose ephemeral range starts low: the old way, racy as it is
        return _kernel_port()
    with _lock:
        for _ in range(200):
            port = random.choice(ports)
            if port not in _given and port not in BROWSER_BLOCKED and _bindable(port):
                _given.add(port)
                return port
    raise RuntimeError(f"no free loopback port in {ports.start}-{ports.stop - 1}")
