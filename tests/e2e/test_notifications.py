"""Desktop notifications in Chromium (issue 22 point 1), against serve.py.

The browser's Notification is replaced before the page loads (add_init_script) by a fake
that records every notification made, answers requestPermission as the test says, and
keeps the permission across a reload (sessionStorage), as a browser keeps the origin's.
Messages come from the trainee through the real send path (REST), so they reach the page
by the inbox socket (most tests), by the open chat's socket (a hidden tab), or by the list
poll of a backend without the inbox.
"""

import os
import struct
import uuid
import zlib
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from e2e_harness import Peer, Server, chat_view, conversation_row, login, open_conversation, wait_until
from realtime_support import advance, install_recorder, pause, set_visibility
from ui_support import PHONE, animations_done

# Committed screenshots are refreshed only when asked (UPDATE_SCREENSHOTS=1), as in test_layout.py.
SHOTS = (Path(__file__).resolve().parents[2] / "docs" / "screenshots" if os.environ.get("UPDATE_SCREENSHOTS")
         else Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots")

FAKE_NOTIFICATION_JS = r"""
(() => {
  const made = [];
  // Read when asked, so the test's own init scripts may set them in any order.
  const state = {
    get permission() { return sessionStorage.getItem('__fakePermission') || 'default'; },
    get answer() { return sessionStorage.getItem('__fakeAnswer') || 'granted'; },
    asked: 0,
  };
  class FakeNotification {
    constructor(title, options) {
      this.title = title;
      this.options = options || {};
      this.closed = false;
      this.onclick = null;
      made.push(this);
    }
    static get permission() { return state.permission; }
    static requestPermission() {
      state.asked += 1;
      const answer = state.answer;
      sessionStorage.setItem('__fakePermission', answer);
      return Promise.resolve(answer);
    }
    close() { this.closed = true; }
  }
  window.Notification = FakeNotification;
  window.__notify = {
    state,
    made,
    list: () => made.map((n) => ({title: n.title, body: n.options.body, tag: n.options.tag,
                                  renotify: n.options.renotify, closed: n.closed,
                                  clickable: typeof n.onclick === 'function'})),
    click: (i) => made[i].onclick(new Event('click')),
  };
})();
"""

# WebAudio, recorded: how many tones were started.
FAKE_AUDIO_JS = r"""
(() => {
  window.__tones = 0;
  class FakeAudioContext {
    constructor() { this.state = 'running'; this.currentTime = 0; this.destination = {}; }
    createOscillator() {
      return {frequency: {value: 0}, connect() {}, start() { window.__tones += 1; }, stop() {}};
    }
    createGain() { return {gain: {setValueAtTime() {}, exponentialRampToValueAtTime() {}}, connect() {}}; }
    close() { this.state = 'closed'; }
  }
  window.AudioContext = FakeAudioContext;
})();
"""

OFFER = "[data-testid=notify-offer]"
OFF = "[data-testid=notify-off]"
MUTE = "[data-testid=chat-mute]"
BLOCKING = ("serious", "critical")


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("notify-server")).start()  # serve.py as shipped: with the inbox
    yield srv
    srv.stop()


@pytest.fixture
def peers():
    made = []
    yield made
    for peer in made:
        peer.close()


def make_conversation(srv, peers, name):
    email = f"{name.lower()}{uuid.uuid4().hex[:8]}@example.com"
    conv = srv.fault("conversation", trainer_email="coach@example.com", trainee_email=email,
                     messages=1, first_name=name, last_name="Trainee")
    peer = Peer(srv, email)
    peers.append(peer)
    return conv["id"], peer


def fake_notifications(page, answer="granted", permission=None):
    page.add_init_script(FAKE_NOTIFICATION_JS)
    page.add_init_script(f"sessionStorage.setItem('__fakeAnswer', {answer!r});")
    if permission is not None:
        page.add_init_script(f"sessionStorage.setItem('__fakePermission', {permission!r});")


def made(page):
    return page.evaluate("window.__notify.list()")


def asked(page):
    return page.evaluate("window.__notify.state.asked")


