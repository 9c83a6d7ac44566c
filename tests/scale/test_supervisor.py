"""`serve.py --workers N` (server/supervisor.py): one port, N worker processes that all
serve it, one SIGTERM that ends them all; and the options read from COACHLINE_* variables.

Which worker accepts a connection is the kernel's choice, so the test does not guess: it
reads, from /proc, which worker process holds the server end of each socket, and opens
sockets until both hold some. A message then reaches every one of them, whichever worker
answered the send: through Redis.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import services
from cluster import SERVE, Rest, Socket, chat_path, database_args, http_client, run
from cluster import launch, sqlite_db, sqlite_template  # noqa: F401  (fixtures, and those they use)

ROOT = SERVE.parent


def tcp_inodes(server_port: int) -> dict[int, int]:
    """Established connections to `server_port`, as {client's port: inode of the server's end}."""
    inodes = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state, inode = fields[1], fields[2], fields[3], int(fields[9])
        if state == "01" and int(local.split(":")[1], 16) == server_port:
            inodes[int(remote.split(":")[1], 16)] = inode
    return inodes


def socket_inodes(pid: int) -> set[int]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            found.add(int(target[len("socket:["):-1]))
    return found


def owners(sockets: list[Socket], server_port: int, worker_pids: list[int]) -> list[int]:
    """The pid of the worker that holds each socket's server end."""
    by_client_port = tcp_inodes(server_port)
    held = {pid: socket_inodes(pid) for pid in worker_pids}
    result = []
    for sock in sockets:
        inode = by_client_port[sock.ws.local_address[1]]
        result.append(next(pid for pid, inodes in held.items() if inode in inodes))
    return result


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_two_workers_share_one_port_both_serve_and_sigterm_ends_all(launch, redis_url, sqlite_db, tmp_path):
    (supervisor,) = launch(1, *database_args(sqlite_db, redis_url, tmp_path / "media"), "--workers", "2")
    assert f"Serving at {supervisor.origin} (2 worker processes)" in supervisor.stdout()
    workers = supervisor.children()
    assert len(workers) == 2, workers
    for pid in workers:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert b"--worker-fd" in cmdline and str(supervisor.port).encode() in cmdline

    async def scenario():
        async with http_client() as http:
            rest = Rest(http, supervisor)
            coach = await rest.session("coach@example.com")
            alex = await rest.session("alex@example.com")
            sockets: list[Socket] = []
            placed: list[int] = []
            # At least 20, and until each worker holds at least 5 (bounded: 200 sockets).
            while len(sockets) < 20 or min(placed.count(pid) for pid in workers) < 5:
                assert len(sockets) < 200, f"one worker took every socket: {placed}"
                batch = await asyncio.gather(*(
                    Socket.open(supervisor, chat_path(), (coach, alex)[i % 2].access, f"socket {len(sockets) + i}")
                    for i in range(10)))
                for sock in batch:
                    assert await sock.served()
                sockets += batch
                placed = owners(sockets, supervisor.port, workers)
            print(f"\nsockets per worker: {[placed.count(pid) for pid in workers]}")

            response = await rest.send(alex.access, "to every socket on both workers")
            assert response.status_code == 201, response.text
            message = response.json()
            for sock in sockets:
                frame = await sock.wait_for(lambda f: f.get("type") == "new_message", "the message")
                assert frame["message"] == message, sock.name

            started = time.monotonic()
            supervisor.proc.send_signal(signal.SIGTERM)
            code = await asyncio.to_thread(supervisor.proc.wait, 30)
            elapsed = time.monotonic() - started
            print(f"SIGTERM -> supervisor exited {code} after {elapsed:.2f} s")
            assert code == 0
            assert elapsed < 15
            assert [pid for pid in workers if alive(pid)] == []
            codes = [await sock.wait_closed() for sock in sockets]
            assert set(codes) == {1012}, codes  # a planned stop: service restart, the page comes back at once

    run(scenario)


def serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("COACHLINE_")}
    return subprocess.run([sys.executable, str(SERVE), *args], cwd=ROOT, env={**environment, **(env or {})},
                          capture_output=True, text=True, timeout=60)


def test_workers_without_redis_exit_2_with_one_line(tmp_path):
    database = tmp_path / "never.sqlite3"
    for args, env, named in [
        (["--workers", "2"], {}, "--workers 2"),
        ([], {"COACHLINE_WORKERS": "2"}, "--workers 2"),
        (["--workers", "3"], {"COACHLINE_WORKERS": "2"}, "--workers 3"),  # the command line wins
    ]:
        done = serve("--port", str(services.free_port()), "--database", str(database), *args, env=env)
        assert done.returncode == 2, (args, env, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and named in lines[0] and "--redis" in lines[0], done.stderr
        assert "Serving at" not in done.stdout
    assert not database.exists()  # refused before anything was opened


def test_options_come_from_the_environment_and_the_command_line_wins(launch, redis_url, sqlite_db, tmp_path):
    from_env = {"COACHLINE_WORKERS": "2", "COACHLINE_REDIS": redis_url, "COACHLINE_DATABASE": str(sqlite_db),
                "COACHLINE_MEDIA_DIR": str(tmp_path / "media"), "COACHLINE_SEND_RATE": "2/0.01"}
    (env_only,) = launch(1, env=from_env)
    (overridden,) = launch(1, *database_args(sqlite_db, redis_url, tmp_path / "media"), "--send-rate", "3/0.01",
                           env={"COACHLINE_SEND_RATE": "2/0.01"})
    assert f"Serving at {env_only.origin} (2 worker processes)" in env_only.stdout()
    assert len(env_only.children()) == 2

    async def scenario():
        async with http_client() as http:
            via_env, via_args = Rest(http, env_only), Rest(http, overridden)
            alex = await via_env.session("alex@example.com")
            coach = await via_args.session("coach@example.com")
            assert [(await via_env.send(alex.access, f"m{i}")).status_code for i in range(3)] == [201, 201, 429]
            assert [(await via_args.send(coach.access, f"m{i}")).status_code for i in range(4)] == [201, 201, 201, 429]

    run(scenario)
