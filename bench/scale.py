#!/usr/bin/env python3
"""The scale-out benchmark (issue 19): the same load against one serve.py process (in-process
fan-out) and against `serve.py --workers 4 --redis URL` (fan-out through Redis pub/sub), on
this machine, in one run. Prints a table of figures, ratios and targets; writes them as JSON.

    .venv/bin/python bench/scale.py                # full, ~8 min: 1,000 sockets x 60 s, 10,000 idle x 60 s
    .venv/bin/python bench/scale.py --quick        # development: 200 sockets x 10 s, 2,000 idle x 10 s
    .venv/bin/python bench/scale.py --only latency --postgres --rate 200 --json out.json

Sections:

- latency: `--conversations` x `--per-conversation` WebSockets (half the trainer's, half the
  trainee's), then `--rate` REST sends a second for `--duration` seconds (after an unmeasured
  warm-up), round-robin over the conversations, alternately as trainer and trainee. Each
  content carries its send time (`time.time()` in ms) and a sequence number; a delivery's
  latency is receive time minus that send time, per (message, socket): p50, p99, max, lost.
  With 4 workers the sockets and the senders' connections land on whichever worker accepts
  them, so most deliveries cross workers; which worker holds what is read from /proc
  (`scale_server.connection_owners`), and crossed deliveries get figures of their own.
  Targets: crossed p99 <= 250 ms and <= 2x the single process's p99; 0 lost. All on SQLite;
  `--postgres` adds the 4 workers on PostgreSQL (tests/services.py starts a throwaway one).
- idle: 10,000 sockets opened in steps against 4 workers, then held for 60 s with a
  `{"type": "ping"}` every 25 s each (as a page does); each worker's VmRSS at every step and
  during the hold. Target: < 200 MB per worker. The same steps against ONE worker up to 2,500
  sockets give the memory per socket without Redis (one worker cannot take 10,000: uvicorn's
  limit_concurrency is 4096, server/runner.py MAX_CONNECTIONS), once with permessage-deflate
  offered (as browsers do, and as every other socket of the bench does) and once without,
  which prices the server's per-socket zlib state.

Clients run in two child processes (bench/scale_sockets.py), the sender in this one; their
CPU time is reported beside the servers', since all of them share the machine's cores.
Timings are never asserted in tests: the targets here are ratios and ceilings measured in the
same run, on the machine described beside the figures in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT / "tests"))

from report import Report, fmt  # noqa: E402
from scale_figures import Send, delivery_figures, latency_summary  # noqa: E402
from scale_server import (ServerUnderTest, connection_owners, cpu_seconds, load_average,  # noqa: E402
                          ActivityMonitor, other_activity, raise_open_file_limit, rss_mb)
from scale_setup import build_roster  # noqa: E402
from scale_sockets import Holders  # noqa: E402

DEFAULT_JSON = BENCH / "scale-results.json"
HOLDER_PROCESSES = 2
SEND_LANES = 48  # keep-alive connections the sends are spread over (each lands on some worker)
P99_CEILING_MS = 250.0
P99_RATIO_CEILING = 2.0
RSS_CEILING_MB = 200.0
SETTLE = 3.0  # seconds after a step of sockets opened, before its RSS is read


@dataclass(frozen=True)
class Size:
    conversations: int = 100
    per_conversation: int = 10
    rate: float = 100.0
    duration: float = 60.0
    warmup: float = 5.0
    idle_steps: tuple[int, ...] = (2500, 5000, 7500, 10000)
    baseline_steps: tuple[int, ...] = (1000, 2500)
    hold: float = 60.0
    heartbeat: float = 25.0


FULL = Size()
QUICK = Size(conversations=20, per_conversation=10, duration=10.0, warmup=2.0, idle_steps=(500, 1000, 2000),
             baseline_steps=(500,), hold=10.0)


# ----- figures and the table: bench/report.py ------------------------------------------


def at_most(value, ceiling):
    return None if value is None else value <= ceiling


# ----- the configurations -----------------------------------------------------------------

@dataclass(frozen=True)
class Config:
    label: str  # "1 worker", "4 workers + Redis", ...
    workers: int
    redis: bool
    postgres: bool = False


ONE = Config("1 worker", 1, False)
FOUR = Config("4 workers + Redis", 4, True)
FOUR_PG = Config("4 workers + Redis + PostgreSQL", 4, True, postgres=True)


class Services:
    """Redis and PostgreSQL for the run (tests/services.py), started on first use."""

    def __init__(self) -> None:
        self.redis = None
        self.postgres = None

    def redis_url(self) -> str:
        from services import RedisServer

        if self.redis is None:
            self.redis = RedisServer().start()
        return self.redis.url

    def redis_pid(self) -> int | None:
        proc = self.redis._proc.process if self.redis is not None else None
        return proc.pid if proc is not None else None

    def postgres_pid(self) -> int | None:
        proc = self.postgres._proc.process if self.postgres is not None else None
        return proc.pid if proc is not None else None

    def postgres_database(self) -> str:
        from services import PostgresServer

        if self.postgres is None:
            self.postgres = PostgresServer().start()
        return self.postgres.new_database()

    def close(self) -> None:
        if self.redis is not None:
            self.redis.close()
        if self.postgres is not None:
            self.postgres.close()


def start(config: Config, services: Services, tmp: Path, size: Size, name: str):
    """A fresh database with the roster, then serve.py on it: (server, roster)."""
    database = services.postgres_database() if config.postgres else str(tmp / f"{name}.sqlite3")
    roster = build_roster(database, trainers=max(1, size.conversations // 10),
                          trainees_per_trainer=min(10, size.conversations))
    server = ServerUnderTest(database, tmp / f"{name}.log", workers=config.workers,
                             redis_url=services.redis_url() if config.redis else None)
    return server, roster


def socket_specs(roster, first: int, last: int) -> list[tuple[int, int, str]]:
    """Sockets first..last-1: socket n opens conversation n mod C, as the trainer on even
    rounds and the trainee on odd ones (each conversation: half and half)."""
    conversations = roster.conversations
    specs = []
    for n in range(first, last):
        conversation = conversations[n % len(conversations)]
        token = conversation.trainer_token if (n // len(conversations)) % 2 == 0 else conversation.trainee_token
        specs.append((n, conversation.id, token))
    return specs


def cpu_of(pids: list[int]) -> dict[int, float | None]:
    return {pid: cpu_seconds(pid) for pid in pids}


def process_tree_cpu(pid: int) -> float:
    """CPU seconds of `pid` and its children (PostgreSQL's postmaster and its backends)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return sum(cpu_seconds(p) or 0.0 for p in [pid, *map(int, children)])


def cpu_share(before: dict, after: dict, seconds: float) -> dict[int, float | None]:
    """Per pid: CPU seconds over `seconds` of wall time, in % of one core."""
    return {pid: (after[pid] - before[pid]) / seconds * 100 if before.get(pid) is not None and after.get(pid)
            is not None else None for pid in before}


# ----- section: latency ---------------------------------------------------------------------

async def send_load(server: ServerUnderTest, roster, size: Size) -> dict:
    """Warm-up then the measured sends, on a fixed schedule (each send its own task, so a slow
    answer never delays the next send). Returns the sends and what the senders saw."""
    conversations = roster.conversations
    lanes = [httpx.AsyncClient(base_url=server.origin, timeout=60,
                               limits=httpx.Limits(max_connections=1, max_keepalive_connections=1))
             for _ in range(SEND_LANES)]
    warm = int(size.warmup * size.rate)
    total = warm + int(size.duration * size.rate)
    records: dict[int, dict] = {}
    owners: dict[int, int] = {}

    async def send(seq: int) -> None:
        conversation = conversations[seq % len(conversations)]
        token = conversation.trainer_token if (seq // len(conversations)) % 2 == 0 else conversation.trainee_token
        lane = lanes[seq % SEND_LANES]
        sent = time.time()
        record = records[seq] = {"conversation": conversation.id, "status": None, "port": None, "answer_ms": None}
        try:
            response = await lane.post(f"/api/messaging/conversations/{conversation.id}/send/",
                                       json={"content": f"{sent * 1000:.3f} {seq}"},
                                       headers={"Authorization": "Bearer " + token})
            record["status"] = response.status_code
            record["answer_ms"] = (time.time() - sent) * 1000
            stream = response.extensions.get("network_stream")
            address = stream.get_extra_info("client_addr") if stream is not None else None
            record["port"] = address[1] if address else None
        except httpx.HTTPError as exc:
            record["status"] = type(exc).__name__

    async def watch_owners(stop: asyncio.Event) -> None:
        while not stop.is_set():
            owners.update(await asyncio.to_thread(server.connection_owners))
            try:
                await asyncio.wait_for(stop.wait(), 2.0)
            except asyncio.TimeoutError:
                pass

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    watcher = asyncio.ensure_future(watch_owners(stop))
    tasks = []
    start = loop.time() + 0.2
    measured_from = measured_to = None
    cpu_from = None
    lag = 0.0
    for seq in range(total):
        due = start + seq / size.rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            lag = max(lag, -delay)
        if seq == warm:
            measured_from, cpu_from = time.monotonic(), time.process_time()
        tasks.append(asyncio.ensure_future(send(seq)))
    await asyncio.gather(*tasks)
    measured_to = time.monotonic()
    cpu_to = time.process_time()
    stop.set()
    await watcher
    owners.update(server.connection_owners())  # the lanes are still connected
    for lane in lanes:
        await lane.aclose()
    sends = {seq: Send(seq, r["conversation"], owners.get(r["port"]))
             for seq, r in records.items() if seq >= warm and r["status"] == 201}
    failures: dict[str, int] = {}
    for seq, r in records.items():
        if seq >= warm and r["status"] != 201:
            failures[str(r["status"])] = failures.get(str(r["status"]), 0) + 1
    wall = measured_to - measured_from
    return {"sends": sends, "failures": failures, "attempted": total - warm,
            "rate": (total - warm) / (size.duration or 1), "wall": wall, "schedule_lag_ms": lag * 1000,
            "answer": latency_summary([r["answer_ms"] for s, r in records.items()
                                       if s >= warm and r["answer_ms"] is not None]),
            "sender_cpu": (cpu_to - cpu_from) / wall * 100 if wall else None}


def wait_quiet(holders: Holders, limit: float = 20.0) -> None:
    """Until the sockets have received no new message for 2 s (the last deliveries are in)."""
    deadline = time.monotonic() + limit
    last = holders.stats()["messages"]
    quiet_since = time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - quiet_since < 2.0:
        time.sleep(0.5)
        messages = holders.stats()["messages"]
        if messages != last:
            last, quiet_since = messages, time.monotonic()


def latency_run(config: Config, services: Services, tmp: Path, size: Size) -> dict:
    name = "latency-" + config.label.split()[0] + ("-pg" if config.postgres else "")
    server, roster = start(config, services, tmp, size, name)
    holders = Holders(HOLDER_PROCESSES, tmp / f"{name}-clients.log", heartbeat=size.heartbeat)
    try:
        count = size.conversations * size.per_conversation
        specs = socket_specs(roster, 0, count)
        opened = holders.open(server.origin.replace("http", "ws"), server.origin, specs)
        owners = server.connection_owners()
        socket_conversation = {n: c for n, c, _ in specs if n in opened["ports"]}
        socket_worker = {n: owners.get(port) for n, port in opened["ports"].items()}
        time.sleep(2.0)
        pids = server.worker_pids()
        redis_pid = services.redis_pid() if config.redis else None
        postgres_pid = services.postgres_pid() if config.postgres else None
        watched = pids + ([redis_pid] if redis_pid else [])
        load_before = load_average()
        cpu_before, clients_before = cpu_of(watched), holders.stats()["cpu"]
        postgres_before = process_tree_cpu(postgres_pid) if postgres_pid else None
        load = asyncio.run(send_load(server, roster, size))
        cpu_after, clients_after = cpu_of(watched), holders.stats()["cpu"]
        postgres_after = process_tree_cpu(postgres_pid) if postgres_pid else None
        wait_quiet(holders)
        stats = holders.stats()
        figures = delivery_figures(load["sends"], holders.receipts(), socket_conversation, socket_worker)
        shares = cpu_share(cpu_before, cpu_after, load["wall"])
        per_worker_sockets = {pid: sum(1 for w in socket_worker.values() if w == pid) for pid in pids}
        return {
            "config": config.label, "sockets": len(opened["ports"]), "open_failures": opened["failed"],
            "sockets_per_worker": per_worker_sockets, "figures": figures, "send_failures": load["failures"],
            "attempted": load["attempted"], "rate": load["rate"], "schedule_lag_ms": load["schedule_lag_ms"],
            "answer": load["answer"], "closed_during_run": stats["closed"],
            "cpu": {"workers": [shares[pid] for pid in pids], "redis": shares.get(redis_pid) if redis_pid else None,
                    "postgres": (postgres_after - postgres_before) / load["wall"] * 100 if postgres_pid else None,
                    "sender": load["sender_cpu"],
                    "clients": [(a - b) / load["wall"] * 100 for a, b in zip(clients_after, clients_before)]},
            "load_average": [load_before, load_average()],
        }
    finally:
        holders.close()
        server.stop()


def section_latency(report: Report, services: Services, tmp: Path, size: Size, configs: list[Config]) -> list[dict]:
    runs = []
    for config in configs:
        print(f"[latency: {config.label}]", flush=True)
        runs.append(latency_run(config, services, tmp, size))
        report_latency(report, runs[-1], size)
    base = next((r for r in runs if r["config"] == ONE.label), None)
    for run in runs:
        if run is base:
            continue
        crossed = run["figures"]["crossed"]["p99"]
        ratio = crossed / base["figures"]["all"]["p99"] if base and crossed and base["figures"]["all"]["p99"] else None
        report.add("latency", f"{run['config']}: crossed p99 / 1 worker p99", ratio, "x",
                   target=f"<= {P99_RATIO_CEILING:.2f}x", passed=at_most(ratio, P99_RATIO_CEILING))
        if base:
            report.add("latency", f"{run['config']}: server CPU / 1 worker's", server_cpu(run) / server_cpu(base)
                       if server_cpu(base) else None, "x", note="the same load; Redis and PostgreSQL included")
    return runs


def server_cpu(run: dict) -> float:
    """Workers + Redis + PostgreSQL: what serving the load cost, in % of one core."""
    cpu = run["cpu"]
    return (sum(v for v in cpu["workers"] if v is not None) + (cpu["redis"] or 0) + (cpu.get("postgres") or 0))


def report_latency(report: Report, run: dict, size: Size) -> None:
    label, figures = run["config"], run["figures"]
    s = "latency"
    report.add(s, f"{label}: sockets open (conversations x sockets)", run["sockets"], "",
               note=f"{size.conversations} x {size.per_conversation}"
               + (f"; failed {run['open_failures']}" if run["open_failures"] else ""))
    report.add(s, f"{label}: sends answered 201, per second", figures["sends"] / size.duration, "/s", note=f"{figures['sends']} of {run['attempted']}"
               + (f"; failed {run['send_failures']}" if run["send_failures"] else ""))
    report.add(s, f"{label}: delivery p50", figures["all"]["p50"], "ms", note=f"{figures['received']} deliveries")
    report.add(s, f"{label}: delivery p99", figures["all"]["p99"], "ms")
    report.add(s, f"{label}: delivery max", figures["all"]["max"], "ms",
               note=f"{figures['all']['late_share'] * 100:.2f}% over 250 ms" if figures["all"]["count"] else "")
    if run["sockets_per_worker"] and len(run["sockets_per_worker"]) > 1:
        share = figures["crossed_share"]
        report.add(s, f"{label}: deliveries that crossed workers", share * 100 if share is not None else None, "%",
                   note="sockets per worker " + "/".join(str(v) for v in run["sockets_per_worker"].values()))
        report.add(s, f"{label}: crossed delivery p50", figures["crossed"]["p50"], "ms")
        report.add(s, f"{label}: crossed delivery p99", figures["crossed"]["p99"], "ms",
                   target=f"<= {P99_CEILING_MS:.0f} ms", passed=at_most(figures["crossed"]["p99"], P99_CEILING_MS))
        report.add(s, f"{label}: same-worker delivery p99", figures["same"]["p99"], "ms")
    extra = [f"{k} {figures[k]}" for k in ("duplicates", "misrouted") if figures[k]]
    if run["closed_during_run"]:
        extra.append(f"sockets closed {run['closed_during_run']}")
    report.add(s, f"{label}: deliveries lost", figures["lost"], "", note=f"of {figures['expected']}; "
               + ("; ".join(extra) if extra else "no duplicates, none misrouted"),
               target="== 0", passed=figures["lost"] == 0 and not figures["duplicates"] and not figures["misrouted"])
    report.add(s, f"{label}: send answered (POST) p99", run["answer"]["p99"], "ms",
               note=f"p50 {fmt(run['answer']['p50'], 'ms')}")
    cpu = run["cpu"]
    workers = "/".join(f"{v:.0f}" for v in cpu["workers"] if v is not None)
    note = (f"per worker {workers}%" + (f"; Redis {cpu['redis']:.0f}%" if cpu["redis"] is not None else "")
            + (f"; PostgreSQL {cpu['postgres']:.0f}%" if cpu.get("postgres") is not None else ""))
    report.add(s, f"{label}: server CPU, % of one core", server_cpu(run), "%", note=note)
    report.add(s, f"{label}: client CPU (sender + 2 socket processes)", (cpu["sender"] or 0) + sum(cpu["clients"]),
               "%", note=f"sender {cpu['sender']:.0f}%, sockets " + "/".join(f"{v:.0f}" for v in cpu["clients"]) + "%"
               f"; sender late by at most {run['schedule_lag_ms']:.0f} ms"
               f"; load {run['load_average'][0]:.1f} -> {run['load_average'][1]:.1f}")


# ----- section: idle ------------------------------------------------------------------------

def idle_run(config: Config, services: Services, tmp: Path, size: Size, steps: tuple[int, ...], hold: float,
             *, deflate: bool = True) -> dict:
    name = "idle-" + config.label.split()[0] + ("" if deflate else "-plain")
    server, roster = start(config, services, tmp, size, name)
    holders = Holders(HOLDER_PROCESSES, tmp / f"{name}-clients.log", heartbeat=size.heartbeat, deflate=deflate)
    redis_pid = services.redis_pid() if config.redis else None
    try:
        pids = server.worker_pids()
        time.sleep(SETTLE)
        ladder = [{"sockets": 0, "rss": [rss_mb(pid) for pid in pids], "per_worker": [0] * len(pids),
                   "redis_rss": rss_mb(redis_pid) if redis_pid else None}]
        failed: dict[str, int] = {}
        opened = 0
        for step in steps:
            began = time.monotonic()
            answer = holders.open(server.origin.replace("http", "ws"), server.origin,
                                  socket_specs(roster, opened, step))
            took = time.monotonic() - began
            for key, n in answer["failed"].items():
                failed[key] = failed.get(key, 0) + n
            opened = step
            time.sleep(SETTLE)
            owners = connection_owners(pids, server.port)
            ladder.append({"sockets": holders.stats()["open"], "rss": [rss_mb(pid) for pid in pids],
                           "per_worker": [sum(1 for w in owners.values() if w == pid) for pid in pids],
                           "redis_rss": rss_mb(redis_pid) if redis_pid else None, "open_seconds": took,
                           "load": load_average()})
            print(f"  {ladder[-1]['sockets']} sockets open ({took:.1f} s); RSS per worker (MB) "
                  + " ".join(f"{v:.0f}" for v in ladder[-1]["rss"]), flush=True)
        before = holders.stats()
        cpu_before = cpu_of(pids)
        samples = []
        ends = time.monotonic() + hold
        while time.monotonic() < ends:
            time.sleep(min(5.0, max(0.0, ends - time.monotonic())))
            samples.append([rss_mb(pid) for pid in pids])
        after = holders.stats()
        cpu = cpu_share(cpu_before, cpu_of(pids), hold)
        return {"config": config.label, "deflate": deflate, "steps": ladder, "open_failures": failed,
                "hold_rss": samples, "pings": after["pings"] - before["pings"],
                "pongs": after["pongs"] - before["pongs"], "open_after_hold": after["open"], "closed": after["closed"],
                "cpu_hold": [cpu[pid] for pid in pids], "client_rss_mb": after["rss_mb"], "load": load_average()}
    finally:
        holders.close()
        server.stop()


def per_socket_kb(run: dict) -> float | None:
    """Mean over workers of (RSS at the last step - RSS at 0) / that worker's sockets."""
    first, last = run["steps"][0], run["steps"][-1]
    values = [(b - a) * 1024 / n for a, b, n in zip(first["rss"], last["rss"], last["per_worker"])
              if a is not None and b is not None and n]
    return sum(values) / len(values) if values else None


def section_idle(report: Report, services: Services, tmp: Path, size: Size) -> list[dict]:
    s = "idle"
    print(f"[idle: {FOUR.label}]", flush=True)
    run = idle_run(FOUR, services, tmp, size, size.idle_steps, size.hold)
    for step in run["steps"]:
        rss = [v for v in step["rss"] if v is not None]
        report.add(s, f"4 workers: {step['sockets']:,} sockets, RSS per worker (max)", max(rss) if rss else None, "MB",
                   note="workers " + "/".join(f"{v:.0f}" for v in rss) + " MB; sockets "
                   + "/".join(str(n) for n in step["per_worker"])
                   + (f"; Redis {step['redis_rss']:.0f} MB" if step.get("redis_rss") else ""))
    peak = max((v for sample in run["hold_rss"] for v in sample if v is not None), default=None)
    last = run["steps"][-1]
    report.add(s, f"4 workers: RSS per worker, max over the {size.hold:.0f} s hold", peak, "MB",
               target=f"< {RSS_CEILING_MB:.0f} MB", passed=None if peak is None else peak < RSS_CEILING_MB,
               note=f"{last['sockets']:,} sockets, at most {max(last['per_worker']):,} on one worker"
               + (f"; failed to open {run['open_failures']}" if run["open_failures"] else ""))
    report.add(s, "4 workers: memory per socket", per_socket_kb(run), "KB",
               note="(RSS at the last step - at 0) / that worker's sockets, mean of the workers")
    report.add(s, "4 workers: sockets still open after the hold", run["open_after_hold"], "",
               target=f"== {last['sockets']:,}", passed=run["open_after_hold"] == last["sockets"] and not run["closed"],
               note=f"heartbeats answered {run['pongs']}/{run['pings']}"
               + (f"; closed {run['closed']}" if run["closed"] else ""))
    report.add(s, "4 workers: server CPU while idle, % of one core", sum(v for v in run["cpu_hold"] if v is not None),
               "%", note="per worker " + "/".join(f"{v:.0f}" for v in run["cpu_hold"] if v is not None) + "%")
    runs = [run]
    for deflate in (True, False):
        label = ONE.label + ("" if deflate else ", sockets without permessage-deflate")
        print(f"[idle: {label}]", flush=True)
        base = idle_run(ONE, services, tmp, size, size.baseline_steps, min(size.hold, 10.0), deflate=deflate)
        runs.append(base)
        for step in base["steps"][1:]:
            report.add(s, f"{label}: {step['sockets']:,} sockets, RSS", step["rss"][0], "MB",
                       note=f"at 0 sockets {base['steps'][0]['rss'][0]:.0f} MB")
        report.add(s, f"{label}: memory per socket", per_socket_kb(base), "KB",
                   note="no Redis; one worker takes at most 4,096 connections (limit_concurrency)" if deflate else
                   "what the server's permessage-deflate state costs: the difference")
    four, one, plain = (per_socket_kb(r) for r in runs)
    report.add(s, "memory per socket: 4 workers + Redis / 1 worker", four / one if four and one else None, "x")
    if plain and last["per_worker"]:
        base_rss = max(v for v in run["steps"][0]["rss"] if v is not None)
        projected = base_rss + max(last["per_worker"]) * plain / 1024
        report.add(s, "4 workers: projected max RSS per worker without permessage-deflate", projected, "MB",
                   note=f"RSS at 0 + {max(last['per_worker']):,} sockets x {plain:.0f} KB")
    return runs


# ----- main -----------------------------------------------------------------------------------

def commit() -> str:
    """HEAD, marked "+changes" when server/ or serve.py differ from it (what the servers run)."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    changed = subprocess.run(["git", "status", "--porcelain", "--", "server", "serve.py"], cwd=ROOT,
                             capture_output=True, text=True)
    return head.stdout.strip() + ("+changes" if changed.stdout.strip() else "")


SECTIONS = ["latency", "idle"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small and short (development; checks it runs)")
    parser.add_argument("--only", help="comma-separated sections: " + ",".join(SECTIONS))
    parser.add_argument("--postgres", action="store_true",
                        help="also the latency section against 4 workers + Redis + PostgreSQL")
    parser.add_argument("--rate", type=float, help="latency: sends per second (default 100)")
    parser.add_argument("--duration", type=float, help="latency: measured seconds (default 60, quick 10)")
    parser.add_argument("--conversations", type=int, help="latency: conversations (default 100, quick 20)")
    parser.add_argument("--per-conversation", type=int, help="latency: sockets per conversation (default 10)")
    parser.add_argument("--json", type=Path, help=f"write the rows and raw figures here (default for a full run: "
                                                  f"{DEFAULT_JSON.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    size = QUICK if args.quick else FULL
    overrides = {name: getattr(args, name) for name in ("rate", "duration", "conversations", "per_conversation")
                 if getattr(args, name) is not None}
    size = dataclasses.replace(size, **overrides)
    sections = args.only.split(",") if args.only else SECTIONS
    out = args.json or (None if args.quick else DEFAULT_JSON)
    fd_limit = raise_open_file_limit()
    started = datetime.datetime.now(datetime.timezone.utc)
    report = Report(name_width=60, value_width=12)
    raw: dict = {}
    failed = []
    code = commit()  # the servers started during the run load the tree as it is now
    machine = {"cores": os.cpu_count(), "open_files": fd_limit, "load_start": load_average(),
               "beside_start": other_activity()}
    print(f"scale bench at {code}: {machine}", flush=True)
    services = Services()
    monitor = ActivityMonitor()
    try:
        with tempfile.TemporaryDirectory(prefix="scale-bench-") as tmp:
            for name in sections:
                try:
                    if name == "latency":
                        configs = [ONE, FOUR] + ([FOUR_PG] if args.postgres else [])
                        raw["latency"] = section_latency(report, services, Path(tmp), size, configs)
                    elif name == "idle":
                        raw["idle"] = section_idle(report, services, Path(tmp), size)
                    else:
                        raise ValueError(f"no section {name!r}")
                except Exception:  # one broken section must not hide the other's figures
                    traceback.print_exc()
                    failed.append(name)
    finally:
        services.close()
        machine["during"] = monitor.stop()
    machine.update(load_end=load_average(), beside_end=other_activity(),
                   ended=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))
    print()
    print(report.table())
    print(f"\nmachine: {machine}")
    if out:
        out.write_text(json.dumps({
            "started": started.isoformat(timespec="seconds"), "commit": code, "machine": machine,
            "quick": args.quick, "size": asdict(size), "rows": [asdict(r) for r in report.rows], "raw": raw,
        }, indent=1, default=str))
        print(f"\nwritten to {out}")
    if failed:
        print("sections that did not finish: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
