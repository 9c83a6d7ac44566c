"""Real Redis and PostgreSQL servers for the scale-out tests, started and owned by the test run.

Theory of operation: each server runs from Debian's binaries on a free loopback port, in a
temporary folder of its own that is removed when it stops, with nothing persisted (Redis
saves no snapshot and keeps no append log; PostgreSQL runs with fsync off). A server left
running by hand is never used: the port is chosen here and the process is a child of this
one, which on Linux also dies when the test run is killed outright (no finaliser runs then).

    with RedisServer() as redis:              # started and answering PING
        redis.url                             # redis://127.0.0.1:PORT/0
        redis.stop(); redis.start()           # down and up again on the same port
    with PostgresServer() as pg:
        dsn = pg.new_database()               # a fresh empty database each call

Readiness is polled (PING, `SELECT 1`) for at most `STARTUP_TIMEOUT` seconds; a server that
does not answer in time is killed and the error carries the tail of its log.

`initdb` and `postgres` refuse to run as root, so under root both run as the `postgres`
account (Debian's package creates it) and the temporary folder is handed to it.

`missing(name)` is what a fixture calls when a binary is not installed: the tests are
skipped on a developer's machine, but fail under CI (CI=true), where `scripts/setup.sh
--services` must have installed them.
"""

from __future__ import annotations

import ctypes
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from ports import free_port  # noqa: F401 - the scale tests take it from here

STARTUP_TIMEOUT = 20.0
STOP_TIMEOUT = 20.0


def missing(what: str) -> None:
    """Skip the tests that need `what`, or fail them under CI, where it must be installed."""
    message = f"{what} is not installed (scripts/setup.sh --services installs it)"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def find_redis() -> str | None:
    return shutil.which("redis-server")


