"""What trainers expect from a chat they live in (issue 14), in Chromium: drafts, the unread
line, the tab's count, grouped messages, deep links and Back, focus and keys."""

from e2e_harness import wait_ready, wait_state
from ui_support import _module_tab, ui  # noqa: F401 - fixtures
from ui_support import (
    WAIT_MS, SocketFrames, chat, enter, open_chat, poll_until, row,
)

DRAFTS_JS = """() => Object.fromEntries(Object.keys(localStorage)
    .filter((k) => k.startsWith('coachline.draft.')).map((k) => [k, localStorage.getItem(k)]))"""


def caret(page):
    return page.evaluate("""() => { const t = document.querySelector('[data-testid=chat-input]');
        return {value: t.value, start: t.selectionStart, end: t.selectionEnd, focused: document.activeElement === t}; }""")


def drafts_of(page, cid):
    return {k: v for k, v in page.evaluate(DRAFTS_JS).items() if k.endswith(f".{cid}")}


def test_a_draft_stays_with_its_conversation_across_switches_reloads_and_is_gone_after_send_and_logout(
        ui, server, fresh_conversation):
    page = ui
    conv_a, _ = fresh_conversation(messages=2)
    conv_b, _ = fresh_conversation(messages=2)
    a, b = conv_a["id"], conv_b["id"]
    frames = SocketFrames(page)
    enter(page, server)
    open_chat(page, a)
    page.get_by_test_id("chat-input").press_sequentially("half a reply")
    open_chat(page, b)
    assert caret(page)["value"] == ""
    page.get_by_test_id("chat-input").press_sequentially("note for B")

    # Back to A: the half reply is there, the caret after it, in a focused box.
    open_chat(page, a)
    assert caret(page) == {"value": "half a reply", "start": 12, "end": 12, "focused": True}
    assert list(drafts_of(page, a).values()) == ["half a reply"]

    # A reload keeps it (the app reopens A) and sends no typing signal for it.
    page.reload()
    wait_ready(page, "messages")
    chat(page, a).wait_for(timeout=WAIT_MS)
    page.wait_for_selector(f"[data-testid=chat-view][data-conversation-id='{a}'][data-ws-state=connected]",
                           state="attached", timeout=WAIT_MS)
    assert caret(page) == {"value": "half a reply", "start": 12, "end": 12, "focused": True}
    sent_before = len(frames.typing_sent())
    page.wait_for_timeout(1500)
    assert frames.typing_sent()[sent_before:] == []  # restored, not typed
    page.get_by_test_id("chat-input").press_sequentially("!")
    poll_until(lambda: frames.typing_sent()[sent_before:][:1] == [True], 10, "typing once the trainer types",
               page=page)

    # Sending removes the draft; logging out removes every draft of this trainer.
    page.get_by_test_id("chat-input").press("Enter")
    poll_until(lambda: drafts_of(page, a) == {}, 10, "the sent draft to be gone", page=page)
    assert list(drafts_of(page, b).values()) == ["note for B"]
    page.get_by_test_id("logout").click()
    wait_state(page, "login")
    assert page.evaluate(DRAFTS_JS) == {}
