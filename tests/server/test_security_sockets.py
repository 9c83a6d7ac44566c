"""Issue 11 items 4 and 5: a typing flood never drops the other party's socket; per-user
socket, frame and send limits answer with a clear close code or 429; uploads have a quota;
slow requests are cut off."""

import asyncio
import dataclasses
import json
import socket
import time

import image_samples
import pytest
import websockets
from server_harness import bearer, login
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from server import images
from server.context import Limits
from server.realtime.hub import MAX_BACKLOG, Connection, Hub
from server.realtime.ws_frames import TypingThrottle


def limited(make_app, **changes):
    return TestClient(make_app(limits=dataclasses.replace(Limits(), **changes)))


def ws_url(cid, token):
    return f"/ws/messaging/{cid}/?token={token}"


# --- the outbox: typing is coalesced, never crowds out a message ------------------------------------

class StuckSocket:
    def __init__(self):
        self.sent = []

    async def send_text(self, data):
        self.sent.append(data)

    async def close(self, code=1000, reason=None):
        pass


def test_typing_never_fills_the_outbox_and_the_latest_state_wins():
    async def main():
        hub = Hub()
        conn = Connection(StuckSocket(), 1, user_id=2)
        hub.join(conn)
        for i in range(5000):
            hub.typing(1, 1, {"type": "typing_indicator", "user_id": 1, "is_typing": i % 2 == 0})
        hub.broadcast(1, {"type": "new_message"})
        assert not conn.finished.is_set() and conn.backlog() == 1
        writer = asyncio.ensure_future(conn.run_writer())
        await asyncio.sleep(0.01)
        writer.cancel()
        return conn.socket.sent

    sent = asyncio.run(main())
    assert json.loads(sent[0]) == {"type": "new_message"}  # messages first
    assert [json.loads(s)["is_typing"] for s in sent[1:]] == [False]  # one coalesced, the latest


def test_a_full_outbox_of_messages_still_drops_that_socket():
    async def main():
        conn = Connection(StuckSocket(), 1, user_id=2)
        for i in range(MAX_BACKLOG + 1):
            conn.send_text(str(i))
        return conn.finished.is_set()
    assert asyncio.run(main())


def test_typing_throttle_relays_at_most_once_per_interval_and_keeps_the_last_word():
    throttle = TypingThrottle(0.25)
    on, off = {"is_typing": True}, {"is_typing": False}
    assert throttle.offer(on, 10.0) == (on, None)
    assert throttle.offer(off, 10.05) == (None, pytest.approx(0.2))
    assert throttle.offer(on, 10.1) == (None, None)  # coalesced into the pending one
    assert throttle.offer(off, 10.2) == (None, None)
    assert throttle.flush(10.25) == off
    assert throttle.offer(on, 10.6) == (on, None)


# --- per-socket and per-user limits (in process) ------------------------------------------------------

def test_sockets_over_the_per_user_cap_close_with_1013(make_app):
    with limited(make_app, max_sockets_per_user=3) as client:
        coach = login(client)["access"]
        alex = login(client, "alex@example.com")["access"]
        with client.websocket_connect(ws_url(1, coach)), client.websocket_connect(ws_url(1, coach)), \
                client.websocket_connect(ws_url(2, coach)):
            with pytest.raises(WebSocketDisconnect) as closed:
                with client.websocket_connect(ws_url(1, coach)) as fourth:
                    fourth.send_json({"type": "ping"})
                    fourth.receive_json()  # a pong if the cap did not hold
            assert closed.value.code == 1013
            with client.websocket_connect(ws_url(1, alex)) as other_user:  # the cap is per user
                other_user.send_json({"type": "ping"})
                assert other_user.receive_json() == {"type": "pong"}
        with client.websocket_connect(ws_url(1, coach)) as again:  # freed when they closed
            again.send_json({"type": "ping"})
            assert again.receive_json() == {"type": "pong"}


def test_a_client_over_its_frame_budget_is_closed_with_1008(make_app):
    with limited(make_app, frame_burst=20, frame_rate=0.001) as client:
        coach = login(client)["access"]
        with client.websocket_connect(ws_url(1, coach)) as socket:
            for _ in range(25):
                socket.send_json({"type": "ping"})
            pongs = 0
            with pytest.raises(WebSocketDisconnect) as closed:
                while True:
                    assert socket.receive_json() == {"type": "pong"}
                    pongs += 1
            assert closed.value.code == 1008 and pongs == 20


