"""The inbox feeds the open chat while the chat's own socket is down (issue 13): its new
messages and read ticks show at once instead of at the next 5 s poll.

The fake clock is paused once the chat's socket is down, so no poll and no reconnect can run:
whatever reaches the chat comes from the inbox socket.
"""

import uuid

from e2e_harness import Peer, Server, open_conversation, wait_until
from realtime_support import inbox_log, login_clocked, pause, wait_rendered, ws_state
from reliability_support import send_from_page

MESSAGE = "[data-testid=message-list] [data-testid=message][data-message-id='{}']"


def test_with_the_chats_socket_down_the_inbox_brings_its_messages_and_read_ticks(page, tmp_path):
    srv = Server(tmp_path).start()  # serve.py as shipped: with the inbox
    email = f"t{uuid.uuid4().hex[:10]}@example.com"
    try:
        cid = srv.fault("conversation", trainer_email="coach@example.com", trainee_email=email, messages=0)["id"]
        peer = Peer(srv, email)
        login_clocked(page, srv)
        open_conversation(page, cid)
        wait_until(lambda: [r for r in inbox_log(page) if "token=" in r["url"] and r["opened"] and not r["closed"]],
                   "the inbox socket is live")
        send_from_page(page, "mine, sent while connected")
        wait_until(lambda: page.locator("[data-testid=message][data-own=true][data-message-id]").count() == 1,
                   "my message confirmed")
        own_id = page.locator("[data-testid=message][data-own=true][data-message-id]").first.get_attribute(
            "data-message-id")
        assert page.locator(f"[data-message-id='{own_id}'][data-read=false]").count() == 1

        # The chat's socket drops and cannot come back; the inbox stays up.
        srv.fault("refuse", on=True)
        srv.fault("close", conversation_id=cid, code=1006)
        wait_until(lambda: ws_state(page) != "connected", "the chat's socket down")
        pause(page)

        sent = peer.send(cid, "from the trainee, socket down")
        spent = wait_rendered(page, MESSAGE.format(sent["id"]), timeout=10)
        assert spent < 5_000  # well before the 5 s poll could have brought it (the clock stands still)
        assert page.locator(MESSAGE.format(sent["id"])).count() == 1

        peer.mark_read(cid)  # the trainee reads: my message's tick turns to read from the inbox
        wait_rendered(page, f"[data-testid=message][data-own=true][data-message-id='{own_id}'][data-read=true]",
                      timeout=10)
        assert ws_state(page) != "connected"
        peer.close()
    finally:
        srv.stop()
