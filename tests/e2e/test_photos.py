"""Photos in Chromium (issue 22, item 4): a thumbnail keeps the photo's own ratio within a
maximum box; a click, Enter or Space opens the full-size photo in a modal viewer (Escape,
Close or a click beside it closes; focus stays inside and returns to the thumbnail); on a
390 px phone the viewer fills the screen; the composer shows the chosen photo with a
"Remove photo" button, and its object URL is revoked when it leaves the composer.
"""

import os
import struct
import zlib
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from test_sending import _tiny_png  # one PNG maker for the e2e tests
from ui_support import _module_tab, ui  # noqa: F401 - fixtures
from ui_support import DESKTOP, PHONE, WAIT_MS, after_frames, at_bottom, enter, open_chat, poll_until, send_answer
from reliability_support import db_messages

# Like test_layout.py: the committed screenshot is refreshed only with UPDATE_SCREENSHOTS=1.
SHOTS = (Path(__file__).resolve().parents[2] / ("docs" if os.environ.get("UPDATE_SCREENSHOTS") else "test-artifacts")
         / "screenshots")
VIEWER = "dialog[data-testid=photo-viewer]"
FITTED = "[data-testid=message-list] [data-message-id] img.message-image.is-fitted"

# Object URLs made and revoked, recorded by wrapping URL's two functions (the composer looks
# them up on each call, so a wrapper put in place after the page loaded sees every call).
WATCH_OBJECT_URLS = """() => {
    if (window.__objectUrls) { window.__objectUrls.made = []; window.__objectUrls.revoked = []; return; }
    const log = window.__objectUrls = {made: [], revoked: []};
    const make = URL.createObjectURL.bind(URL), revoke = URL.revokeObjectURL.bind(URL);
    URL.createObjectURL = (blob) => { const url = make(blob); log.made.push(url); return url; };
    URL.revokeObjectURL = (url) => { log.revoked.push(url); revoke(url); };
}"""


@pytest.fixture(autouse=True)
def _viewer_closed_after(ui):
    """A test that fails with the viewer open must not leave the module's tab behind a modal."""
    yield
    ui.evaluate(f"() => {{ const d = document.querySelector('{VIEWER}'); if (d && d.open) d.close(); }}")


def _portrait():
    return {"name": "plank.png", "mimeType": "image/png", "buffer": _tiny_png(300, 600)}


def _gradient_png(width, height):
    """A width x height PNG that looks like something in a screenshot: teal at the top to
    amber at the bottom, a lighter diagonal band."""
    rows = []
    for y in range(height):
        t = y / max(1, height - 1)
        row = bytearray(b"\x00")
        for x in range(width):
            band = 40 if abs((x + y) % 200 - 100) < 30 else 0
            row += bytes((min(255, int(20 + 225 * t) + band), min(255, int(150 - 20 * t) + band),
                          min(255, int(140 - 100 * t) + band)))
        rows.append(bytes(row))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


def _blocking_axe(page):
    results = Axe().run(page)
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


# Which element each key, focus and click event reached, whether a handler prevented its
# default, and where the focus was then (bubble phase on window: after the page's handlers).
_RECORD_EVENTS = """() => {
    const seen = [], types = ['keydown', 'keyup', 'click', 'focusin', 'focusout', 'pointermove', 'pointerdown'];
    const name = n => n && n.getAttribute ? (n.getAttribute('data-testid') || n.tagName) : String(n);
    const note = e => seen.push(`${e.type}:${name(e.target)}${e.defaultPrevented ? ':prevented' : ''}`
                               + ` focus=${name(document.activeElement)} t=${Math.round(e.timeStamp)}`);
    for (const type of types) window.addEventListener(type, note);
    window.__keyEvents = {seen, stop: () => types.forEach(type => window.removeEventListener(type, note))};
}"""


def _focused(page, attr="data-testid"):
    return page.evaluate(f"document.activeElement && document.activeElement.getAttribute('{attr}')")


