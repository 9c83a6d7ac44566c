"""Issue 23 item 5: an admin change reaches the sockets that are already open.

"A participant removed from a conversation keeps receiving its messages on a socket opened
before; an archived conversation's open sockets keep relaying typing." Here a real serve.py
runs, sockets are open, and `serve.py users/conversations ...` runs as the separate process
an administrator would start: the sockets concerned close (4003 for a conversation the user
may no longer open, 4001 for an account whose sessions ended, CONTRACT "WebSocket") within
`DEADLINE`, and nothing more is relayed on them.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from server_harness import ROOT

DEADLINE = 5.0  # the workers poll every second; the rest is a busy machine's slack
CONVERSATION = 1  # the demo's coach-alex


def run_admin(server, *args: str) -> None:
    result = subprocess.run([sys.executable, str(ROOT / "serve.py"), *args, "--db", str(server.db)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def open_socket(server, path: str, access: str):
    return connect(f"{server.ws_origin}{path}?token={access}", proxy=None, open_timeout=5)


def frames_until_closed(socket, deadline: float) -> tuple[list[dict], int | None]:
    """Every frame received until the socket closes (before `deadline`, a monotonic time),
    and its close code (None: no close frame)."""
    frames = []
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"still open at the deadline; received {frames}"
        try:
            frames.append(json.loads(socket.recv(timeout=left)))
        except ConnectionClosed as closed:
            return frames, None if closed.rcvd is None else closed.rcvd.code
        except TimeoutError:
            raise AssertionError(f"still open at the deadline; received {frames}") from None


def ping(socket) -> dict:
    socket.send(json.dumps({"type": "ping"}))
    return json.loads(socket.recv(timeout=5))


def test_archiving_closes_the_conversations_open_sockets_with_4003_and_tells_the_inboxes(live_server):
    server = live_server()
    coach, alex = server.login("coach@example.com"), server.login("alex@example.com")
    chat = f"/ws/messaging/{CONVERSATION}/"
    with open_socket(server, chat, coach["access"]) as coach_chat, open_socket(server, chat, alex["access"]) as \
            alex_chat, open_socket(server, "/ws/inbox/", coach["access"]) as coach_inbox:
        assert ping(coach_chat) == ping(alex_chat) == ping(coach_inbox) == {"type": "pong"}
        run_admin(server, "conversations", "archive", str(CONVERSATION))
        deadline = time.monotonic() + DEADLINE  # from the commit: the command has returned
        for socket in (coach_chat, alex_chat):
            assert frames_until_closed(socket, deadline)[1] == 4003
        update = json.loads(coach_inbox.recv(timeout=DEADLINE))
        assert update["type"] == "conversation_updated"
        assert update["conversation"]["id"] == CONVERSATION and update["conversation"]["is_archived"] is True
        assert ping(coach_inbox) == {"type": "pong"}  # the inbox carries archived conversations too
    with open_socket(server, chat, coach["access"]) as again:  # and a new socket is refused as before
        assert frames_until_closed(again, time.monotonic() + DEADLINE)[1] == 4003


def test_typing_after_the_archive_is_not_relayed(live_server):
    """The typer keeps typing the moment the command returns, before its worker has closed
    anything: the other side gets its close, and no indicator first."""
    server = live_server()
    coach, alex = server.login("coach@example.com"), server.login("alex@example.com")
    chat = f"/ws/messaging/{CONVERSATION}/"
    with open_socket(server, chat, coach["access"]) as coach_chat, \
            open_socket(server, chat, alex["access"]) as alex_chat:
        alex_chat.send(json.dumps({"type": "typing", "is_typing": True}))
        assert json.loads(coach_chat.recv(timeout=5))["type"] == "typing_indicator"  # relayed before
        run_admin(server, "conversations", "archive", str(CONVERSATION))
        deadline = time.monotonic() + DEADLINE
        with contextlib.suppress(ConnectionClosed):
            for is_typing in (False, True, False):
                alex_chat.send(json.dumps({"type": "typing", "is_typing": is_typing}))
        frames, code = frames_until_closed(coach_chat, deadline)
    assert code == 4003
    assert [f for f in frames if f.get("type") == "typing_indicator"] == []


def test_typing_is_not_relayed_in_an_archived_conversation_even_before_its_sockets_close(live_server):
    """Here the server reads the admin changes only every 60 s: the sockets stay open after
    the archive, and what the typer sends must still go nowhere (the relay asks the
    database). A relayed indicator arrives within milliseconds; a second is the margin."""
    server = live_server("--admin-poll", "60")
    coach, alex = server.login("coach@example.com"), server.login("alex@example.com")
    chat = f"/ws/messaging/{CONVERSATION}/"
    with open_socket(server, chat, coach["access"]) as coach_chat, \
            open_socket(server, chat, alex["access"]) as alex_chat:
        alex_chat.send(json.dumps({"type": "typing", "is_typing": True}))
        assert json.loads(coach_chat.recv(timeout=5))["type"] == "typing_indicator"  # the path works
        run_admin(server, "conversations", "archive", str(CONVERSATION))
        alex_chat.send(json.dumps({"type": "typing", "is_typing": False}))
        with pytest.raises(TimeoutError):
            coach_chat.recv(timeout=1.0)
        assert ping(coach_chat) == {"type": "pong"}  # still open: only the relay refused


def test_disabling_an_account_closes_its_sockets_with_4001_and_leaves_the_others_open(live_server):
    server = live_server()
    coach, alex = server.login("coach@example.com"), server.login("alex@example.com")
    chat = f"/ws/messaging/{CONVERSATION}/"
    with open_socket(server, chat, coach["access"]) as coach_chat, \
            open_socket(server, chat, alex["access"]) as alex_chat, \
            open_socket(server, "/ws/inbox/", alex["access"]) as alex_inbox:
        assert ping(alex_chat) == ping(alex_inbox) == {"type": "pong"}
        run_admin(server, "users", "disable", "alex@example.com")
        deadline = time.monotonic() + DEADLINE
        for socket in (alex_chat, alex_inbox):
            assert frames_until_closed(socket, deadline)[1] == 4001
        assert ping(coach_chat) == {"type": "pong"}
    with open_socket(server, chat, alex["access"]) as again:
        assert frames_until_closed(again, time.monotonic() + DEADLINE)[1] == 4001


def test_set_password_closes_the_sockets_of_the_sessions_it_ends(live_server):
    server = live_server()
    alex = server.login("alex@example.com")
    with open_socket(server, f"/ws/messaging/{CONVERSATION}/", alex["access"]) as alex_chat:
        assert ping(alex_chat) == {"type": "pong"}
        result = subprocess.run([sys.executable, str(ROOT / "serve.py"), "users", "set-password", "alex@example.com",
                                 "--password-stdin", "--db", str(server.db)], cwd=ROOT, input="another password\n",
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert frames_until_closed(alex_chat, time.monotonic() + DEADLINE)[1] == 4001
