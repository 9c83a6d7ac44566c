"""Issue 11, "What must be true" 4: the server under load and abuse at once (slow suite).

1,000 sockets across 100 users and 50 conversations (10 sockets per user), messages flowing
in every conversation, while one client floods typing frames, others send oversized frames
and 200 wrong logins arrive at once. Reports the server's peak memory, the p99 delivery
latency (REST send -> frame on every socket of the conversation) and checks that no
well-behaved socket was dropped and each got every message of its conversation.
"""

import asyncio
import json
import shutil
import time

import httpx
import pytest
import websockets

from server.app import close_context, open_context
from server.passwords import hash_password

pytestmark = pytest.mark.slow

USERS, CONVERSATIONS, SOCKETS_PER_USER, MESSAGES_PER_CONVERSATION = 100, 50, 10, 8


def _peak_rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _prepare(db):
    """50 trainers and 50 trainees, one conversation each pair, written before the server starts."""
    async def prepare() -> list:
        ctx = await open_context(db, demo=True)
        pairs = []
        password = hash_password("load-pass")
        for i in range(CONVERSATIONS):
            trainer = await ctx.store.create_user(f"t{i}@load.example", password, "T", str(i), "TRAINER")
            trainee = await ctx.store.create_user(f"p{i}@load.example", password, "P", str(i), "TRAINEE")
            cid = await ctx.store.create_conversation(trainer, trainee, False, "2026-11-30T00:00:00.000000Z")
            pairs.append((cid, f"t{i}@load.example", f"p{i}@load.example"))
        await close_context(ctx)
        return pairs

    return asyncio.run(prepare())


def test_1000_sockets_with_abuse_alongside(live_server, tmp_path, demo_db_template):
    db = tmp_path / "load" / "messaging.sqlite3"
    db.parent.mkdir()
    shutil.copy(demo_db_template, db)
    pairs = _prepare(db)
    server = live_server(db=db)
    pid = server.proc.pid
    figures = asyncio.run(_run(server, pairs))
    figures["peak_rss_mb"] = _peak_rss_mb(pid)
    print("FIGURE load: " + " ".join(f"{k}={v}" for k, v in figures.items()))
    assert figures["dropped_well_behaved"] == 0
    assert figures["missing_deliveries"] == 0
    assert figures["flooder_closed_with"] == 1008
    assert figures["oversized_closed_with"] == [1009] * 5


