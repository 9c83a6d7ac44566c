"""Hostile content. XSS payloads (script tags, event handlers, SVG,
javascript:/data: URLs, PyScript's own <script type="py">, <py-script>, <mpy-script> and py-*
attributes) as message text, as the trainee's names, and as image URLs, through history
(first load and older pages), the live socket and polling: 0 dialogs, 0 executed JavaScript
(window.__pwned), 0 executed Python (window.__pwned_py), every text shown exactly as sent.

Images: the server stores only uploaded files, so hostile image URLs are injected into the
history answers (page.route) and into live new_message frames (page.route_web_socket).
"""

import json
import time
import uuid

from e2e_harness import Peer, conversation_row, login, open_conversation, wait_state
from reliability_support import NO_WEBSOCKET_SCRIPT, arm, db_messages, shown_ids, shown_texts, wait_until
from ui_support import after_frames, images_settled

JS = "window.__pwned=1"
PY = "import js; js.window.__pwned_py = 1"

BASE = [
    f"<script>{JS}</script>",
    f"<SCRIPT>{JS}</SCRIPT>",
    f"<script src=data:text/javascript,{JS}></script>",
    f"<img src=x onerror=\"{JS}\">",
    "<img src=x onerror=alert(1)>",
    f"<img src=/media/none.png onload={JS}>",
    f"<svg onload={JS}>",
    f"<svg><script>{JS}</script></svg>",
    f"<svg><animate onbegin={JS} attributeName=x dur=1s>",
    f"<a href=\"javascript:{JS}\">click</a>",
    f"<a href=\"JaVaScRiPt:{JS}\">x</a>",
    f"<a href=\"&#106;avascript:{JS}\">x</a>",
    f"<a href=\"data:text/html,<script>{JS}</script>\">x</a>",
    f"<iframe src=\"javascript:{JS}\"></iframe>",
    f"<iframe srcdoc=\"<script>parent.__pwned=1</script>\"></iframe>",
    f"<body onload={JS}>",
    f"<details open ontoggle={JS}>",
    f"<input autofocus onfocus={JS}>",
    f"<video><source onerror={JS}></video>",
    f"<object data=\"data:text/html,<script>{JS}</script>\"></object>",
    "<embed src=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">",
    f"<math><mtext><table><mglyph><style><img src=x onerror={JS}>",
    f"\"><script>{JS}</script>",
    f"'><img src=x onerror={JS}>",
    f"javascript:{JS}",
    f"java\tscript:{JS}",
    f"data:text/html,<script>{JS}</script>",
    f"data:image/svg+xml,<svg onload={JS}>",
    f"<meta http-equiv=refresh content=\"0;url=javascript:{JS}\">",
    f"<form action=\"javascript:{JS}\"><button>go</button></form>",
    f"<marquee onstart={JS}>",
    f"<noscript><p title=\"</noscript><img src=x onerror={JS}>\">",
    f"<template><script>{JS}</script></template>",
    f"{{{{constructor.constructor('{JS}')()}}}}",
    f"${{{JS}}}",
    f"<style>@import 'javascript:{JS}';</style>",
    f"<script type=\"py\">{PY}</script>",
    f"<script type=\"mpy\">{PY}</script>",
    f"<script type=\"py\" worker>{PY}</script>",
    f"<script type=\"py-editor\">{PY}</script>",
    "<script type=\"py\" src=\"/media/evil.py\"></script>",
    f"<py-script>{PY}</py-script>",
    f"<mpy-script>{PY}</mpy-script>",
    "<py-config>packages = ['evil']</py-config>",
    f"<button py-click=\"{PY}\">press</button>",
    "<button py-click=\"pwn\">press</button>",
    f"<div py-mouseover=\"{PY}\">hover</div>",
    f"<img src=x py-error=\"{PY}\">",
    "\u202e<script>alert(1)</script>\u202c",
    f"<scr<script>ipt>{JS}</scr</script>ipt>",
]
# Link payloads (issue 14): each with the links it must show, href exactly the visible URL.
LINKS = {
    "Squat form: https://example.com/squat?t=30.": ["https://example.com/squat?t=30"],
    "HTTPS://EXAMPLE.COM/UP and http://example.org/b": ["HTTPS://EXAMPLE.COM/UP", "http://example.org/b"],
    "javascript:https://example.com/x": [],
    f"javascript:{JS}//https://example.com/": [],
    "hxxps://evil.example/x https;//evil.example/y": [],
    "https://good.example@evil.example/": [],
    "https://example.com/\u202egpj.exe": ["https://example.com/"],
    f"<a href=\"https://evil.example/\" onclick=\"{JS}\">https://good.example/</a>": [
        "https://evil.example/", "https://good.example/"],
    f"https://example.com/\"><img src=x onerror={JS}>": ["https://example.com/"],
    "vbscript:msgbox(1) https://example.com/ok": ["https://example.com/ok"],
}
BASE += list(LINKS)
# Each payload alone and embedded in ordinary text: 3 texts per payload.
PAYLOADS = [v for p in BASE for v in (p, "hi " + p, p + " bye")]
LINKS_OF = {v: LINKS.get(p, []) for p in BASE for v in (p, "hi " + p, p + " bye")}