def _photo_from_peer(peer, cid, width, height, content="", png=_tiny_png):
    r = peer.http.post(f"/api/messaging/conversations/{cid}/send/", data={"content": content},
                       files={"image": ("p.png", png(width, height), "image/png")})
    r.raise_for_status()
    return r.json()["id"]


def _viewer_open(page):
    return page.evaluate(f"!!document.querySelector('{VIEWER}') && document.querySelector('{VIEWER}').open")


def test_a_portrait_photo_keeps_its_ratio_and_opens_full_size_by_click_and_by_enter(ui, server, fresh_conversation):
    page = ui
    conv, peer = fresh_conversation(messages=2)
    cid = conv["id"]
    enter(page, server)
    open_chat(page, cid)
    page.get_by_test_id("attach-image").set_input_files(files=[_portrait()])
    with send_answer(page) as answer:  # only then is it surely stored (ui_support.send_answer)
        page.get_by_test_id("send-button").click()
    assert answer.value.status == 201

    thumb = page.locator(FITTED)
    thumb.wait_for(timeout=WAIT_MS)
    stored = db_messages(server, cid, peer.access)[-1]
    assert stored["image"] and stored["image"].endswith(thumb.get_attribute("src"))
    box = thumb.bounding_box()
    # 300 x 600 into the 280 x 320 box: as tall as the box, half as wide (no 4:3 crop).
    assert (round(box["width"]), round(box["height"])) == (160, 320)
    button = page.locator(f"[data-message-id='{stored['id']}'] [data-testid=open-photo]")
    coach = conv["trainer"]
    assert button.get_attribute("aria-label") == f"Open photo from {coach['first_name']} {coach['last_name']}"

    # A click opens the modal viewer with the full-size photo; focus moves into it.
    button.click()
    viewer = page.locator(VIEWER)
    viewer.wait_for(state="visible", timeout=WAIT_MS)
    assert viewer.get_attribute("aria-modal") == "true"
    assert viewer.get_attribute("aria-label") == f"Photo from {coach['first_name']} {coach['last_name']}"
    full = page.get_by_test_id("photo-viewer-image")
    assert full.get_attribute("src") == thumb.get_attribute("src")
    poll_until(lambda: full.evaluate("i => i.complete && i.naturalWidth") == 300, 10, "the full-size photo")
    shown = full.bounding_box()
    assert abs(shown["height"] / shown["width"] - 2) < 0.02   # its own ratio, not the thumbnail's box
    assert _focused(page) == "photo-viewer-close"
    # Tab and Shift+Tab stay in the viewer.
    page.keyboard.press("Tab")
    assert _focused(page) == "photo-viewer-close"
    page.keyboard.press("Shift+Tab")
    assert _focused(page) == "photo-viewer-close"

    # Escape closes; focus is back on the thumbnail; the chat stays open.
    page.keyboard.press("Escape")
    viewer.wait_for(state="hidden", timeout=WAIT_MS)
    assert _focused(page) == "open-photo"
    assert page.evaluate("document.activeElement.closest('[data-message-id]').dataset.messageId") == str(stored["id"])
    assert full.get_attribute("src") is None   # the full-size bytes are let go
    assert page.locator(f"[data-testid=chat-view][data-conversation-id='{cid}']").is_visible()

    # Enter on the focused thumbnail opens it; the Close button closes it.
    page.keyboard.press("Enter")
    viewer.wait_for(state="visible", timeout=WAIT_MS)
    page.get_by_test_id("photo-viewer-close").click()
    viewer.wait_for(state="hidden", timeout=WAIT_MS)
    assert _focused(page) == "open-photo"

    # Space opens it too; a click beside the photo (the backdrop) closes it, a click on it does not.
    # (Once, in a full run, Space opened nothing here and the cause is not known: these checks and
    # the page's record of the key's events say which it was, if it happens again.)
    assert _focused(page) == "open-photo" and button.is_enabled()
    assert page.evaluate("document.activeElement.closest('[data-message-id]').dataset.messageId") == str(stored["id"])
    page.evaluate(_RECORD_EVENTS)
    try:
        page.keyboard.press(" ")
        try:
            viewer.wait_for(state="visible", timeout=WAIT_MS)
        except PlaywrightTimeout:
            raise AssertionError(f"Space opened nothing; the page saw: {page.evaluate('window.__keyEvents.seen')}") from None
    finally:
        page.evaluate("window.__keyEvents.stop()")
    full.click()
    assert _viewer_open(page)
    page.mouse.click(8, 400)
    viewer.wait_for(state="hidden", timeout=WAIT_MS)
    assert _focused(page) == "open-photo"
    assert page.watch.errors == []


