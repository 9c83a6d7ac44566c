"""serve.py under the scale bench: started, watched through /proc, stopped.

`ServerUnderTest(database, workers=1)` is one process with the in-process fan-out;
`workers=N, redis_url=...` is `serve.py --workers N --redis URL`: a supervisor and N worker
children sharing the port. The bench's limits are raised so that they measure the fan-out,
not the abuse limits (`--send-rate`, `--max-sockets-per-user`), and the open-file limit is
raised to the hard limit before the spawn, so the workers inherit it.

Which worker holds a TCP connection is read from /proc, never asked of the server:
`connection_owners()` maps each client port connected to the server's port to the pid of the
worker whose file table holds the server's end (the socket's inode in /proc/net/tcp, found
among /proc/<pid>/fd). The bench uses it to tell deliveries that crossed workers (sent
through one worker, received on a socket of another) from those that did not.
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 90.0
STOP_TIMEOUT = 20.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def raise_open_file_limit() -> int:
    """The soft limit up to the hard one (inherited by what this process spawns afterwards)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerUnderTest:
    def __init__(self, database: str, log_path: Path, *, workers: int = 1, redis_url: str | None = None) -> None:
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        raise_open_file_limit()
        command = [sys.executable, str(ROOT / "serve.py"), "--port", str(self.port), "--database", database,
                   "--access-ttl", "3600", "--send-rate", "100000/100000", "--max-sockets-per-user", "100000",
                   "--workers", str(workers), "--demo"]
        if redis_url:
            command += ["--redis", redis_url]
        self.log_path = log_path
        self._log = open(log_path, "ab")
        # A session of its own: stop() can end the supervisor and every worker at once.
        self.proc = subprocess.Popen(command, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        self._wait_serving()

    def _wait_serving(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if "Serving at http://" in self.log_path.read_text(errors="replace"):
                if len(self.worker_pids()) == self.workers:
                    return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        tail = self.log_path.read_text(errors="replace")[-3000:]
        self.stop()
        raise RuntimeError(f"serve.py did not start ({self.workers} workers):\n{tail}")

    def worker_pids(self) -> list[int]:
        """The processes that serve connections: the one process, or the supervisor's children."""
        if self.workers == 1:
            return [self.proc.pid]
        try:
            text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return sorted(int(pid) for pid in text.split())

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the supervisor passes it on; workers close with 1012
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # any worker left behind
        except ProcessLookupError:
            pass
        if self.proc.poll() is None:
            self.proc.wait()
        self._log.close()

    def connection_owners(self) -> dict[int, int]:
        return connection_owners(self.worker_pids(), self.port)


def rss_mb(pid: int) -> float | None:
    """VmRSS of `pid` in MB (2**20 bytes)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of `pid` so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime (fields 14, 15 of stat)


def load_average() -> float:
    return os.getloadavg()[0]


def connection_owners(pids: list[int], server_port: int) -> dict[int, int]:
    """client port -> pid of the worker holding the server's end of that loopback connection."""
    inode_owner: dict[int, int] = {}
    for pid in pids:
        folder = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(folder)
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink(f"{folder}/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                inode_owner[int(link[8:-1])] = pid
    owners: dict[int, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            local_port = int(parts[1].rsplit(":", 1)[1], 16)
            if local_port != server_port:
                continue
            owner = inode_owner.get(int(parts[9]))
            remote_port = int(parts[2].rsplit(":", 1)[1], 16)
            if owner is not None and remote_port:
                owners[remote_port] = owner
    return owners


def other_activity() -> dict[str, int]:
    """How many pytest and Chromium processes are running beside the bench (a shared machine:
    RESULTS.md says whether tests ran during a measurement)."""
    counts = {"pytest": 0, "chromium": 0}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = b" ".join(argv[:3])
        if b"pytest" in words:
            counts["pytest"] += 1
        elif argv and argv[0].endswith(b"chromium"):
            counts["chromium"] += 1
    return counts


class ActivityMonitor:
    """Samples the load average and `other_activity()` every `interval` s on a thread, for
    the record of what shared the machine during a measurement."""

    def __init__(self, interval: float = 10.0) -> None:
        import threading

        self.samples: list[dict] = []
        self._stop = threading.Event()
        self._interval = interval
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            self.samples.append({"t": time.time(), "load": load_average(), **other_activity()})
            if self._stop.wait(self._interval):
                return

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join()
        busy = [s for s in self.samples if s["pytest"] or s["chromium"]]
        return {"samples": len(self.samples), "with_tests_running": len(busy),
                "load_max": max((s["load"] for s in self.samples), default=None),
                "load_mean": sum(s["load"] for s in self.samples) / len(self.samples) if self.samples else None}