def wait_made(page, n, what=None):
    return wait_until(lambda: (lambda m: m if len(m) >= n else None)(made(page)),
                      what or f"{n} notification(s)", timeout=10)


def wait_preview(page, cid, text):
    row = conversation_row(page, cid).locator("[data-testid=conversation-preview]")
    wait_until(lambda: row.text_content() == text, f"row {cid} shows {text!r}", timeout=10)


def turn_on(page):
    page.locator(OFFER).click()
    page.locator(OFF).wait_for()


def blocking_violations(page):
    results = Axe().run(page)
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
            for v in results.response["violations"] if v["impact"] in BLOCKING]


# ----- asking, and what is shown ------------------------------------------------------------------

def test_asked_only_on_the_click_then_a_message_elsewhere_notifies_with_name_preview_and_tag(
        page, live_server, peers):
    open_cid, open_peer = make_conversation(live_server, peers, "Olive")
    other_cid, other_peer = make_conversation(live_server, peers, "Nora")
    fake_notifications(page)
    login(page, live_server)
    page.locator(OFFER).wait_for()
    assert page.locator(OFFER).text_content() == "Turn on notifications"
    assert asked(page) == 0  # nothing asked at sign-in
    turn_on(page)
    assert asked(page) == 1
    assert page.evaluate("document.activeElement.dataset.testid") == "notify-off"  # focus kept on the control

    open_conversation(page, open_cid)
    other_peer.send(other_cid, "See you at 6")
    [note] = wait_made(page, 1)
    assert note == {"title": "Nora Trainee", "body": "See you at 6", "tag": f"conversation-{other_cid}",
                    "renotify": True, "closed": False, "clickable": True}

    # My own message (another tab of mine): the list follows it, no notification.
    coach = Peer(live_server, "coach@example.com")
    peers.append(coach)
    coach.send(other_cid, "mine, from my phone")
    wait_preview(page, other_cid, "mine, from my phone")
    # The open, visible chat: shown in the chat, no notification.
    sent = open_peer.send(open_cid, "in the open chat")
    page.locator(f"[data-testid=message][data-message-id='{sent['id']}']").wait_for()
    wait_preview(page, open_cid, "in the open chat")
    # A later message elsewhere still notifies: the two above were judged and dropped.
    other_peer.send(other_cid, "second " + "x" * 200)
    notes = wait_made(page, 2)
    assert len(notes) == 2 and notes[1]["tag"] == f"conversation-{other_cid}"
    assert notes[1]["body"].startswith("second xxx") and notes[1]["body"].endswith("…")
    assert len(notes[1]["body"]) == 120
    assert notes[1]["closed"] is False
    open_conversation(page, other_cid)  # read in the app: its notification is closed
    wait_until(lambda: made(page)[1]["closed"], "the notification closed when its chat opened", timeout=10)
    assert page.watch.errors == []


def test_the_open_conversation_notifies_while_the_tab_is_hidden(page, live_server, peers):
    cid, peer = make_conversation(live_server, peers, "Hana")
    fake_notifications(page, permission="granted")
    login(page, live_server)
    turn_on(page)  # granted already: no question, just on
    assert asked(page) == 0
    open_conversation(page, cid)
    set_visibility(page, "hidden")
    peer.send(cid, "are you there?")
    [note] = wait_made(page, 1)
    assert (note["title"], note["body"], note["tag"]) == ("Hana Trainee", "are you there?", f"conversation-{cid}")


def test_clicking_a_notification_focuses_the_tab_and_opens_its_conversation(page, live_server, peers):
    open_cid, _ = make_conversation(live_server, peers, "Ada")
    other_cid, other_peer = make_conversation(live_server, peers, "Bea")
    fake_notifications(page, permission="granted")
    login(page, live_server)
    turn_on(page)
    open_conversation(page, open_cid)
    other_peer.send(other_cid, "open me")
    wait_made(page, 1)
    page.evaluate("window.__notify.click(0)")
    chat_view(page, other_cid).wait_for()
    page.wait_for_selector(f"[data-testid=conversation-item][data-conversation-id='{other_cid}'][aria-current=true]")
    [note] = made(page)
    assert note["closed"] is True and note["clickable"] is False  # closed, its handler released


