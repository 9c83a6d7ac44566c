"""`serve.py --workers N`: bind the port once, run N worker processes that share it.

Theory of operation. The supervisor binds the listening socket and starts each worker as
`serve.py <the same options> --workers 1 --worker-fd FD --ready-fd FD`: the worker inherits
the socket and serves it with its own event loop (uvicorn, `runner.run(sockets=...)`), so
the kernel hands each new connection to whichever worker accepts it first. No sticky
sessions are needed: a worker holds nothing a client must come back to (the database holds
the data and the sessions, Redis carries the events and the limits).

A worker writes one byte on the ready pipe once it listens; the supervisor prints
"Serving at ..." when all have. A worker that dies is started again (at most once a second,
so a worker that cannot start does not spin); its clients reconnect to the others meanwhile.
SIGTERM or SIGINT to the supervisor is a planned shutdown (server/runner.py): the supervisor
closes its copy of the listening socket (new connections are refused, not queued for workers
that will not take them), passes the signal on to every worker (each closes its WebSockets
with 1012, finishes the answers in flight and exits 0), restarts none of them, and exits when
they have: 0, or 1 when it had to kill a worker still running `STOP_TIMEOUT` seconds after.
"""

from __future__ import annotations

import logging
import logging.config
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from server import log_format, logging_redact

STOP_TIMEOUT = 9.7  # a worker's own watchdog ends it at 9.5 s; the whole stop stays under 10 s
RESTART_DELAY = 1.0
log = logging.getLogger("server.supervisor")
READY_TIMEOUT = 60.0


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host.strip("[]"), port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class Supervisor:
    def __init__(self, script: Path, worker_args: Sequence[str], workers: int, sock: socket.socket) -> None:
        self.script = script
        self.worker_args = list(worker_args)
        self.count = workers
        self.sock = sock
        self.ready_read, self.ready_write = os.pipe()
        os.set_inheritable(self.ready_write, True)
        self.procs: dict[int, subprocess.Popen] = {}
        self.stopping = False

    def spawn(self, slot: int) -> None:
        command = [sys.executable, str(self.script), *self.worker_args, "--workers", "1",
                   "--worker-fd", str(self.sock.fileno()), "--ready-fd", str(self.ready_write)]
        self.procs[slot] = subprocess.Popen(command, pass_fds=(self.sock.fileno(), self.ready_write),
                                            env={**os.environ, "COACHLINE_WORKER_SLOT": str(slot)})

    def wait_ready(self) -> bool:
        """Until every worker said it listens (or one died first, or READY_TIMEOUT)."""
        ready = 0
        deadline = time.monotonic() + READY_TIMEOUT
        while ready < self.count and time.monotonic() < deadline and not self.stopping:
            readable, _, _ = select.select([self.ready_read], [], [], 0.2)
            if readable:
                ready += len(os.read(self.ready_read, 64))
            if any(proc.poll() is not None for proc in self.procs.values()):
                return False
        return ready >= self.count

    def stop(self, *_: object) -> None:
        if not self.stopping:
            self.stopping = True
            self.sock.close()  # the workers hold their own copies until they close them
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)

    def run(self, banner: str) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        for slot in range(self.count):
            self.spawn(slot)
        if not self.wait_ready():
            if not self.stopping:
                log.error("a worker failed to start (its error is above)")
            self.stop()
            self._reap()
            return 1
        print(banner, flush=True)
        while not self.stopping:
            time.sleep(0.2)
            self._drain_ready_pipe()
            for slot, proc in list(self.procs.items()):
                code = proc.poll()
                if code is not None and not self.stopping:
                    log.warning("worker %d ended (exit %s); starting another", proc.pid, code)
                    time.sleep(RESTART_DELAY)
                    if not self.stopping:
                        self.spawn(slot)
        log.info("planned shutdown: %d workers draining, none restarted", len(self.procs))
        return self._reap()

    def _drain_ready_pipe(self) -> None:
        while select.select([self.ready_read], [], [], 0)[0]:
            if not os.read(self.ready_read, 64):
                return

    def _reap(self) -> int:
        deadline = time.monotonic() + STOP_TIMEOUT
        killed = False
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                killed = True
                log.error("worker %d still running after %.1f s: killed", proc.pid, STOP_TIMEOUT)
        log.info("every worker ended within %.2f s", time.monotonic() - deadline + STOP_TIMEOUT)
        return 1 if killed else 0


def supervise(script: Path, worker_args: Sequence[str], workers: int, host: str, port: int,
              log_style: str = "text") -> int:
    logging.config.dictConfig(log_format.logging_config(log_style))  # the workers' lines look the same
    logging_redact.install()
    sock = bind(host, port)
    bound = sock.getsockname()[1]
    return Supervisor(script, worker_args, workers, sock).run(
        f"Serving at http://{host}:{bound} ({workers} worker processes)")
