"""Many tabs and many clients.

Two tabs on the same conversation both stay live. Then N raw WebSocket clients (the Python
`websockets` asyncio client, as a browser would behave: reconnect with a short jittered
backoff) lose their server to SIGKILL; after the restart all of them reconnect and receive
a message sent after the restart ("converged"). The figure is the time from the restarted
server being healthy to the last client having that message.
"""

import asyncio
import json
import random
import threading
import time
import uuid

import pytest
import websockets

from e2e_harness import Peer, Server, login, open_conversation
from reliability_support import arm, csp_violations, token_for, wait_until


def test_two_tabs_on_one_conversation_both_stay_live(context, server, fresh_conversation):
    from e2e_harness import PageWatch
    conv, peer = fresh_conversation(messages=2)
    cid = conv["id"]
    tabs = []
    for _ in range(2):
        tab = context.new_page()
        tab.watch = PageWatch(tab)
        arm(tab)
        tabs.append(tab)
    login(tabs[0], server)
    open_conversation(tabs[0], cid)
    tabs[1].goto(server.origin + "/")  # same context: already logged in
    tabs[1].wait_for_selector("body[data-app-state=messages]", state="attached", timeout=60_000)
    open_conversation(tabs[1], cid)
    wait_until(lambda: server.open_sockets(cid) == 2, timeout=20, what="two open sockets")
    for n in range(3):
        text = f"to both tabs {n} {uuid.uuid4().hex[:6]}"
        peer.send(cid, text)
        for tab in tabs:
            tab.locator("[data-testid=message]", has_text=text).wait_for(timeout=15_000)
    counts = [tab.locator("[data-testid=message]", has_text="to both tabs").count() for tab in tabs]
    print(f"FIGURE two_tabs: tabs=2 open_sockets={server.open_sockets(cid)} received={counts}")
    assert counts == [3, 3]
    assert server.open_sockets(cid) == 2
    for tab in tabs:
        assert tab.get_attribute("[data-testid=chat-view]", "data-ws-state") == "connected"
        assert csp_violations(tab) == []


async def _client(index, url, origin, phase, results):
    """Connect, read; on a close, reconnect with a jittered backoff; record when the marker arrives."""
    rng = random.Random(index)
    delay = 0.1
    while not phase["done"]:
        try:
            async with websockets.connect(url, origin=origin, open_timeout=10, close_timeout=1) as ws:
                delay = 0.1
                phase["connected"].add(index)
                async for raw in ws:
                    frame = json.loads(raw)
                    if frame.get("type") == "new_message" and frame["message"]["content"] == phase["marker"]:
                        results[index] = time.time()
                        phase["connected"].discard(index)
                        return
        except (OSError, websockets.WebSocketException, asyncio.TimeoutError):
            pass
        phase["connected"].discard(index)
        await asyncio.sleep(delay + rng.uniform(0, delay))
        delay = min(delay * 2, 2.0)


def run_many_clients(tmp_path, clients):
    srv = Server(tmp_path).start()
    loop_thread = None
    try:
        email = f"many{uuid.uuid4().hex[:8]}@example.com"
        conv = srv.fault("conversation", trainer_email="coach@example.com", trainee_email=email, messages=1)
        cid = conv["id"]
        access = token_for(srv.origin, "coach@example.com")["access"]  # 5 minutes: long enough
        url = f"ws://127.0.0.1:{srv.port}/ws/messaging/{cid}/?token={access}"
        phase = {"done": False, "connected": set(), "marker": "after restart " + uuid.uuid4().hex}
        results = {}

        loop = asyncio.new_event_loop()

        async def main():
            await asyncio.gather(*(_client(i, url, srv.origin, phase, results) for i in range(clients)))

        loop_thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
        loop_thread.start()
        wait_until(lambda: srv.open_sockets(cid) == clients, timeout=60, interval=0.2, what="all clients connected")
        before = srv.open_sockets(cid)

        srv.kill()
        srv.start()
        healthy = time.time()
        wait_until(lambda: srv.open_sockets(cid) == clients, timeout=120, interval=0.1, what="all clients back")
        reconnected = time.time() - healthy
        peer = Peer(srv, email)
        peer.send(cid, phase["marker"])
        wait_until(lambda: len(results) == clients, timeout=60, interval=0.1, what="every client got the message")
        converged = max(results.values()) - healthy
        phase["done"] = True
        print(f"FIGURE many_clients: clients={clients} open_before={before} reconnected_all_s={reconnected:.2f} "
              f"converged_all_s={converged:.2f} got_marker={len(results)}")
        assert before == clients and len(results) == clients
        assert access not in srv.log_text()
        peer.close()
    finally:
        if loop_thread is not None:
            phase["done"] = True
        srv.stop()


def test_many_clients_reconnect_after_restart_short(tmp_path):
    run_many_clients(tmp_path, 50)


@pytest.mark.slow
def test_200_clients_reconnect_after_restart(tmp_path):
    run_many_clients(tmp_path, 200)