def test_turn_off_stops_them_and_offers_them_again(page, live_server, peers):
    cid, peer = make_conversation(live_server, peers, "Fay")
    fake_notifications(page, permission="granted")
    login(page, live_server)
    turn_on(page)
    page.locator(OFF).click()
    page.locator(OFFER).wait_for()
    peer.send(cid, "quietly")
    wait_preview(page, cid, "quietly")
    assert made(page) == []


def one_pixel_png():
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1 x 1, 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x10\x80\x70"))
            + chunk(b"IEND", b""))


def test_a_photo_without_text_says_photo(page, live_server, peers):
    cid, peer = make_conversation(live_server, peers, "Pho")
    fake_notifications(page, permission="granted")
    login(page, live_server)
    turn_on(page)
    answer = peer.http.post(f"/api/messaging/conversations/{cid}/send/",
                            files={"image": ("dot.png", one_pixel_png(), "image/png")})
    answer.raise_for_status()
    assert answer.json()["image"] and not answer.json()["content"]
    [note] = wait_made(page, 1)
    assert (note["title"], note["body"]) == ("Pho Trainee", "Photo")


def test_a_burst_alerts_once_and_the_sound_is_off_until_turned_on(page, live_server, peers):
    cid, peer = make_conversation(live_server, peers, "Bu")
    other_cid, other_peer = make_conversation(live_server, peers, "Bo")
    fake_notifications(page, permission="granted")
    page.add_init_script(FAKE_AUDIO_JS)
    login(page, live_server)
    turn_on(page)
    peer.send(cid, "one")
    wait_made(page, 1)
    assert page.evaluate("window.__tones") == 0  # off by default
    page.get_by_role("button", name="Notification sound").click()
    page.wait_for_selector("[data-testid=notify-sound][aria-pressed=true]")
    peer.send(cid, "two")  # within 10 s of the first: replaces it quietly
    notes = wait_made(page, 2)
    assert [(n["tag"], n["body"], n["renotify"]) for n in notes] == [
        (f"conversation-{cid}", "one", True), (f"conversation-{cid}", "two", False)]
    assert page.evaluate("window.__tones") == 0  # a quiet replacement makes no sound
    other_peer.send(other_cid, "three")
    wait_made(page, 3)
    assert page.evaluate("window.__tones") == 1


# ----- mute, denial, no Notification at all -------------------------------------------------------

def test_a_muted_conversation_never_notifies_and_the_mute_survives_a_reload(page, live_server, peers):
    muted_cid, muted_peer = make_conversation(live_server, peers, "Mia")
    open_cid, _ = make_conversation(live_server, peers, "Ola")
    fake_notifications(page, permission="granted")
    login(page, live_server)
    turn_on(page)
    open_conversation(page, muted_cid)
    mute = page.locator(MUTE)
    assert mute.get_attribute("aria-pressed") == "false"
    assert mute.get_attribute("aria-label") == "Mute notifications for this conversation"
    mute.focus()
    page.keyboard.press("Enter")  # by keyboard
    page.wait_for_selector(f"{MUTE}[aria-pressed=true]")
    muted_mark = conversation_row(page, muted_cid).get_by_test_id("conversation-muted")
    assert muted_mark.is_visible() and conversation_row(page, open_cid).get_by_test_id("conversation-muted").is_hidden()
    open_conversation(page, open_cid)
    muted_peer.send(muted_cid, "muted one")
    wait_preview(page, muted_cid, "muted one")
    assert made(page) == []

    page.reload()
    page.get_by_test_id("conversation-item").first.wait_for()
    page.locator(OFF).wait_for()  # still on after the reload
    assert muted_mark.is_visible()  # the row's mark, from the stored choice
    open_conversation(page, open_cid)
    muted_peer.send(muted_cid, "muted two")
    wait_preview(page, muted_cid, "muted two")
    assert made(page) == []
    open_conversation(page, muted_cid)
    page.wait_for_selector(f"{MUTE}[aria-pressed=true]")
    page.locator(MUTE).click()  # unmuted
    page.wait_for_selector(f"{MUTE}[aria-pressed=false]")
    muted_mark.wait_for(state="hidden")
    open_conversation(page, open_cid)
    muted_peer.send(muted_cid, "heard again")
    [note] = wait_made(page, 1)
    assert note["body"] == "heard again"


