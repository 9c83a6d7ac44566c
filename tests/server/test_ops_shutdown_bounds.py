"""The bounds of a planned shutdown (server/runner.py): a client that never finishes its
request cannot hold the stop past DRAIN_TIMEOUT, and a stop stuck anyway ends at
HARD_DEADLINE. (The stream under SIGTERM, one process and --workers 2 --redis:
tests/scale/test_ops_shutdown.py.)"""

import signal
import socket
import subprocess
import sys
import textwrap
import time

from server.runner import DRAIN_TIMEOUT, HARD_DEADLINE
from server_harness import ROOT


def test_a_request_that_never_finishes_is_cut_at_the_drain_timeout(live_server):
    server = live_server()
    token = server.login()["access"]
    idle = socket.create_connection(("127.0.0.1", server.port), timeout=15)  # connected, silent
    stuck = socket.create_connection(("127.0.0.1", server.port), timeout=15)
    # "Expect: 100-continue": the server says "100 Continue" once the app reads the body, so the
    # stop below is known to come while this request is being handled (the earlier idle
    # connection was accepted before it), not while its bytes still wait to be read.
    stuck.sendall(f"POST /api/messaging/conversations/1/send/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                  f"Expect: 100-continue\r\nContent-Length: 100\r\n\r\n".encode())
    assert stuck.recv(1000).startswith(b"HTTP/1.1 100 Continue")
    stuck.sendall(b'{"content": ')  # and never the rest
    started = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    code = server.proc.wait(15)
    took = time.monotonic() - started
    print(f"\nSIGTERM with a request stuck half-way: exit {code} after {took:.2f} s")
    assert code == 0
    assert DRAIN_TIMEOUT <= took < HARD_DEADLINE
    assert stuck.recv(1000) == b"" and idle.recv(1000) == b""  # both closed by the server, no answer
    stuck.close()
    idle.close()
    server.proc = None
    log = server.stderr()
    assert "Traceback" not in log and "ERROR" not in log  # a cut request is no server error
    assert "1 connection(s) still unfinished after 5 s: closing them" in log


HANGS_ON_SHUTDOWN = textwrap.dedent("""
    import asyncio, contextlib, sys
    sys.path.insert(0, sys.argv[1])
    from starlette.applications import Starlette
    from server import runner
    from server.context import Limits

    runner.HARD_DEADLINE = 1.0

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        await asyncio.Event().wait()  # a shutdown step that never ends (a hung database close, say)

    runner.run(Starlette(lifespan=lifespan), "127.0.0.1", 0, limits=Limits())
""")


def test_a_stuck_shutdown_ends_at_the_hard_deadline_with_exit_1():
    proc = subprocess.Popen([sys.executable, "-c", HANGS_ON_SHUTDOWN, str(ROOT)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().startswith("Serving at http://127.0.0.1:")  # blocks until it listens
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(10)
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    log = proc.stderr.read()
    assert code == 1
    assert 1.0 <= took < 3.0
    assert "ERROR server: shutdown still running" in log and "exiting now" in log