HOSTILE_IMAGES = [
    f"javascript:{JS}", f"JAVASCRIPT:{JS}", f" javascript:{JS}", f"java\tscript:{JS}", f"java\nscript:{JS}",
    f"data:image/svg+xml,<svg onload={JS}>", f"data:text/html,<script>{JS}</script>",
    "data:image/png;base64,iVBORw0KGgo=", f"vbscript:{JS}", "//evil.example/x.png", "/\\evil.example/x.png",
    f"x\" onerror=\"{JS}", f"/media/x.png\" onerror=\"{JS}", "/media/x.png?<script>", "blob:http://x/1",
    "file:///etc/passwd", f"\u0000javascript:{JS}", f"/media/ok.png#\"onerror={JS}", f"&#106;avascript:{JS}",
    "/media/does-not-exist.png",  # allowed: a broken same-origin image, nothing more
]

FIRST = f"<img src=x onerror={JS}>"
LAST = f"<script type=\"py\">{PY}</script>"


def no_execution(page):
    return {
        "dialogs": list(page.watch.dialogs),
        "js": page.evaluate("window.__pwned === undefined ? null : String(window.__pwned)"),
        "py": page.evaluate("window.__pwned_py === undefined ? null : String(window.__pwned_py)"),
        "errors": list(page.watch.errors),
    }


def img_sources(page):
    return page.evaluate("Array.from(document.querySelectorAll('[data-testid=message-list] img'))"
                         ".map((i) => i.src)")


def assert_texts_exact(page, expected_by_id):
    texts = shown_texts(page)
    wrong = {mid: (texts.get(str(mid)), content) for mid, content in expected_by_id.items()
             if texts.get(str(mid)) != content}
    assert wrong == {}


LINKS_JS = """Object.fromEntries(Array.from(document.querySelectorAll(
    '[data-testid=message-list] [data-message-id]')).map((m) => [m.dataset.messageId,
    Array.from(m.querySelectorAll('a')).map((a) => ({href: a.getAttribute('href'), text: a.textContent,
        protocol: a.protocol, target: a.target, rel: a.rel, inText: !!a.closest('.message-text')}))]))"""


def assert_links_exact(page, content_by_id):
    """Each message shows exactly the links its text calls for: http(s) only, the href
    equal to the text shown, opened in a new tab with no opener, referrer or endorsement."""
    shown = page.evaluate(LINKS_JS)
    wrong = {}
    for mid, content in content_by_id.items():
        want = LINKS_OF.get(content.removesuffix(" (live)"), [])
        got = shown.get(str(mid), [])
        bad = [a for a in got if a["text"] != a["href"] or a["protocol"] not in ("http:", "https:")
               or a["target"] != "_blank" or a["rel"] != "noopener noreferrer nofollow" or not a["inText"]]
        if [a["href"] for a in got] != want or bad:
            wrong[mid] = (content, got)
    assert wrong == {}
    return sum(len(v) for v in shown.values())


def hostile_conversation(server):
    email = f"x{uuid.uuid4().hex[:8]}@example.com"
    conv = server.fault("conversation", trainer_email="coach@example.com", trainee_email=email,
                        messages=0, first_name=FIRST, last_name=LAST)
    return conv, Peer(server, email)


