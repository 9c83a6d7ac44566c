"""An edit or a delete made on one worker reaches the sockets on another (issue 22): the
`message_updated` and `message_deleted` frames travel the Redis fan-out as new messages do.

Two `serve.py` processes on their own ports share one database and one Redis; the test picks
the worker by its port, so a frame on B's sockets came through Redis or not at all.
"""

from __future__ import annotations

import asyncio

from cluster import INBOX, Rest, Socket, bearer, chat_path, close_all, http_client, run
from cluster import cluster, launch, sqlite_db, sqlite_template  # noqa: F401  (fixtures, and those they use)

COACH = "coach@example.com"
ALEX = "alex@example.com"


def of(kind: str, message_id: int):
    def matches(frame: dict) -> bool:
        if frame.get("type") != kind:
            return False
        return (frame.get("message_id") if kind == "message_deleted" else frame["message"]["id"]) == message_id
    return matches


def test_an_edit_and_a_delete_on_one_worker_reach_the_other_workers_sockets(cluster):
    a, b = cluster(2)

    async def scenario():
        async with http_client() as http:
            on_a = Rest(http, a)
            coach, alex = await asyncio.gather(on_a.session(COACH), Rest(http, b).session(ALEX))
            sockets = [await Socket.open(b, chat_path(), alex.access, "alex chat on B"),
                       await Socket.open(b, INBOX, alex.access, "alex inbox on B"),
                       await Socket.open(b, INBOX, coach.access, "coach inbox on B")]
            for sock in sockets:
                await sock.roundtrip()  # each is served (joined) before anything changes

            sent = await on_a.send(coach.access, "tempo at 6")
            assert sent.status_code == 201, sent.text
            message_id = sent.json()["id"]
            url = f"{a.origin}/api/messaging/messages/{message_id}/"
            edited = await http.patch(url, json={"content": "tempo at 7"}, headers=bearer(coach.access))
            assert edited.status_code == 200, edited.text
            deleted = await http.delete(url, headers=bearer(coach.access))
            assert deleted.status_code == 204, deleted.text

            for sock in sockets:
                update = await sock.wait_for(of("message_updated", message_id), "the edit")
                assert update == {"type": "message_updated", "message": edited.json()}, sock.name
                gone = await sock.wait_for(of("message_deleted", message_id), "the delete")
                assert gone == {"type": "message_deleted", "conversation_id": edited.json()["conversation_id"],
                                "message_id": message_id}, sock.name
                kinds = [f["type"] for f in sock.frames if f["type"] != "pong"]
                assert kinds == ["new_message", "message_updated", "message_deleted"], sock.name
            await close_all(sockets)

    run(scenario)