def test_sends_over_the_rate_are_429_with_retry_after(make_app, clock):
    with limited(make_app, send_burst=5, send_rate=1.0) as client:
        coach = login(client)
        url = "/api/messaging/conversations/2/send/"
        codes = [client.post(url, json={"content": f"m{i}"}, headers=bearer(coach)).status_code for i in range(7)]
        assert codes == [201] * 5 + [429] * 2
        answer = client.post(url, json={"content": "x"}, headers=bearer(coach))
        assert answer.status_code == 429 and int(answer.headers["retry-after"]) >= 1
        clock.advance(2)
        assert client.post(url, json={"content": "later"}, headers=bearer(coach)).status_code == 201
        alex = login(client, "alex@example.com")  # per user
        assert client.post("/api/messaging/conversations/1/send/", json={"content": "hi"},
                           headers=bearer(alex)).status_code == 201


def test_uploads_over_the_daily_quota_are_429(make_app, clock):
    picture = image_samples.png(64, 64)
    stored = len(images.clean_image(picture).data)  # the quota counts the bytes kept on disk
    with limited(make_app, upload_quota_bytes=3 * stored) as client:
        def upload():
            return client.post("/api/messaging/conversations/2/send/", data={"content": ""},
                               files={"image": ("a.png", picture, "image/png")},
                               headers=bearer(login(client))).status_code

        assert [upload() for _ in range(4)] == [201, 201, 201, 429]
        clock.advance(86401)
        assert upload() == 201


# --- the real server ----------------------------------------------------------------------------------

def test_a_typing_flood_never_drops_the_other_partys_socket(live_server):
    server = live_server()
    coach, alex = server.login()["access"], server.login("alex@example.com")["access"]

    async def main():
        url = server.ws_origin + "/ws/messaging/1/?token="
        async with websockets.connect(url + alex, origin=server.origin) as victim, \
                websockets.connect(url + coach, origin=server.origin, max_queue=None) as flooder:
            flood = json.dumps({"type": "typing", "is_typing": True})
            for i in range(2000):  # the victim reads nothing meanwhile
                await flooder.send(flood if i % 2 else flood.replace("true", "false"))
            await asyncio.sleep(1.0)
            await victim.send(json.dumps({"type": "ping"}))
            frames = []
            while True:
                frame = json.loads(await asyncio.wait_for(victim.recv(), 5))
                frames.append(frame)
                if frame["type"] == "pong":
                    break
            flooder_code = None
            try:
                await asyncio.wait_for(flooder.recv(), 5)
            except websockets.ConnectionClosed as exc:
                flooder_code = exc.rcvd.code if exc.rcvd else None
            return frames, flooder_code

    frames, flooder_code = asyncio.run(main())
    typing = [f for f in frames if f["type"] == "typing_indicator"]
    print(f"FIGURE typing_flood: 2000 frames sent, victim got {len(typing)} indicators then its pong; "
          f"flooder closed with {flooder_code}")
    assert frames[-1] == {"type": "pong"}  # the victim's socket is alive
    assert len(typing) <= 20
    assert flooder_code == 1008


def test_half_sent_requests_are_cut_off(live_server):
    server = live_server("--header-timeout", "1", "--body-timeout", "1")

    def closed_after(payload: bytes) -> float:
        with socket.create_connection(("127.0.0.1", server.port)) as raw:
            raw.settimeout(10)
            raw.sendall(payload)
            started = time.time()
            while raw.recv(4096):
                pass
            return time.time() - started

    assert closed_after(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ") < 3  # headers never end
    assert closed_after(b"") < 3  # nothing at all
    assert closed_after(b"POST /api/auth/jwt/create/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"em") < 3
    # Honest requests are unaffected: two in turn on one kept-alive connection both get answered
    # on that same connection (a cut would end the stream after the first).
    with socket.create_connection(("127.0.0.1", server.port)) as raw:
        raw.settimeout(10)
        stream = raw.makefile("rb")
        for _ in range(2):
            raw.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            status = stream.readline()
            assert status.startswith(b"HTTP/1.1 200"), status
            length = 0
            while (line := stream.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            stream.read(length)
