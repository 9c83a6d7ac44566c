"""A message in the open chat reaches the page once (issue 21 item 1, CONTRACT "Inbox socket",
the optional `focus` frame): while the chat's own socket is live, the page tells the inbox
socket, and serve.py leaves that conversation's events out of it; another conversation's still
come through the inbox, and when the chat closes the page says so and they come back."""

import json
import uuid

from e2e_harness import Peer, Server, login, open_conversation

MESSAGE = "[data-testid=message-list] [data-testid=message][data-message-id='{}']"


class FramesBySocket:
    """Text frames each of the page's sockets sent and received, by kind of socket."""

    def __init__(self, page):
        self.page = page
        self.inbox = None  # the inbox socket (with its token)
        self.frames = {"inbox": {"sent": [], "received": []}, "chat": {"sent": [], "received": []}}
        page.on("websocket", self._on_socket)

    def _on_socket(self, ws):
        kind = "inbox" if "/ws/inbox/" in ws.url else "chat"
        if kind == "inbox" and "token=" not in ws.url:
            return  # the tokenless probe carries nothing
        if kind == "inbox":
            self.inbox = ws
        ws.on("framesent", lambda text: self.frames[kind]["sent"].append(_parse(text)))
        ws.on("framereceived", lambda text: self.frames[kind]["received"].append(_parse(text)))

    def wait(self, event, predicate, what, timeout_ms=20_000):
        """Until `predicate` holds, woken by each `event` (framesent, framereceived) of the inbox
        socket (Playwright's sync API delivers socket events only while one of its calls runs:
        this is that call)."""
        if self.inbox is None:
            self.page.wait_for_event("websocket", predicate=lambda ws: "/ws/inbox/" in ws.url and "token=" in ws.url,
                                     timeout=timeout_ms)
        while not predicate():
            try:
                self.inbox.wait_for_event(event, timeout=timeout_ms)
            except Exception as error:
                raise AssertionError(f"timed out waiting for: {what}") from error

    def focus_sent(self):
        return [f["conversation_id"] for f in self.frames["inbox"]["sent"] if f.get("type") == "focus"]

    def new_message_ids(self, kind, conversation_id):
        return [f["message"]["id"] for f in self.frames[kind]["received"]
                if f.get("type") == "new_message" and f["message"]["conversation_id"] == conversation_id]


def _parse(text):
    try:
        frame = json.loads(text)
    except (TypeError, ValueError):
        return {}
    return frame if isinstance(frame, dict) else {}


def test_the_open_chats_messages_reach_the_page_once_and_other_chats_through_the_inbox(page, tmp_path):
    srv = Server(tmp_path).start()  # serve.py as shipped: with the inbox
    emails = [f"t{uuid.uuid4().hex[:10]}@example.com" for _ in range(2)]
    try:
        open_id, other_id = (srv.fault("conversation", trainer_email="coach@example.com", trainee_email=email,
                                       messages=1)["id"] for email in emails)
        in_open, in_other = Peer(srv, emails[0]), Peer(srv, emails[1])
        frames = FramesBySocket(page)
        login(page, srv)
        open_conversation(page, open_id)
        frames.wait("framesent", lambda: open_id in frames.focus_sent(), "the page told the inbox which chat it holds")

        burst = [in_open.send(open_id, f"set {n}")["id"] for n in range(20)]
        page.wait_for_selector(MESSAGE.format(burst[-1]), state="attached", timeout=20_000)
        elsewhere = in_other.send(other_id, "in another conversation")["id"]
        frames.wait("framereceived", lambda: elsewhere in frames.new_message_ids("inbox", other_id), "the other chat's message")

        assert frames.new_message_ids("chat", open_id) == burst
        assert frames.new_message_ids("inbox", open_id) == []  # not a second time
        assert page.locator("[data-testid=message-list] [data-testid=message][data-message-id]").count() == 21

        # The chat closes (back to the list): the page says so and the inbox carries it again.
        page.go_back()
        frames.wait("framesent", lambda: frames.focus_sent()[-1:] == [None], "the page said it holds no chat")
        after = in_open.send(open_id, "after the chat closed")["id"]
        frames.wait("framereceived", lambda: after in frames.new_message_ids("inbox", open_id), "the inbox brings it again")
        in_open.close()
        in_other.close()
    finally:
        srv.stop()