def test_a_denial_hides_the_offer_and_is_remembered(page, live_server, peers):
    cid, peer = make_conversation(live_server, peers, "Dee")
    fake_notifications(page, answer="denied")
    login(page, live_server)
    page.locator(OFFER).click()
    page.wait_for_selector("[data-testid=notify-controls]", state="hidden")
    assert asked(page) == 1
    assert page.evaluate("document.activeElement.dataset.testid") == "conversation-item"  # focus not lost
    # The browser forgets (a dismissed prompt reads "default" again): this user's no stands.
    page.add_init_script("sessionStorage.setItem('__fakePermission', 'default');")
    page.reload()
    page.get_by_test_id("conversation-item").first.wait_for()
    page.wait_for_selector("body[data-capabilities]", state="attached")
    assert page.locator("[data-testid=notify-controls]").is_hidden()
    peer.send(cid, "no one asked")
    wait_preview(page, cid, "no one asked")
    assert made(page) == [] and asked(page) == 0


def test_a_browser_without_notifications_shows_no_control(page, live_server, peers):
    cid, _ = make_conversation(live_server, peers, "Nil")
    page.add_init_script("delete window.Notification;")
    login(page, live_server)
    open_conversation(page, cid)
    assert page.locator("[data-testid=notify-controls]").is_hidden()
    assert page.locator(MUTE).count() == 0
    assert page.watch.errors == []


# ----- a backend without the inbox: the list poll brings them -------------------------------------

def test_without_the_inbox_the_list_poll_brings_the_notification(page, server, fresh_conversation):
    conv, peer = fresh_conversation(messages=1)
    fake_notifications(page, permission="granted")
    install_recorder(page)
    page.clock.install()
    login(page, server)
    turn_on(page)
    pause(page)
    peer.send(conv["id"], "by the poll")
    advance(page, 16_000, step=1000)  # the list is polled every 15 s without any socket (AC-26)
    [note] = wait_made(page, 1)
    assert (note["body"], note["tag"]) == ("by the poll", f"conversation-{conv['id']}")


# ----- keyboard, axe, phone width -----------------------------------------------------------------

@pytest.fixture
def demo_server(tmp_path_factory):
    """A serve.py with the demo data only, for the screenshot."""
    srv = Server(tmp_path_factory.mktemp("notify-demo")).start()
    yield srv
    srv.stop()


def test_the_controls_fit_a_phone_and_pass_axe(page, demo_server):
    fake_notifications(page)
    page.set_viewport_size(PHONE)
    login(page, demo_server)
    page.locator(OFFER).wait_for()
    assert blocking_violations(page) == []  # the offer
    page.locator(OFFER).focus()
    page.keyboard.press("Enter")  # by keyboard
    page.locator(OFF).wait_for()
    sound = page.get_by_role("button", name="Notification sound")
    assert sound.get_attribute("aria-pressed") == "false"  # off by default
    sound.focus()
    page.keyboard.press("Space")
    page.wait_for_selector("[data-testid=notify-sound][aria-pressed=true]")
    box = page.locator("[data-testid=notify-controls]").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    animations_done(page)
    assert blocking_violations(page) == []  # on, with the sound toggle
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "phone-notifications.png"))
    cid = int(page.get_by_test_id("conversation-item").first.get_attribute("data-conversation-id"))
    open_conversation(page, cid)
    mute = page.locator(MUTE)
    mute.click()
    page.wait_for_selector(f"{MUTE}[aria-pressed=true]")
    mute_box = mute.bounding_box()
    assert mute.is_visible() and mute_box["x"] + mute_box["width"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    animations_done(page)
    assert blocking_violations(page) == []  # the chat header with its mute toggle
    page.screenshot(path=str(SHOTS / "phone-chat-muted.png"))
    assert page.watch.errors == []