def find_postgres_bin() -> Path | None:
    """The folder holding `initdb` and `postgres`: pg_config's, else Debian's newest."""
    candidates = []
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        candidates.append(out.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    for folder in candidates:
        if folder and all(os.access(Path(folder) / name, os.X_OK) for name in ("initdb", "postgres")):
            return Path(folder)
    return None


def _version_key(folder: str) -> int:
    name = Path(folder).parent.name
    return int(name) if name.isdigit() else 0


class ServiceError(RuntimeError):
    pass


def _die_with_parent() -> None:
    """In the child before exec (after Popen's user switch, which would clear it): SIGKILL
    when the test process dies, so a killed run leaves no server behind."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class LogPipe:
    """A child's output, copied line by line into its log file by a thread of its own, so a
    test can wait for the line that says the child is ready (`wait_for`) instead of polling.
    A line is in the file before a waiter hears of it."""

    def __init__(self, stream, log_path: Path) -> None:
        self._lines: list[str] = []
        self._ended = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._copy, args=(stream, log_path), daemon=True)
        self._thread.start()

    def _copy(self, stream, log_path: Path) -> None:
        with stream, open(log_path, "ab") as log:
            for raw in iter(stream.readline, b""):
                log.write(raw)
                log.flush()
                with self._changed:
                    self._lines.append(raw.decode(errors="replace"))
                    self._changed.notify_all()
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    @property
    def ended(self) -> bool:
        """The child closed its output (it exited, or is exiting)."""
        with self._changed:
            return self._ended

    def wait_for(self, text: str, timeout: float, count: int = 1) -> bool:
        """True once `count` lines containing `text` were printed; False when the output ended
        (the child exited) or `timeout` passed first."""
        def seen() -> bool:
            return sum(text in line for line in self._lines) >= count
        with self._changed:
            self._changed.wait_for(lambda: self._ended or seen(), timeout)
            return seen()


class _Process:
    """One child server process with its log file; shared by the two servers below."""

    def __init__(self, name: str, folder: Path) -> None:
        self.name = name
        self.log_path = folder / f"{name}.log"
        self.process: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def spawn(self, argv: list[str], **popen) -> None:
        self.process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None, **popen)
        self.output = LogPipe(self.process.stdout, self.log_path)

    def wait_ready(self, banner: str, ready) -> None:
        """Wait for the line `banner` that the server prints once it accepts connections,
        then check that it answers (`ready()`); fail with the log if it dies or stalls."""
        if not self.output.wait_for(banner, STARTUP_TIMEOUT):
            if self.output.ended:
                # The output closes while the child exits, a moment before the kernel lets it be
                # reaped: poll() may still say "running" here, so wait for the exit itself.
                self.end(signal.SIGKILL)
                raise ServiceError(f"{self.name} exited at start-up:\n{self.log_tail()}")
            self.end(signal.SIGKILL)
            raise ServiceError(f"{self.name} did not start within {STARTUP_TIMEOUT:.0f} s:\n{self.log_tail()}")
        if not ready():
            self.end(signal.SIGKILL)
            raise ServiceError(f"{self.name} said it was ready but does not answer:\n{self.log_tail()}")

    def end(self, sig: int) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


class RedisServer:
    """`redis-server` on a free loopback port; `stop()`/`kill()` then `start()` keep the port."""

    def __init__(self, binary: str | None = None) -> None:
        self.binary = binary or find_redis()
        if self.binary is None:
            raise ServiceError("redis-server is not installed")
        self.folder = Path(tempfile.mkdtemp(prefix="test-redis-"))
        self.port = free_port()
        self._proc = _Process("redis-server", self.folder)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._proc.running

    def start(self) -> "RedisServer":
        if not self.running:
            self._proc.spawn([self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no", "--dir", str(self.folder)])
            self._proc.wait_ready("Ready to accept connections", self.ping)
        return self

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """SIGTERM (Redis saves nothing here, so this is quick) and wait."""
        self._proc.end(signal.SIGTERM)

    def kill(self) -> None:
        self._proc.end(signal.SIGKILL)

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> "RedisServer":
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc) -> None:
        self.close()


class PostgresServer:
    """A throwaway PostgreSQL cluster: `initdb` in a fresh folder, `postgres` on a free port,
    trust authentication on loopback for the superuser `postgres`."""

    USER = "postgres"

    def __init__(self, bindir: Path | None = None) -> None:
        self.bindir = bindir or find_postgres_bin()
        if self.bindir is None:
            raise ServiceError("PostgreSQL's initdb/postgres are not installed")
        self.folder = Path(tempfile.mkdtemp(prefix="test-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self._proc = _Process("postgres", self.folder)
        self._databases = 0
        self._as_owner: dict = {}
        if os.geteuid() == 0:
            # Popen's user/group switch in the child, with no su/runuser between: signals
            # reach postgres itself. extra_groups=[] drops root's supplementary groups.
            self._as_owner = {"user": self.USER, "group": self.USER, "extra_groups": []}
            shutil.chown(self.folder, self.USER, self.USER)

    def dsn_for(self, database: str) -> str:
        return f"postgresql://{self.USER}@127.0.0.1:{self.port}/{database}"

    @property
    def dsn(self) -> str:
        return self.dsn_for("postgres")

    @property
    def running(self) -> bool:
        return self._proc.running

    def start(self) -> "PostgresServer":
        if self.running:
            return self
        if not (self.data / "PG_VERSION").exists():
            initdb = subprocess.run(
                [str(self.bindir / "initdb"), "-D", str(self.data), "-U", self.USER, "--auth=trust",
                 "--encoding=UTF8", "--locale=C", "--no-sync"],
                stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=self.folder, **self._as_owner)
            if initdb.returncode != 0:
                raise ServiceError(f"initdb failed:\n{initdb.stdout}\n{initdb.stderr}")
        self._proc.spawn(
            [str(self.bindir / "postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.folder),
             "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200", "-c", "fsync=off",
             "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
            cwd=self.folder, **self._as_owner)
        self._proc.wait_ready("database system is ready to accept connections", self._answers)
        return self

    def _answers(self) -> bool:
        import psycopg
        try:
            with psycopg.connect(self.dsn, connect_timeout=2) as conn:
                return conn.execute("SELECT 1").fetchone() == (1,)
        except psycopg.OperationalError:
            return False

    def new_database(self) -> str:
        """Create an empty database and return its DSN."""
        import psycopg
        self._databases += 1
        name = f"test_{self._databases}"
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.dsn_for(name)

    def stop(self) -> None:
        """SIGINT is PostgreSQL's fast shutdown: open sessions are ended, not waited for."""
        self._proc.end(signal.SIGINT)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> "PostgresServer":
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc) -> None:
        self.close()
