"""WebSocket clients for the scale bench, held in child processes.

Theory of operation. The bench spreads its sockets over a few child processes (this file
run as a program), so that no single client event loop, 10,000 sockets deep, is what the
figures measure. The parent drives each child with one JSON line per command on its stdin
and reads one JSON line of answer on its stdout (`Holders` is the parent's side):

    {"cmd": "open", "url": ..., "origin": ..., "specs": [[conversation, token], ...]}
        -> {"ports": [client port or null, ...], "failed": {error: n}, "seconds": s}
    {"cmd": "stats"}     -> {"open", "closed": {code: n}, "pings", "pongs", "frames", "messages", "cpu", "rss_mb"}
    {"cmd": "receipts"}  -> {"receipts": [[socket, seq, latency ms], ...]} (and forgets them)
    {"cmd": "quit"}      -> every socket closed (1000), then {"bye": true}

A socket is what a page holds: it sends `{"type": "ping"}` every `HEARTBEAT` seconds (the
sockets' phases spread evenly over the interval, one timer for the whole process) and
answers nothing else. It offers permessage-deflate, as browsers do (`deflate=False`: not). For every
`new_message` it keeps (socket, seq, receive time - send time): the sender wrote its send
time, `time.time()` in ms, and a sequence number into the content as "<ms> <seq>"; receive
time is read before the frame is parsed.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HEARTBEAT = 25.0
TICK = 0.1
OPEN_CONCURRENCY = 64  # handshakes in flight per process (the listen backlog is 2048)
PING = json.dumps({"type": "ping"})


class Holder:
    def __init__(self, heartbeat: float = HEARTBEAT, deflate: bool = True) -> None:
        self.deflate = deflate
        self.sockets: list = []  # websockets ClientConnection, or None where the open failed
        self.receipts: list[tuple[int, int, float]] = []
        self.closed: Counter[str] = Counter()
        self.pings = self.pongs = self.frames = self.messages = 0
        self.quitting = False
        self.heartbeat = heartbeat
        self._readers: list[asyncio.Task] = []
        self._beat: asyncio.Task | None = None

    async def open(self, url: str, origin: str, specs: list[list]) -> dict:
        from websockets.asyncio.client import connect

        started = time.monotonic()
        base = len(self.sockets)
        self.sockets.extend([None] * len(specs))
        ports: list[int | None] = [None] * len(specs)
        failed: Counter[str] = Counter()
        gate = asyncio.Semaphore(OPEN_CONCURRENCY)

        async def one(i: int, conversation: int, token: str) -> None:
            async with gate:
                try:
                    ws = await connect(f"{url}/ws/messaging/{conversation}/?token={token}", origin=origin,
                                       ping_interval=None, open_timeout=120, close_timeout=5,
                                       compression="deflate" if self.deflate else None)
                except Exception as exc:
                    failed[type(exc).__name__ + (f" {exc}"[:60] if "status" in str(exc) else "")] += 1
                    return
            self.sockets[base + i] = ws
            ports[i] = ws.local_address[1]
            self._readers.append(asyncio.ensure_future(self._read(base + i, ws)))

        await asyncio.gather(*(one(i, c, t) for i, (c, t) in enumerate(specs)))
        if self._beat is None:
            self._beat = asyncio.ensure_future(self._heartbeats())
        return {"ports": ports, "failed": dict(failed), "seconds": time.monotonic() - started}

    async def _read(self, index: int, ws) -> None:
        receipts = self.receipts
        try:
            async for text in ws:
                now_ms = time.time() * 1000
                self.frames += 1
                if text == '{"type": "pong"}' or '"pong"' in text[:20]:
                    self.pongs += 1
                    continue
                event = json.loads(text)
                if event.get("type") == "new_message":
                    self.messages += 1
                    sent_ms, seq = event["message"]["content"].split(" ")
                    receipts.append((index, int(seq), now_ms - float(sent_ms)))
        except Exception:
            pass
        finally:
            if not self.quitting:
                self.closed[str(ws.close_code)] += 1

    async def _heartbeats(self) -> None:
        """Socket i pings at phase (i mod buckets) x TICK of every heartbeat interval."""
        loop = asyncio.get_running_loop()
        buckets = max(1, round(self.heartbeat / TICK))
        start = loop.time()
        done = 0  # ticks handled
        while True:
            due = int((loop.time() - start) / TICK)
            while done <= due:
                bucket = done % buckets
                for i in range(bucket, len(self.sockets), buckets):
                    ws = self.sockets[i]
                    if ws is not None and ws.close_code is None:
                        try:
                            await ws.send(PING)
                            self.pings += 1
                        except Exception:
                            pass
                done += 1
            await asyncio.sleep(max(0.0, start + done * TICK - loop.time()))

    def stats(self) -> dict:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {"open": sum(1 for ws in self.sockets if ws is not None and ws.close_code is None),
                "closed": dict(self.closed), "pings": self.pings, "pongs": self.pongs, "frames": self.frames,
                "messages": self.messages, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024}

    def take_receipts(self) -> dict:
        receipts, self.receipts = self.receipts, []
        return {"receipts": receipts}

    async def quit(self) -> dict:
        self.quitting = True
        if self._beat is not None:
            self._beat.cancel()
        live = [ws for ws in self.sockets if ws is not None]
        for start in range(0, len(live), 500):
            await asyncio.gather(*(ws.close() for ws in live[start:start + 500]), return_exceptions=True)
        return {"bye": True}


async def serve_commands() -> None:
    holder = Holder(float(os.environ.get("SCALE_HEARTBEAT", HEARTBEAT)), os.environ.get("SCALE_DEFLATE") != "0")
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            await holder.quit()
            return
        command = json.loads(line)
        name = command["cmd"]
        if name == "open":
            answer = await holder.open(command["url"], command["origin"], command["specs"])
        elif name == "stats":
            answer = holder.stats()
        elif name == "receipts":
            answer = holder.take_receipts()
        elif name == "quit":
            answer = await holder.quit()
        else:
            answer = {"error": f"unknown command {name!r}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
        if name == "quit":
            return


class Holders:
    """The parent's side: `count` child processes; sockets are dealt to them in turn."""

    def __init__(self, count: int, log_path: Path, heartbeat: float = HEARTBEAT, deflate: bool = True) -> None:
        self._log = open(log_path, "ab")
        env = {**os.environ, "SCALE_HEARTBEAT": str(heartbeat), "SCALE_DEFLATE": "1" if deflate else "0"}
        self.procs = [subprocess.Popen([sys.executable, __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=self._log, env=env, text=True, bufsize=1)
                      for _ in range(count)]
        self.members: list[list[int]] = [[] for _ in self.procs]  # the bench's socket numbers, per child

    def _ask_all(self, commands: list[dict | None]) -> list[dict | None]:
        """Send each child its command first, then collect: the children work at once."""
        for proc, command in zip(self.procs, commands):
            if command is not None:
                proc.stdin.write(json.dumps(command) + "\n")
                proc.stdin.flush()
        answers = []
        for proc, command in zip(self.procs, commands):
            if command is None:
                answers.append(None)
                continue
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"socket holder {proc.pid} ended (exit {proc.poll()})")
            answers.append(json.loads(line))
        return answers

    def open(self, url: str, origin: str, specs: list[tuple[int, int, str]]) -> dict:
        """Open sockets given as (the bench's socket number, conversation, token).
        Returns {socket number: client port} for those that opened, and the failures."""
        per_child: list[list[tuple[int, int, str]]] = [[] for _ in self.procs]
        for n, spec in enumerate(specs):
            per_child[n % len(self.procs)].append(spec)
        answers = self._ask_all([{"cmd": "open", "url": url, "origin": origin,
                                  "specs": [[c, t] for _, c, t in chunk]} if chunk else None
                                 for chunk in per_child])
        ports: dict[int, int] = {}
        failed: Counter[str] = Counter()
        for i, (chunk, answer) in enumerate(zip(per_child, answers)):
            if answer is None:
                continue
            self.members[i].extend(number for number, _, _ in chunk)
            for (number, _, _), port in zip(chunk, answer["ports"]):
                if port is not None:
                    ports[number] = port
            failed.update(answer["failed"])
        return {"ports": ports, "failed": dict(failed)}

    def stats(self) -> dict:
        answers = self._ask_all([{"cmd": "stats"}] * len(self.procs))
        closed: Counter[str] = Counter()
        for answer in answers:
            closed.update(answer["closed"])
        return {"open": sum(a["open"] for a in answers), "closed": dict(closed),
                "pings": sum(a["pings"] for a in answers), "pongs": sum(a["pongs"] for a in answers),
                "frames": sum(a["frames"] for a in answers), "messages": sum(a["messages"] for a in answers),
                "cpu": [a["cpu"] for a in answers],
                "rss_mb": [a["rss_mb"] for a in answers]}

    def receipts(self) -> list[tuple[int, int, float]]:
        """(the bench's socket number, seq, latency ms) for every new_message received."""
        out = []
        for i, answer in enumerate(self._ask_all([{"cmd": "receipts"}] * len(self.procs))):
            members = self.members[i]
            out.extend((members[index], seq, latency) for index, seq, latency in answer["receipts"])
        return out

    def close(self) -> None:
        try:
            self._ask_all([{"cmd": "quit"} if proc.poll() is None else None for proc in self.procs])
        except (OSError, RuntimeError, ValueError):
            pass
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._log.close()


if __name__ == "__main__":
    try:
        asyncio.run(serve_commands())
    except KeyboardInterrupt:
        pass
