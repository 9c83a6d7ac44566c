"""Sending in Chromium: the composer (Enter, Shift+Enter, the send button, a failed send and
its retry), images (edge 9) and archived conversations, which cannot be written to.
"""

import json
import re
import struct
import zlib

from ui_support import _module_tab, lone_tab, ui  # noqa: F401 - fixtures
from ui_support import (
    WAIT_MS, after_frames, enter, is_send, message_texts, message_with_text, messages, open_chat, poll_until, row,
    send_answer, wait_message_count,
)


def test_composer_enter_sends_and_shift_enter_inserts_a_newline(ui, server, fresh_conversation):
    conv, peer = fresh_conversation(messages=0)
    cid = conv["id"]
    enter(ui, server)
    open_chat(ui, cid)
    box = ui.get_by_test_id("chat-input")
    box.press_sequentially("line one")
    box.press("Shift+Enter")
    box.press_sequentially("line two")
    assert box.input_value() == "line one\nline two"
    assert messages(ui).count() == 0  # Shift+Enter did not send

    box.press("Enter")

    ui.wait_for_selector("[data-testid=message-list] [data-testid=message][data-message-id]", timeout=WAIT_MS)
    poll_until(lambda: len(peer.all_ids(cid)) == 1, 10, "one stored message")
    assert peer.messages(cid)["results"][0]["content"] == "line one\nline two"
    assert message_texts(ui) == ["line one\nline two"]
    assert box.input_value() == ""


def test_composer_send_button_sends_and_empty_input_sends_nothing(ui, server, fresh_conversation):
    conv, peer = fresh_conversation(messages=0)
    cid = conv["id"]
    enter(ui, server)
    open_chat(ui, cid)
    ui.get_by_test_id("send-button").click()
    ui.get_by_test_id("chat-input").fill("   ")
    ui.get_by_test_id("send-button").click()
    ui.get_by_test_id("chat-input").fill("by the button")
    with send_answer(ui) as answer:
        ui.get_by_test_id("send-button").click()
    assert answer.value.status == 201
    message_with_text(ui, "by the button").first.wait_for(timeout=WAIT_MS)
    ui.wait_for_selector("[data-testid=message][data-pending=true]", state="detached", timeout=WAIT_MS)
    assert [m["content"] for m in peer.messages(cid)["results"]] == ["by the button"]
    assert messages(ui).count() == 1
    assert len([url for url in ui.watch.requests if is_send(url)]) == 1  # the empty sends asked nothing


def test_composer_send_without_an_answer_is_held_and_goes_again_by_itself_exactly_once(ui, server, fresh_conversation):
    conv, peer = fresh_conversation(messages=0)
    cid = conv["id"]
    enter(ui, server)
    open_chat(ui, cid)
    # The server stores the next send but its answer is lost (504) and nothing is broadcast.
    server.fault("lose_send_answers", count=1, broadcast=False)
    ui.get_by_test_id("chat-input").fill("answer gets lost")
    ui.get_by_test_id("chat-input").press("Enter")

    # Held with a clock mark (a 504 is no answer about the message), never "Not sent".
    held = ui.locator("[data-testid=message][data-pending=true][data-status=held]")
    held.wait_for(timeout=WAIT_MS)
    assert held.locator(".message-text").inner_text() == "answer gets lost"
    assert held.get_by_test_id("send-held").is_visible()
    assert len(peer.all_ids(cid)) == 1  # it was stored all the same

    # It goes again by itself, with the same client_message_id: still one message.
    ui.wait_for_selector("[data-testid=message][data-pending=true]", state="detached", timeout=WAIT_MS)
    # A later message on the chat's socket: once it shows, any copy sent before it has shown too.
    sentinel = peer.send(cid, "sentinel")["id"]
    ui.locator(f"[data-testid=message][data-message-id='{sentinel}']").wait_for(timeout=WAIT_MS)
    ids = peer.all_ids(cid)
    assert len(ids) == 2 and ids[1] == sentinel
    assert message_with_text(ui, "answer gets lost").count() == 1
    assert ui.locator(f"[data-testid=message][data-message-id='{ids[0]}']").count() == 1
    assert ui.get_by_test_id("retry-send").count() == 0


