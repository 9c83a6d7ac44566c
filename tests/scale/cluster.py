"""Harness for the scale-out tests: several `serve.py` processes on one Redis and one
database, and the clients that talk to them.

Theory of operation. Each `Server` is a real `serve.py` on a free loopback port, its
stdout and stderr captured to files; several of them started with the same `--redis` and
`--database` are several machines, and a test reaches a given one by its port. `launch`
(a fixture) starts a group at once, waits until each prints its "Serving at" line, and
stops every one in its teardown (SIGTERM, then SIGKILL of its process group), whatever the
test did. `sqlite_db` is a per-test copy of a demo database seeded once per session with
cheap password hashes (seeding four real scrypt hashes costs about a second).

The clients are asyncio code for `asyncio.run` inside a test:

- `Rest`: the REST calls of CONTRACT.md against one server's origin.
- `Socket`: one WebSocket that records every frame it receives and how it closed, and lets
  a test wait for a frame (or the close) with a deadline. Nothing here sleeps to let
  something happen: every wait is on a condition, bounded by `TIMEOUT`.
- `FollowingClient`: what a real chat client does to hold every message of a conversation
  exactly once, in id order, across server failures: on any close it reconnects (the same
  server first; the next one when that one refuses the connection), then fills the gap
  from REST `after=<last id held>`, paging, and drops what it already holds. It records
  what a test must check: the ids it holds, the ones that came late (below its last id:
  an order violation) and every socket's life (opened, proved served by a pong, closed
  with which code, when).

  One step more than "connect, then fill", as a detector: when the first message arrives on
  a new socket, the client fills again up to it and records in `refilled` what only that
  second fill found. A CONTRACT client does not do this, so it must find nothing: a message
  published before the socket joined but committed only after the first fill read would be
  on neither (see test_publish_before_commit.py; the server waits for such sends to commit
  before it accepts a socket). Once the socket delivers a message, every smaller id is
  committed (each send holds the conversation until its commit), so the second fill is
  complete.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

import services

ROOT = Path(__file__).resolve().parents[2]
SERVE = ROOT / "serve.py"
START_TIMEOUT = 90.0  # four servers seeding at once on two busy cores
STOP_TIMEOUT = 20.0
TIMEOUT = 30.0  # any single wait of a test: generous, the machine may be shared
CONVERSATION = 1  # the demo's coach-alex conversation


# --- servers ---------------------------------------------------------------------------

class Server:
    """One `serve.py` process (`--workers N` makes it a supervisor of N workers)."""

    def __init__(self, args: list[str], logs: Path, *, env: dict[str, str] | None = None,
                 port: int | None = None) -> None:
        self.port = port or services.free_port()
        self.args = ["--port", str(self.port), "--demo", *args]  # --demo: an empty database gets the demo
        self.logs = logs
        self.env = env or {}
        self.proc: subprocess.Popen | None = None
        self.returncode: int | None = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_origin(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def spawn(self) -> Server:
        self.logs.mkdir(parents=True, exist_ok=True)
        environment = {k: v for k, v in os.environ.items() if not k.startswith("COACHLINE_")}
        environment.update(PYTHONUNBUFFERED="1", **self.env)
        self.proc = subprocess.Popen([sys.executable, str(SERVE), *self.args], cwd=ROOT, env=environment,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     preexec_fn=_own_group_dying_with_parent)
        self.output = services.LogPipe(self.proc.stdout, self.logs / "stdout.txt")
        self.errors = services.LogPipe(self.proc.stderr, self.logs / "stderr.txt")  # the server's log lines
        return self

    def wait_ready(self, timeout: float) -> None:
        """Until it prints its "Serving at" line; raises if it ended or stalled instead."""
        if not self.output.wait_for(f"Serving at {self.origin}", timeout):
            ended = self.proc is None or self.proc.poll() is not None
            raise RuntimeError(f"serve.py {' '.join(self.args)} {'ended at start-up' if ended else 'did not start'}"
                               f":\n{self.log_tail()}")

    def stdout(self) -> str:
        return _read(self.logs / "stdout.txt")

    def stderr(self) -> str:
        return _read(self.logs / "stderr.txt")

    def log_tail(self, lines: int = 40) -> str:
        return ("--- stdout\n" + "\n".join(self.stdout().splitlines()[-lines:])
                + "\n--- stderr\n" + "\n".join(self.stderr().splitlines()[-lines:]))

    def children(self) -> list[int]:
        """The pids of its child processes (a supervisor's workers)."""
        pids: list[int] = []
        for task in Path(f"/proc/{self.pid}/task").iterdir():
            pids += [int(p) for p in (task / "children").read_text().split()]
        return pids

    def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> int | None:
        """Signal it and wait; past `timeout`, SIGKILL its whole process group. The exit code."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._kill_group()
        self._kill_group()  # a supervisor's workers, should any outlive it
        self.returncode = self.proc.returncode
        self.proc = None
        return self.returncode

    def kill(self) -> None:
        """SIGKILL this process alone (a crashed machine); its connections drop."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(STOP_TIMEOUT)

    def _kill_group(self) -> None:
        assert self.proc is not None
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass


def _own_group_dying_with_parent() -> None:
    """In the child before exec: a process group of its own (the teardown can end a
    supervisor with its workers), and SIGKILL should the test run die outright."""
    os.setsid()
    services._die_with_parent()


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def wait_ready(servers: list[Server], timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    for server in servers:  # they start together; each is waited for within the one deadline
        server.wait_ready(max(0.0, deadline - time.monotonic()))


@pytest.fixture
def launch(tmp_path):
    """launch(count, *args, env=None, wait=True) -> [Server]: `count` serve.py processes with
    the same arguments (and each its own port), started together. All are stopped at the end."""
    started: list[Server] = []

    def start(count: int, *args: str, env: dict[str, str] | None = None, wait: bool = True) -> list[Server]:
        group = []
        for _ in range(count):
            server = Server(list(args), tmp_path / f"server{len(started)}", env=env)
            started.append(server)
            group.append(server.spawn())
        if wait:
            wait_ready(group)
        return group

    yield start
    for server in started:
        server.stop()


def database_args(database: str | Path, redis_url: str | None, media: Path) -> list[str]:
    args = ["--database", str(database), "--media-dir", str(media)]
    return args + (["--redis", redis_url] if redis_url else [])


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """The demo database, seeded once with cheap hashes (each hash keeps its parameters, so
    logins verify through the real scrypt path, and upgrade the hash as they would)."""
    import server.passwords as passwords
    from server.app import prepare_database

    path = tmp_path_factory.mktemp("template") / "demo.sqlite3"
    saved = passwords.N, passwords.P
    passwords.N, passwords.P = 2**10, 1
    try:
        prepare_database(path, demo=True)
    finally:
        passwords.N, passwords.P = saved
    return path


@pytest.fixture
def sqlite_db(tmp_path, sqlite_template) -> Path:
    path = tmp_path / "db" / "messaging.sqlite3"
    path.parent.mkdir()
    shutil.copy(sqlite_template, path)
    return path


@pytest.fixture
def cluster(launch, tmp_path, redis_url, sqlite_db):
    """cluster(count, *more_args) -> [Server]: `count` servers on one Redis and one SQLite file."""
    def start(count: int, *args: str, database: str | Path | None = None) -> list[Server]:
        return launch(count, *database_args(database or sqlite_db, redis_url, tmp_path / "media"), *args)

    return start


# --- clients ---------------------------------------------------------------------------

def run(scenario, timeout: float = 180.0):
    """asyncio.run(scenario()), bounded: a hung wait fails the test instead of the run."""
    async def bounded():
        async with asyncio.timeout(timeout):
            return await scenario()
    return asyncio.run(bounded())


def password_for(email: str) -> str:
    return email.split("@")[0] + "-pass"


@dataclass
class Session:
    email: str
    access: str
    refresh: str
    user_id: int


class Rest:
    """CONTRACT.md's REST calls against one server."""

    def __init__(self, http: httpx.AsyncClient, server: Server) -> None:
        self.http = http
        self.server = server
        self.origin = server.origin

    async def login(self, email: str, password: str | None = None) -> httpx.Response:
        return await self.http.post(self.origin + "/api/auth/jwt/create/",
                                    json={"email": email, "password": password or password_for(email)})

    async def session(self, email: str) -> Session:
        response = await self.login(email)
        assert response.status_code == 200, response.text
        tokens = response.json()
        me = await self.http.get(self.origin + "/api/auth/users/me/", headers=bearer(tokens["access"]))
        assert me.status_code == 200, me.text
        return Session(email, tokens["access"], tokens["refresh"], me.json()["id"])

    async def send(self, access: str, content: str, *, conversation_id: int = CONVERSATION,
                   client_message_id: str | None = None) -> httpx.Response:
        body = {"content": content}
        if client_message_id is not None:
            body["client_message_id"] = client_message_id
        return await self.http.post(f"{self.origin}/api/messaging/conversations/{conversation_id}/send/",
                                    json=body, headers=bearer(access))

    async def page(self, access: str, *, conversation_id: int = CONVERSATION, **query: int) -> dict:
        response = await self.http.get(f"{self.origin}/api/messaging/conversations/{conversation_id}/messages/",
                                       params=query, headers=bearer(access))
        assert response.status_code == 200, response.text
        return response.json()

    async def all_after(self, access: str, after: int, *, conversation_id: int = CONVERSATION) -> list[dict]:
        """Every message after `after`, paging by 200 until has_more is false."""
        messages: list[dict] = []
        while True:
            page = await self.page(access, conversation_id=conversation_id, after=after, limit=200)
            messages += page["results"]
            if page["results"]:
                after = page["results"][-1]["id"]
            if not page["has_more"]:
                return messages

    async def last_id(self, access: str, conversation_id: int = CONVERSATION) -> int:
        page = await self.page(access, conversation_id=conversation_id, limit=1)
        return page["results"][-1]["id"]

    async def read(self, access: str, conversation_id: int = CONVERSATION) -> httpx.Response:
        return await self.http.post(f"{self.origin}/api/messaging/conversations/{conversation_id}/read/",
                                    headers=bearer(access))

    async def logout(self, refresh: str) -> httpx.Response:
        return await self.http.post(self.origin + "/api/auth/jwt/blacklist/", json={"refresh": refresh})


def bearer(access: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access}"}


def http_client() -> httpx.AsyncClient:
    # trust_env=False: a proxy configured in the environment must not carry 127.0.0.1.
    return httpx.AsyncClient(trust_env=False, timeout=TIMEOUT,
                             limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))


async def open_ws(server: Server, path: str, access: str) -> ClientConnection:
    return await connect(f"{server.ws_origin}{path}?token={access}", proxy=None, open_timeout=TIMEOUT,
                         ping_interval=None, close_timeout=5, max_queue=None)


def chat_path(conversation_id: int = CONVERSATION) -> str:
    return f"/ws/messaging/{conversation_id}/"


INBOX = "/ws/inbox/"


class Pulse:
    """Wakes every waiter each time something changed."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def until(self, condition: Callable[[], object], timeout: float = TIMEOUT, what: str = "a condition"):
        """The first truthy value of `condition()`, checked after each change; fails after `timeout`."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = condition()
            if value:
                return value
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
            try:
                await asyncio.wait_for(self._event.wait(), remaining)
            except TimeoutError:
                pass


class Socket:
    """One WebSocket; a task records every frame it receives, and how and when it closed."""

    def __init__(self, ws: ClientConnection, name: str) -> None:
        self.ws = ws
        self.name = name
        self.frames: list[dict] = []
        self.close_code: int | None = None
        self.closed_at: float | None = None  # time.monotonic()
        self.changed = Pulse()
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def open(cls, server: Server, path: str, access: str, name: str = "") -> Socket:
        return cls(await open_ws(server, path, access), name or f"{path}@{server.port}")

    async def _read(self) -> None:
        try:
            while True:
                self.frames.append(json.loads(await self.ws.recv()))
                self.changed.fire()
        except ConnectionClosed as closed:
            self.closed_at = time.monotonic()
            self.close_code = closed.rcvd.code if closed.rcvd is not None else 1006
            self.changed.fire()

    def of_type(self, kind: str) -> list[dict]:
        return [frame for frame in self.frames if frame.get("type") == kind]

    async def wait_for(self, predicate: Callable[[dict], bool], what: str = "a frame",
                       timeout: float = TIMEOUT) -> dict:
        def found():
            match = next((f for f in self.frames if predicate(f)), None)
            if match is None and self.close_code is not None:
                raise AssertionError(f"{self.name} closed ({self.close_code}) before {what}; got {self.frames}")
            return match
        return await self.changed.until(found, timeout, f"{what} on {self.name}")

    async def wait_closed(self, timeout: float = TIMEOUT) -> int:
        await self.changed.until(lambda: self.close_code is not None, timeout, f"{self.name} to close")
        assert self.close_code is not None
        return self.close_code

    async def send(self, frame: dict) -> None:
        await self.ws.send(json.dumps(frame))

    async def roundtrip(self, timeout: float = TIMEOUT) -> None:
        """Ping and wait for the pong: proves the socket is served (a refused one is closed),
        and that whatever the server queued for it before the pong has arrived."""
        pongs = len(self.of_type("pong"))
        await self.send({"type": "ping"})
        await self.wait_for(lambda f: f.get("type") == "pong" and len(self.of_type("pong")) > pongs,
                            "a pong", timeout)

    async def served(self, timeout: float = TIMEOUT) -> bool:
        """True once a pong answers a ping (the server serves this socket); False when it
        closes first, as a refused socket does right after the handshake (`close_code`)."""
        pongs = len(self.of_type("pong"))
        try:
            await self.send({"type": "ping"})
        except ConnectionClosed:
            pass
        await self.changed.until(lambda: self.close_code is not None or len(self.of_type("pong")) > pongs,
                                 timeout, f"a pong or the close of {self.name}")
        return len(self.of_type("pong")) > pongs

    async def close(self) -> None:
        await self.ws.close()
        await asyncio.gather(self._reader, return_exceptions=True)


async def close_all(sockets: list[Socket]) -> None:
    await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)