def test_a_photo_arriving_at_the_bottom_takes_its_ratio_and_the_view_stays_at_the_bottom(ui, server, fresh_conversation):
    page = ui
    conv, peer = fresh_conversation(messages=40)
    cid = conv["id"]
    enter(page, server)
    open_chat(page, cid)
    poll_until(lambda: at_bottom(page), 10, "the view at the bottom")
    mid = _photo_from_peer(peer, cid, 300, 600, content="Plank, from the side")
    thumb = page.locator(f"[data-message-id='{mid}'] img.message-image.is-fitted")
    thumb.wait_for(timeout=WAIT_MS)
    after_frames(page)
    box = thumb.bounding_box()
    assert (round(box["width"]), round(box["height"])) == (160, 320)   # grew from the reserved 240 x 180
    assert at_bottom(page), page.evaluate("document.querySelector('[data-testid=message-list]').scrollTop")


def test_the_composer_shows_the_chosen_photo_and_remove_clears_it_and_revokes_its_url(ui, server, fresh_conversation):
    page = ui
    conv, peer = fresh_conversation(messages=0)
    cid = conv["id"]
    enter(page, server)
    open_chat(page, cid)
    page.evaluate(WATCH_OBJECT_URLS)
    picker = page.get_by_test_id("attach-image")
    picker.set_input_files(files=[_portrait()])

    preview = page.get_by_test_id("attach-thumb")
    preview.wait_for(state="visible", timeout=WAIT_MS)
    url = preview.get_attribute("src")
    assert url.startswith("blob:") and page.evaluate("window.__objectUrls.made") == [url]
    poll_until(lambda: preview.evaluate("i => i.complete && i.naturalWidth") == 300, 10, "the preview to draw")
    assert page.locator(".attach-preview").inner_text() == "plank.png"
    remove = page.get_by_role("button", name="Remove photo")
    assert remove.is_visible()

    # By keyboard: Tab reaches Remove, Enter removes; the caret goes back to the message box.
    page.get_by_test_id("attach-image").focus()
    page.keyboard.press("Tab")
    assert _focused(page) == "attach-remove"
    page.keyboard.press("Enter")
    preview.wait_for(state="hidden", timeout=WAIT_MS)
    assert page.evaluate("window.__objectUrls.revoked") == [url]
    assert page.locator(".attach-preview").inner_text() == ""
    assert picker.input_value() == ""
    assert _focused(page) == "chat-input"

    # Nothing attached any more: a text goes alone.
    page.get_by_test_id("chat-input").fill("no photo after all")
    page.keyboard.press("Enter")
    poll_until(lambda: len(db_messages(server, cid, peer.access)) == 1, 10, "the text to be stored")
    assert db_messages(server, cid, peer.access)[0]["image"] is None

    # A photo that is sent leaves the composer too, and its URL is revoked.
    picker.set_input_files(files=[_portrait()])
    preview.wait_for(state="visible", timeout=WAIT_MS)
    second = preview.get_attribute("src")
    page.get_by_test_id("send-button").click()
    preview.wait_for(state="hidden", timeout=WAIT_MS)
    assert second in page.evaluate("window.__objectUrls.revoked")
    poll_until(lambda: len(db_messages(server, cid, peer.access)) == 2, 10, "the photo to be stored")
    assert db_messages(server, cid, peer.access)[1]["image"]

    # One chosen but not sent is revoked when the chat closes.
    picker.set_input_files(files=[_portrait()])
    preview.wait_for(state="visible", timeout=WAIT_MS)
    third = preview.get_attribute("src")
    page.get_by_test_id("logout").click()
    page.wait_for_selector("body[data-app-state=login]", state="attached", timeout=WAIT_MS)
    assert third in page.evaluate("window.__objectUrls.revoked")
    assert page.watch.errors == []