def _tiny_png(width=4, height=3):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_edge9_uploaded_image_is_shown_from_media_in_its_own_ratio(ui, server, fresh_conversation):
    conv, peer = fresh_conversation(messages=0)
    cid = conv["id"]
    enter(ui, server)
    open_chat(ui, cid)
    ui.get_by_test_id("attach-image").set_input_files(
        files=[{"name": "dot.png", "mimeType": "image/png", "buffer": _tiny_png()}])
    ui.get_by_test_id("send-button").click()

    img = ui.locator("[data-testid=message-list] [data-testid=message][data-message-id] img.message-image")
    img.wait_for(timeout=WAIT_MS)
    stored = peer.messages(cid)["results"]
    assert len(stored) == 1 and stored[0]["image"]
    src = img.get_attribute("src")
    assert src.startswith("/media/")
    assert src == stored[0]["image"] or stored[0]["image"].endswith(src)
    poll_until(lambda: img.evaluate("i => i.complete && i.naturalWidth") == 4, 10, "the image to load")
    ui.locator("[data-testid=message-list] img.message-image.is-fitted").wait_for(timeout=WAIT_MS)
    box = img.bounding_box()
    assert (round(box["width"]), round(box["height"])) == (280, 210)  # 4 x 3 in the 280 x 320 box (issue 22)
    assert messages(ui).count() == 1


def test_edge9_image_with_an_unsafe_url_arriving_over_the_socket_is_not_rendered(lone_tab, server, fresh_conversation):
    ui = lone_tab
    conv, peer = fresh_conversation(messages=1)
    cid = conv["id"]
    routes = []

    def through(ws):
        ws.connect_to_server()  # frames pass both ways untouched
        routes.append(ws)
    ui.route_web_socket(re.compile(r"/ws/messaging/"), through)
    enter(ui, server)
    open_chat(ui, cid)
    poll_until(lambda: routes, 10, "the socket route")
    other = conv["trainee"]
    base = {"conversation_id": cid, "sender": other, "is_read": False, "read_at": None,
            "created_at": "2030-01-01T10:00:00Z"}
    hostile = [
        (900001, "javascript:alert(1)", "hostile js image"),
        (900002, "data:text/html,<script>alert(2)</script>", "hostile data image"),
        (900003, "//evil.example/x.png", "protocol-relative image"),
    ]
    for mid, url, text in hostile:
        routes[0].send(json.dumps({"type": "new_message", "message": dict(base, id=mid, content=text, image=url)}))
    routes[0].send(json.dumps({"type": "new_message", "message": dict(
        base, id=900004, content="<img src=x onerror=alert(3)>", image=None)}))

    ui.locator("[data-testid=message][data-message-id='900004']").wait_for(timeout=WAIT_MS)
    for mid, _url, text in hostile:
        node = ui.locator(f"[data-testid=message][data-message-id='{mid}']")
        assert node.locator(".message-text").inner_text() == text
        assert node.locator("img").count() == 0
    markup = ui.locator("[data-testid=message][data-message-id='900004']")
    assert markup.locator(".message-text").inner_text() == "<img src=x onerror=alert(3)>"
    assert markup.locator("img").count() == 0
    srcs = ui.locator("[data-testid=message-list] img").evaluate_all("ns => ns.map(n => n.getAttribute('src'))")
    assert not any(s and ("javascript:" in s or s.startswith("data:") or "evil.example" in s) for s in srcs)
    after_frames(ui)  # what the render queued (an image load, a handler) has run
    assert ui.watch.dialogs == []
    assert ui.watch.errors == []


def test_archived_conversation_opens_read_only_with_a_note_and_no_banner(ui, server, fresh_conversation):
    conv, peer = fresh_conversation(messages=3, archived=True)
    cid = conv["id"]
    enter(ui, server)
    assert "Archived" in row(ui, cid).inner_text()
    view = open_chat(ui, cid, state=None)
    wait_message_count(ui, 3)
    assert view.get_by_test_id("chat-input").count() == 0
    assert view.get_by_test_id("send-button").count() == 0
    assert view.get_by_test_id("attach-image").count() == 0
    assert "archived" in view.locator(".archived-note").inner_text().lower()
    # Edge 10 / error table (4003): no socket is kept and nothing alarming is shown. The state
    # is decided when the chat opens (no socket at all: "failed", forbidden, which has no banner).
    ui.wait_for_selector(f"[data-testid=chat-view][data-conversation-id='{cid}'][data-ws-state=failed]",
                         state="attached", timeout=WAIT_MS)
    after_frames(ui)
    assert view.get_by_test_id("connection-banner").count() == 0
    assert server.open_sockets(cid) == 0
