"""Edges that a first id, an exact gap or a stopped episode sit on: conversation 1 has a draft;
a frame exactly `burst_gap` after the last starts no burst; after its message or its idle
timeout the sender says it is not typing (False, not merely falsy); the content match looks
past an entry of another image-ness."""
from core.drafts import Drafts
from core.frame_batcher import FrameBatcher
from core.outbox import Outbox
from core.typing_signals import TypingSender
from test_drafts import DictStorage


def test_conversation_1_keeps_its_draft():
    drafts = Drafts(DictStorage(), 7)
    drafts.save(1, "see you")
    assert drafts.load(1) == "see you"


def test_a_frame_exactly_burst_gap_after_the_last_is_handled_at_once():
    batcher = FrameBatcher(burst_gap=0.25)
    assert batcher.arrive("a", 1.0) == ["a"]
    assert batcher.arrive("b", 1.25) == ["b"]
    assert batcher.arrive("c", 1.375) == [] and batcher.waiting


def test_after_the_message_or_the_idle_timeout_the_sender_is_not_typing():
    sender = TypingSender(debounce=3.0, idle=3.0)
    sender.on_input(0.0)
    sender.on_message_sent(1.0)
    assert sender.is_typing is False
    sender.on_input(2.0)
    sender.tick(5.0)
    assert sender.is_typing is False


def test_the_content_match_looks_past_an_entry_with_an_image():
    box = Outbox(7)
    box.add("look", "c-1", 0.0, image_name="a.png")
    box.add("look", "c-2", 0.0)
    message = {"id": 5, "conversation_id": 7, "content": "look", "image": None, "sender": {"id": 1}}
    assert box.resolve(message, 1) == "c-2"