def test_axe_has_no_serious_issue_with_the_composer_photo_or_with_the_viewer_open(ui, server, fresh_conversation):
    page = ui
    conv, peer = fresh_conversation(messages=1)
    cid = conv["id"]
    _photo_from_peer(peer, cid, 600, 300)
    enter(page, server)
    open_chat(page, cid)
    page.locator(FITTED).wait_for(timeout=WAIT_MS)
    page.get_by_test_id("attach-image").set_input_files(files=[_portrait()])
    page.get_by_test_id("attach-thumb").wait_for(state="visible", timeout=WAIT_MS)
    assert _blocking_axe(page) == []

    page.get_by_test_id("open-photo").click()
    page.locator(VIEWER).wait_for(state="visible", timeout=WAIT_MS)
    assert _blocking_axe(page) == []
    page.keyboard.press("Escape")
    page.locator(VIEWER).wait_for(state="hidden", timeout=WAIT_MS)


def test_on_a_phone_the_viewer_fills_the_screen_the_photo_fits_and_close_is_in_reach(ui, server, fresh_conversation):
    page = ui
    conv, peer = fresh_conversation(messages=1)
    cid = conv["id"]
    _photo_from_peer(peer, cid, 300, 600, content="My plank, from the side", png=_gradient_png)
    page.set_viewport_size(PHONE)
    enter(page, server)
    open_chat(page, cid)
    thumb = page.locator(FITTED)
    thumb.wait_for(timeout=WAIT_MS)
    box = thumb.bounding_box()
    assert (round(box["width"]), round(box["height"])) == (130, 260)   # the phone's smaller box
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.get_by_test_id("open-photo").click()
    viewer = page.locator(VIEWER)
    viewer.wait_for(state="visible", timeout=WAIT_MS)
    frame = viewer.bounding_box()
    assert (round(frame["x"]), round(frame["y"])) == (0, 0)
    assert (round(frame["width"]), round(frame["height"])) == (PHONE["width"], PHONE["height"])
    full = page.get_by_test_id("photo-viewer-image")
    poll_until(lambda: full.evaluate("i => i.complete && i.naturalWidth") == 300, 10, "the full-size photo")
    shown = full.bounding_box()
    assert shown["x"] >= 0 and shown["y"] >= 0
    assert shown["x"] + shown["width"] <= PHONE["width"] and shown["y"] + shown["height"] <= PHONE["height"]
    assert abs(shown["height"] / shown["width"] - 2) < 0.02
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "photo-viewer-phone.png"))
    close = page.get_by_test_id("photo-viewer-close").bounding_box()
    assert close["width"] >= 44 and close["height"] >= 44
    assert close["x"] >= 0 and close["x"] + close["width"] <= PHONE["width"] and close["y"] >= 0
    # Escape closes the viewer only: the phone's Escape of the chat (back to the list) does not fire.
    page.keyboard.press("Escape")
    viewer.wait_for(state="hidden", timeout=WAIT_MS)
    assert page.locator(f"[data-testid=chat-view][data-conversation-id='{cid}']").is_visible()
    assert _focused(page) == "open-photo"
    page.get_by_test_id("open-photo").click()
    viewer.wait_for(state="visible", timeout=WAIT_MS)
    page.get_by_test_id("photo-viewer-close").click()
    viewer.wait_for(state="hidden", timeout=WAIT_MS)
    # A wider window refits the loaded photo into the desktop's box.
    page.set_viewport_size(DESKTOP)
    poll_until(lambda: thumb.evaluate("i => [i.width, i.height]") == [160, 320], 10, "the desktop box")
    assert page.watch.errors == []