@dataclass
class Link:
    """One socket of a FollowingClient, from open to close."""
    port: int
    opened_at: float
    established_at: float | None = None  # when its first pong came: the server serves it
    closed_at: float | None = None
    code: int | None = None
    # The client closed it itself (the test stopped it, or a REST call of its gap fill failed):
    # then `code` is the client's 1000, not the server's word on the socket.
    closed_by_client: bool = False
    socket_ids: list[int] = field(default_factory=list)  # new_message ids in arrival order


RETRY_DELAYS = (0.05, 0.1, 0.2, 0.4, 0.5)  # a reconnecting client's short backoff (then 0.5 s)


class FollowingClient:
    """Holds conversation `CONVERSATION`'s messages after `after` across closes; see the module."""

    def __init__(self, name: str, servers: list[Server], http: httpx.AsyncClient, access: str, after: int) -> None:
        self.name = name
        self.servers = servers  # servers[0] first; on a refused connection, the next
        self.http = http
        self.access = access
        self.held: list[int] = []
        self.last = after
        self.duplicates = 0  # ids that came again (socket after gap fill) and were dropped
        self.late: list[int] = []  # ids below the last held one that were not held: order broken
        self.links: list[Link] = []
        self.failed_connects = 0
        self.refilled: list[int] = []  # ids only the second fill found (see the module)
        self.changed = Pulse()
        self._stopping = False
        self._task: asyncio.Task | None = None
        self._crash: BaseException | None = None

    def start(self) -> FollowingClient:
        self._task = asyncio.ensure_future(self._run())
        return self

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._raise_crash()

    def _raise_crash(self) -> None:
        if self._crash is not None:
            raise AssertionError(f"{self.name} failed: {self._crash!r}") from self._crash

    @property
    def live(self) -> Link | None:
        """The current socket if the server serves it (a pong came) and it is open."""
        self._raise_crash()
        link = self.links[-1] if self.links else None
        return link if link is not None and link.established_at is not None and link.code is None else None

    def holds(self, message_id: int) -> bool:
        self._raise_crash()
        return self.last >= message_id

    def _apply(self, message_id: int) -> None:
        if message_id in self._held_set:
            self.duplicates += 1
        elif message_id < self.last:
            self.late.append(message_id)
        else:
            self.held.append(message_id)
            self._held_set.add(message_id)
            self.last = message_id

    async def _run(self) -> None:
        try:
            await self._reconnecting()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # surfaced by `live`, `holds` and `stop`
            self._crash = exc
            self.changed.fire()

    async def _reconnecting(self) -> None:
        self._held_set: set[int] = set()
        index, attempt = 0, 0
        while not self._stopping:
            server = self.servers[index]
            try:
                ws = await open_ws(server, chat_path(), self.access)
            except (OSError, InvalidHandshake, TimeoutError):
                self.failed_connects += 1
                index = (index + 1) % len(self.servers)  # refused: that one is gone, try the next
                await asyncio.sleep(RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)])
                attempt += 1
                continue
            link = Link(server.port, time.monotonic())
            self.links.append(link)
            self.changed.fire()
            if await self._follow(ws, link, Rest(self.http, server)):
                attempt = 0
            else:
                await asyncio.sleep(RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)])
                attempt += 1

    async def _follow(self, ws: ClientConnection, link: Link, rest: Rest) -> bool:
        """Serve one socket until it closes; whether it was established (a pong came)."""
        inbox: asyncio.Queue = asyncio.Queue()

        async def read() -> None:
            try:
                while True:
                    frame = json.loads(await ws.recv())
                    if frame.get("type") == "new_message":
                        link.socket_ids.append(frame["message"]["id"])
                    inbox.put_nowait(frame)
            except ConnectionClosed as closed:
                link.closed_at = time.monotonic()
                link.code = closed.rcvd.code if closed.rcvd is not None else 1006
                inbox.put_nowait(None)

        reader = asyncio.ensure_future(read())
        try:
            await ws.send(json.dumps({"type": "ping"}))
            # The gap since the last id held, while the socket's frames wait in `inbox`.
            for message in await rest.all_after(self.access, self.last):
                self._apply(message["id"])
            self.changed.fire()
            first = True
            while (frame := await inbox.get()) is not None:
                if frame["type"] == "new_message":
                    message_id = frame["message"]["id"]
                    if first and message_id > self.last:
                        await self._fill_below(rest, message_id)
                    first = False
                    self._apply(message_id)
                elif frame["type"] == "pong" and link.established_at is None:
                    link.established_at = time.monotonic()
                self.changed.fire()
        except (ConnectionClosed, httpx.TransportError):
            pass  # the server went away mid-call; the socket's close (if not yet seen) follows
        finally:
            await asyncio.shield(_quiet_close(ws))
            await asyncio.gather(reader, return_exceptions=True)
            if link.code is None:  # stopped by the test, or the fill's REST call failed
                link.code, link.closed_at, link.closed_by_client = 1000, time.monotonic(), True
            self.changed.fire()
        return link.established_at is not None

    async def _fill_below(self, rest: Rest, first_on_socket: int) -> None:
        for message in await rest.all_after(self.access, self.last):
            if message["id"] >= first_on_socket:
                break
            self.refilled.append(message["id"])
            self._apply(message["id"])


async def _quiet_close(ws: ClientConnection) -> None:
    try:
        await asyncio.wait_for(ws.close(), 5)
    except Exception:
        pass


def socket_disorder(client: FollowingClient) -> list[list[int]]:
    """The sockets of `client` that delivered new_message ids not strictly increasing."""
    return [link.socket_ids for link in client.links
            if any(b <= a for a, b in zip(link.socket_ids, link.socket_ids[1:]))]