async def _run(server, pairs):
    limits = httpx.Limits(max_connections=300)
    async with httpx.AsyncClient(base_url=server.origin, limits=limits, timeout=120) as http:
        tokens = {}
        for email in [e for _, t, p in pairs for e in (t, p)]:
            answer = await http.post("/api/auth/jwt/create/", json={"email": email, "password": "load-pass"})
            assert answer.status_code == 200, answer.text
            tokens[email] = answer.json()["access"]

        url = server.ws_origin + "/ws/messaging/{}/?token={}"
        received: dict[int, dict[str, float]] = {}  # socket index -> content -> arrival time
        sockets = []  # (index, cid, websocket)
        closed_early = []

        async def reader(index, ws):
            got = received.setdefault(index, {})
            try:
                async for raw in ws:
                    frame = json.loads(raw)
                    if frame["type"] == "new_message":
                        got[frame["message"]["content"]] = time.time()
            except websockets.ConnectionClosed:
                pass
            closed_early.append(index)

        connect_started = time.time()
        for cid, trainer, trainee in pairs:
            for email in (trainer, trainee):
                for _ in range(SOCKETS_PER_USER):
                    ws = await websockets.connect(url.format(cid, tokens[email]), origin=server.origin,
                                                  open_timeout=60, ping_interval=None)
                    sockets.append((len(sockets), cid, ws))
        connect_seconds = time.time() - connect_started
        readers = [asyncio.ensure_future(reader(i, ws)) for i, _, ws in sockets]
        assert len(sockets) == USERS * SOCKETS_PER_USER

        # The abusers: a typing flooder in conversation 1, five oversized frames, 200 wrong logins.
        cid0, trainer0, _ = pairs[0]
        flooder = await websockets.connect(url.format(cid0, tokens[trainer0]), origin=server.origin,
                                           ping_interval=None)
        oversized = [await websockets.connect(url.format(pairs[i][0], tokens[pairs[i][2]]), origin=server.origin,
                                              ping_interval=None, max_size=None) for i in range(1, 6)]

        async def flood():
            frame = json.dumps({"type": "typing", "is_typing": True})
            try:
                for _ in range(5000):
                    await flooder.send(frame)
            except websockets.ConnectionClosed:
                pass

        async def too_big(ws):
            try:
                await ws.send("x" * (70 * 1024))
                await asyncio.wait_for(ws.recv(), 10)
            except websockets.ConnectionClosed as exc:
                return exc.rcvd.code if exc.rcvd else None
            return None

        flood_over = [float("inf")]

        async def wrong_logins():
            answers = await asyncio.gather(*(http.post("/api/auth/jwt/create/", json={
                "email": f"t{i % CONVERSATIONS}@load.example", "password": "nope"}) for i in range(200)))
            flood_over[0] = time.time()
            return sorted({a.status_code for a in answers})

        sent_at: dict[str, float] = {}

        async def talk(cid, trainer, trainee):
            for n in range(MESSAGES_PER_CONVERSATION):
                if n == MESSAGES_PER_CONVERSATION // 2:  # the second half once the login flood is over
                    while flood_over[0] == float("inf"):
                        await asyncio.sleep(0.1)
                sender = trainer if n % 2 == 0 else trainee
                content = f"c{cid} m{n}"
                sent_at[content] = time.time()
                answer = await http.post(f"/api/messaging/conversations/{cid}/send/", json={"content": content},
                                         headers={"Authorization": "Bearer " + tokens[sender]})
                assert answer.status_code == 201, answer.text
                await asyncio.sleep(0.2)

        started = time.time()
        results = await asyncio.gather(flood(), wrong_logins(), *(too_big(ws) for ws in oversized),
                                       *(talk(*pair) for pair in pairs))
        login_codes, oversized_codes = results[1], list(results[2:7])
        await asyncio.sleep(3)  # let the last frames arrive
        flooder_code = None
        try:
            await asyncio.wait_for(flooder.recv(), 5)
        except websockets.ConnectionClosed as exc:
            flooder_code = exc.rcvd.code if exc.rcvd else None
        except asyncio.TimeoutError:
            flooder_code = "open"

        latencies, after_logins, missing = [], [], 0
        for index, cid, _ in sockets:
            got = received.get(index, {})
            for n in range(MESSAGES_PER_CONVERSATION):
                content = f"c{cid} m{n}"
                if content in got:
                    latencies.append(got[content] - sent_at[content])
                    if sent_at[content] > flood_over[0]:
                        after_logins.append(latencies[-1])
                else:
                    missing += 1
        after_logins.sort()
        dropped = sum(1 for _, _, ws in sockets if ws.state != websockets.protocol.State.OPEN)
        for _, _, ws in sockets:
            await ws.close()
        for task in readers:
            task.cancel()
        latencies.sort()
        p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else float("nan")
        return {
            "sockets": len(sockets), "users": USERS, "conversations": CONVERSATIONS,
            "messages": len(sent_at), "deliveries": len(latencies), "missing_deliveries": missing,
            "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1) if latencies else None,
            "p99_ms": round(p99 * 1000, 1), "max_ms": round(latencies[-1] * 1000, 1) if latencies else None,
            "login_flood_s": round(flood_over[0] - started, 1),
            "p99_ms_after_login_flood": round(after_logins[int(len(after_logins) * 0.99) - 1] * 1000, 1)
            if after_logins else None,
            "dropped_well_behaved": dropped, "flooder_closed_with": flooder_code,
            "oversized_closed_with": oversized_codes, "wrong_login_codes": login_codes,
            "connect_s": round(connect_seconds, 1), "traffic_s": round(time.time() - started, 1),
        }