def test_hostile_text_names_and_images_through_history_and_live_socket(page, server):
    conv, peer = hostile_conversation(server)
    cid = conv["id"]
    assert conv["trainee"]["first_name"] == FIRST and conv["trainee"]["last_name"] == LAST
    for text in PAYLOADS:
        peer.send(cid, text)

    arm(page)
    served_images = []

    def poison_history(route):
        response = route.fetch()
        body = response.json()
        for m in body.get("results", []):
            m["image"] = HOSTILE_IMAGES[m["id"] % len(HOSTILE_IMAGES)]
            served_images.append(m["image"])
        route.fulfill(response=response, json=body)
    page.context.route("**/api/messaging/conversations/*/messages/**", poison_history)

    sockets = []

    def on_socket(ws):
        ws.connect_to_server()
        sockets.append(ws)
    page.route_web_socket("**/ws/messaging/**", on_socket)

    login(page, server)
    row = conversation_row(page, cid)
    assert row.locator(".conversation-name").text_content() == f"{FIRST} {LAST}"
    open_conversation(page, cid)
    assert page.locator(".chat-title").text_content() == f"{FIRST} {LAST}"

    # History: the first page, then older pages by scrolling to the top.
    history = db_messages(server, cid, peer.access)
    want = [m["id"] for m in history]
    assert [m["content"] for m in history] == PAYLOADS  # stored exactly as sent

    def all_history_loaded():
        page.evaluate("document.querySelector('[data-testid=message-list]').scrollTop = 0")
        return shown_ids(page) == want
    wait_until(all_history_loaded, timeout=60, interval=0.5, what="every history page")
    assert_texts_exact(page, {m["id"]: m["content"] for m in history})
    assert assert_links_exact(page, {m["id"]: m["content"] for m in history}) > 0

    # Live socket: the same payloads again, plus injected frames carrying hostile image URLs.
    sender = conv["trainee"]
    live_texts = [p + " (live)" for p in PAYLOADS]
    for text in live_texts:
        peer.send(cid, text)
    fake = {}
    for i, url in enumerate(HOSTILE_IMAGES):
        mid = 900_000_000 + i
        content = PAYLOADS[i * 7 % len(PAYLOADS)]
        fake[mid] = content
        sockets[-1].send(json.dumps({"type": "new_message", "message": {
            "id": mid, "conversation_id": cid, "sender": sender, "content": content, "image": url,
            "is_read": False, "read_at": None, "created_at": "2026-11-25T12:00:00Z"}}))
    everything = db_messages(server, cid, peer.access)
    want = sorted([m["id"] for m in everything] + list(fake))
    wait_until(lambda: shown_ids(page) == want, timeout=60, interval=0.5, what="live payloads")
    assert page.get_attribute("[data-testid=chat-view]", "data-ws-state") == "connected"
    images_settled(page)  # every image's load or error handler has had its chance ...
    after_frames(page)    # ... and what a handler might have queued has run

    expected = {m["id"]: m["content"] for m in everything}
    expected.update(fake)
    assert_texts_exact(page, expected)
    links_shown = assert_links_exact(page, expected)
    sources = img_sources(page)
    bad = [s for s in sources if not s.startswith(server.origin + "/media/")]
    outcome = no_execution(page)
    print(f"FIGURE hostile_history_live: texts={len(history) + len(live_texts) + len(fake)} "
          f"distinct_payloads={len(PAYLOADS)} image_urls={len(HOSTILE_IMAGES)} imgs_rendered={len(sources)} "
          f"links={links_shown} dialogs={len(outcome['dialogs'])} js_executed={outcome['js']} py_executed={outcome['py']}")
    assert outcome == {"dialogs": [], "js": None, "py": None, "errors": []}
    assert bad == []
    # Only the one honest root-relative URL may become an <img>.
    assert set(sources) <= {server.origin + "/media/does-not-exist.png"}
    assert served_images  # the history really carried the hostile image URLs


def test_hostile_text_through_polling_without_websocket(page, server):
    conv, peer = hostile_conversation(server)
    cid = conv["id"]
    peer.send(cid, "first")
    page.add_init_script(NO_WEBSOCKET_SCRIPT)
    arm(page)
    login(page, server)
    open_conversation(page, cid, state="failed")  # no WebSocket: polling (AC-9)
    assert page.evaluate("typeof window.WebSocket") == "undefined"
    for text in PAYLOADS:
        peer.send(cid, text)
    everything = db_messages(server, cid, peer.access)
    want = [m["id"] for m in everything]
    started = time.time()
    wait_until(lambda: shown_ids(page) == want, timeout=60, interval=0.5, what="polled payloads")
    assert_texts_exact(page, {m["id"]: m["content"] for m in everything})
    assert assert_links_exact(page, {m["id"]: m["content"] for m in everything}) > 0
    outcome = no_execution(page)
    print(f"FIGURE hostile_polling: texts={len(PAYLOADS)} polled_in_s={time.time() - started:.1f} "
          f"dialogs={len(outcome['dialogs'])} js_executed={outcome['js']} py_executed={outcome['py']}")
    assert outcome == {"dialogs": [], "js": None, "py": None, "errors": []}
    assert page.locator(".chat-title").text_content() == f"{FIRST} {LAST}"