def test_a_photo_whose_send_answer_is_lost_is_held_and_arrives_once_with_its_photo(ui, server, fresh_conversation):
    page = ui
    conv, peer = fresh_conversation(messages=0)
    cid = conv["id"]
    enter(page, server)
    open_chat(page, cid)
    # The server stores the next send but its answer is lost (504) and nothing is broadcast.
    server.fault("lose_send_answers", count=1, broadcast=False)
    page.get_by_test_id("attach-image").set_input_files(files=[_portrait()])
    page.get_by_test_id("attach-thumb").wait_for(state="visible", timeout=WAIT_MS)
    page.get_by_test_id("chat-input").fill("held with its photo")
    page.get_by_test_id("send-button").click()
    page.get_by_test_id("attach-thumb").wait_for(state="hidden", timeout=WAIT_MS)   # it left the composer

    page.locator("[data-testid=message][data-pending=true][data-status=held]").wait_for(timeout=WAIT_MS)
    # It goes again by itself, with the same client_message_id: one message, with its photo.
    page.wait_for_selector("[data-testid=message][data-pending=true]", state="detached", timeout=WAIT_MS)
    stored = db_messages(server, cid, peer.access)
    assert [m["content"] for m in stored] == ["held with its photo"] and stored[0]["image"]
    thumb = page.locator(f"[data-message-id='{stored[0]['id']}'] img.message-image.is-fitted")
    thumb.wait_for(timeout=WAIT_MS)
    box = thumb.bounding_box()
    assert (round(box["width"]), round(box["height"])) == (160, 320)


def test_a_photo_that_cannot_load_says_so_and_opens_nothing(ui, server, fresh_conversation):
    page = ui
    conv, peer = fresh_conversation(messages=1)
    cid = conv["id"]
    mid = _photo_from_peer(peer, cid, 300, 600)
    page.route("**/media/**", lambda route: route.fulfill(status=404, body=""))
    try:
        enter(page, server)
        open_chat(page, cid)
        button = page.locator(f"[data-message-id='{mid}'] [data-testid=open-photo]")
        page.wait_for_selector(f"[data-message-id='{mid}'] [data-testid=open-photo][disabled]", timeout=WAIT_MS)
        assert button.get_attribute("aria-label") == "Image unavailable"
        assert "Image unavailable" in page.locator(f"[data-message-id='{mid}']").inner_text()
        button.click(force=True)   # a disabled button: nothing happens, nothing breaks
        assert not _viewer_open(page)
        assert page.watch.errors == []
    finally:
        page.unroute("**/media/**")


def test_a_photo_open_full_size_closes_when_its_sender_deletes_it(ui, server, fresh_conversation):
    page = ui
    conv, peer = fresh_conversation(messages=1)
    cid = conv["id"]
    mid = _photo_from_peer(peer, cid, 300, 600)
    enter(page, server)
    open_chat(page, cid)
    page.locator(FITTED).wait_for(timeout=WAIT_MS)
    page.get_by_test_id("open-photo").click()
    viewer = page.locator(VIEWER)
    viewer.wait_for(state="visible", timeout=WAIT_MS)

    assert peer.http.delete(f"/api/messaging/messages/{mid}/").status_code == 204

    viewer.wait_for(state="hidden", timeout=WAIT_MS)
    page.wait_for_selector(f"[data-message-id='{mid}'][data-deleted=true]", timeout=WAIT_MS)
    assert page.get_by_test_id("photo-viewer-image").get_attribute("src") is None
    assert _focused(page) == "message-list"
    assert page.watch.errors == []
