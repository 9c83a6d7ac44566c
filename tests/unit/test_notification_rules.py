"""Desktop notifications: when one is shown and what it says (issue 22 point 1),
and the user's choices (core/notifications.py, core/notify_prefs.py)."""

import json

import pytest

from core.notifications import BODY_MAX_CHARS, NO_PREVIEW, QUIET_S, NotificationRules, Notify, preview_body
from core.notify_prefs import MAX_MUTED, PREFIX, Controls, NotifyPrefs, controls_for

ME = 1
COACH = {"id": ME, "first_name": "Casey", "last_name": "Coach", "profile_image": None}


def trainee(uid):
    return {"id": uid, "first_name": "Tina", "last_name": f"T{uid}", "profile_image": None}


def row(cid, at, unread=0, preview="hi", other=None):
    return {"id": cid, "trainer": COACH, "trainee": other or trainee(100 + cid),
            "last_message_at": at, "last_message_preview": preview, "unread_count": unread,
            "is_archived": False, "created_at": "2026-12-01T00:00:00Z"}


T0, T1, T2, T3 = ("2026-12-07T10:00:00Z", "2026-12-07T10:01:00Z", "2026-12-07T10:02:00Z", "2026-12-07T10:03:00Z")


def rules_with(*rows, now=0.0):
    rules = NotificationRules(ME)
    assert rules.rows_changed(list(rows), now, **SHOWN_ELSEWHERE) == []  # the baseline
    return rules


SHOWN_ELSEWHERE = {"open_id": None, "page_visible": True, "enabled": True}


# ----- what is news -------------------------------------------------------------------------

def test_the_first_rows_are_the_baseline_and_notify_nothing_even_unread():
    rules = NotificationRules(ME)
    assert rules.rows_changed([row(5, T1, unread=3)], 0.0, **SHOWN_ELSEWHERE) == []


def test_a_new_message_from_the_other_party_in_a_conversation_that_is_not_open_notifies():
    rules = rules_with(row(5, T0, unread=0), row(6, T0))
    notes = rules.rows_changed([row(5, T1, unread=1, preview="See you at 6"), row(6, T0)], 100.0,
                               open_id=6, page_visible=True, enabled=True)
    assert notes == [Notify(tag="conversation-5", title="Tina T105", body="See you at 6",
                            conversation_id=5, alert=True)]


def test_the_title_is_the_other_party_whichever_role_i_have():
    rules = NotificationRules(205)  # I am the trainee of conversation 5
    rules.rows_changed([row(5, T0, other=trainee(205))], 0.0, **SHOWN_ELSEWHERE)
    [note] = rules.rows_changed([row(5, T1, unread=1, other=trainee(205))], 1.0, **SHOWN_ELSEWHERE)
    assert note.title == "Casey Coach"


def test_my_own_message_never_notifies_its_unread_count_does_not_grow():
    rules = rules_with(row(5, T0, unread=2))
    assert rules.rows_changed([row(5, T1, unread=2, preview="mine")], 1.0, **SHOWN_ELSEWHERE) == []


def test_a_read_then_a_new_message_notifies_again():
    rules = rules_with(row(5, T0, unread=2))
    assert rules.rows_changed([row(5, T0, unread=0)], 1.0, **SHOWN_ELSEWHERE) == []  # read
    assert len(rules.rows_changed([row(5, T1, unread=1)], 2.0, **SHOWN_ELSEWHERE)) == 1


def test_the_open_conversation_on_a_visible_page_never_notifies():
    rules = rules_with(row(5, T0))
    assert rules.rows_changed([row(5, T1, unread=1)], 1.0, open_id=5, page_visible=True, enabled=True) == []


def test_the_open_conversation_notifies_when_the_page_is_hidden():
    rules = rules_with(row(5, T0))
    notes = rules.rows_changed([row(5, T1, unread=1)], 1.0, open_id=5, page_visible=False, enabled=True)
    assert [n.conversation_id for n in notes] == [5]


def test_a_muted_conversation_never_notifies_and_others_still_do():
    rules = rules_with(row(5, T0), row(6, T0))
    notes = rules.rows_changed([row(5, T1, unread=1), row(6, T1, unread=1)], 1.0, muted={5}, **SHOWN_ELSEWHERE)
    assert [n.conversation_id for n in notes] == [6]


def test_while_off_nothing_notifies_and_turning_on_does_not_bring_old_messages_back():
    rules = rules_with(row(5, T0))
    assert rules.rows_changed([row(5, T1, unread=1)], 1.0, open_id=None, page_visible=True, enabled=False) == []
    assert rules.rows_changed([row(5, T1, unread=1)], 2.0, **SHOWN_ELSEWHERE) == []
    assert len(rules.rows_changed([row(5, T2, unread=2)], 3.0, **SHOWN_ELSEWHERE)) == 1


def test_a_message_already_seen_is_not_news_again_a_list_answer_after_the_inbox():
    rules = rules_with(row(5, T0))
    assert len(rules.rows_changed([row(5, T1, unread=1)], 1.0, **SHOWN_ELSEWHERE)) == 1
    # The list answer with the same last message (and a badge that the server counts higher).
    assert rules.rows_changed([row(5, T1, unread=2)], 20.0, **SHOWN_ELSEWHERE) == []


def test_an_older_row_time_never_notifies_a_late_answer_that_rolls_back():
    rules = rules_with(row(5, T2, unread=1))
    assert rules.rows_changed([row(5, T1, unread=2)], 1.0, **SHOWN_ELSEWHERE) == []
    assert rules.rows_changed([row(5, T2, unread=3)], 2.0, **SHOWN_ELSEWHERE) == []  # T2 was seen
    assert len(rules.rows_changed([row(5, T3, unread=4)], 3.0, **SHOWN_ELSEWHERE)) == 1


def test_a_conversation_new_since_the_baseline_notifies_when_it_brings_an_unread_message():
    rules = rules_with(row(5, T0))
    notes = rules.rows_changed([row(7, T1, unread=1), row(5, T0)], 1.0, **SHOWN_ELSEWHERE)
    assert [n.conversation_id for n in notes] == [7]
    assert rules.rows_changed([row(8, None, unread=0)], 2.0, **SHOWN_ELSEWHERE) == []  # no message yet


def test_a_row_without_messages_then_its_first_message_notifies():
    rules = rules_with(row(5, None))
    assert len(rules.rows_changed([row(5, T0, unread=1)], 1.0, **SHOWN_ELSEWHERE)) == 1


def test_a_baseline_taken_before_any_list_waits_for_the_first_list():
    rules = NotificationRules(ME)
    assert rules.rows_changed(None, 0.0, **SHOWN_ELSEWHERE) == []  # the cache holds no list yet
    assert rules.rows_changed([row(5, T1, unread=1)], 1.0, **SHOWN_ELSEWHERE) == []  # the baseline
    assert len(rules.rows_changed([row(5, T2, unread=2)], 2.0, **SHOWN_ELSEWHERE)) == 1


@pytest.mark.parametrize("bad", [["x"], [{"id": True}], [{"id": "5"}], [{}], "rows", 7])
def test_rows_that_are_not_rows_are_skipped_calmly(bad):
    rules = rules_with(row(5, T0))
    assert rules.rows_changed(bad, 1.0, **SHOWN_ELSEWHERE) == []
    assert len(rules.rows_changed([row(5, T1, unread=1)], 2.0, **SHOWN_ELSEWHERE)) == 1


def test_a_bad_time_or_unread_count_is_no_news():
    rules = rules_with(row(5, T0))
    assert rules.rows_changed([row(5, "yesterday", unread=1)], 1.0, **SHOWN_ELSEWHERE) == []
    assert rules.rows_changed([row(5, T1, unread="1")], 2.0, **SHOWN_ELSEWHERE) == []


# ----- one per conversation, no flood ----------------------------------------------------------

def test_a_burst_alerts_once_then_replaces_quietly_until_the_quiet_time_is_over():
    rules = rules_with(row(5, T0))
    times = iter(["2026-12-07T10:00:%02dZ" % s for s in range(1, 60)])
    first = rules.rows_changed([row(5, next(times), unread=1)], 100.0, **SHOWN_ELSEWHERE)
    inside = rules.rows_changed([row(5, next(times), unread=2, preview="two")], 100.0 + QUIET_S - 0.001,
                                **SHOWN_ELSEWHERE)
    edge = rules.rows_changed([row(5, next(times), unread=3)], 100.0 + QUIET_S, **SHOWN_ELSEWHERE)
    assert [n.alert for n in first + inside + edge] == [True, False, True]
    assert inside[0].tag == first[0].tag == "conversation-5" and inside[0].body == "two"


def test_the_quiet_time_is_per_conversation():
    rules = rules_with(row(5, T0), row(6, T0))
    rules.rows_changed([row(5, T1, unread=1), row(6, T0)], 100.0, **SHOWN_ELSEWHERE)
    [note] = rules.rows_changed([row(5, T1, unread=1), row(6, T1, unread=1)], 101.0, **SHOWN_ELSEWHERE)
    assert note.conversation_id == 6 and note.alert


def test_a_clock_that_went_back_alerts_rather_than_stays_quiet_for_ever():
    rules = rules_with(row(5, T0))
    rules.rows_changed([row(5, T1, unread=1)], 1000.0, **SHOWN_ELSEWHERE)
    [note] = rules.rows_changed([row(5, T2, unread=2)], 10.0, **SHOWN_ELSEWHERE)
    assert note.alert


# ----- what it says --------------------------------------------------------------------------

def test_the_body_is_the_preview_on_one_line_cut_with_an_ellipsis():
    assert preview_body("Photo") == "Photo"
    assert preview_body("line one\n\n  line two") == "line one line two"
    exact = "a" * BODY_MAX_CHARS
    assert preview_body(exact) == exact
    cut = preview_body("b" * (BODY_MAX_CHARS + 1))
    assert len(cut) == BODY_MAX_CHARS and cut.endswith("…")


@pytest.mark.parametrize("empty", [None, "", "   ", 5])
def test_an_empty_preview_says_new_message(empty):
    assert preview_body(empty) == NO_PREVIEW


def test_a_photo_message_says_photo():
    rules = rules_with(row(5, T0))
    [note] = rules.rows_changed([row(5, T1, unread=1, preview="Photo")], 1.0, **SHOWN_ELSEWHERE)
    assert note.body == "Photo"


# ----- the user's choices --------------------------------------------------------------------

class DictStorage:
    def __init__(self, data=None):
        self.data = dict(data or {})

    def get_item(self, key):
        return self.data.get(key)

    def set_item(self, key, value):
        self.data[key] = value


class RefusingStorage(DictStorage):
    def get_item(self, key):
        raise RuntimeError("SecurityError")

    def set_item(self, key, value):
        raise RuntimeError("QuotaExceededError")


def test_the_defaults_are_off_silent_nothing_muted():
    prefs = NotifyPrefs(DictStorage(), 7)
    assert (prefs.on, prefs.sound, prefs.denied, prefs.muted) == (False, False, False, set())


def test_choices_survive_a_reload_and_belong_to_one_user():
    storage = DictStorage()
    prefs = NotifyPrefs(storage, 7)
    prefs.set_on(True)
    prefs.set_sound(True)
    prefs.set_muted(5, True)
    again = NotifyPrefs(storage, 7)
    assert (again.on, again.sound, again.is_muted(5), again.is_muted(6)) == (True, True, True, False)
    other = NotifyPrefs(storage, 8)
    assert (other.on, other.sound, other.is_muted(5)) == (False, False, False)
    assert list(storage.data) == [f"{PREFIX}7"]


def test_unmute_and_a_mute_twice_keep_one_entry():
    storage = DictStorage()
    prefs = NotifyPrefs(storage, 7)
    prefs.set_muted(5, True)
    prefs.set_muted(5, True)
    assert json.loads(storage.data[f"{PREFIX}7"])["muted"] == [5]
    prefs.set_muted(5, False)
    assert NotifyPrefs(storage, 7).muted == set()


def test_the_muted_list_is_bounded_keeping_the_newest():
    prefs = NotifyPrefs(DictStorage(), 7)
    for cid in range(1, MAX_MUTED + 3):
        prefs.set_muted(cid, True)
    assert len(prefs.muted) == MAX_MUTED and prefs.is_muted(MAX_MUTED + 2) and not prefs.is_muted(1)


@pytest.mark.parametrize("stored", ["not json", "[1,2]", '{"on": "yes", "muted": [1, "2", true, 3]}', "null"])
def test_a_stored_value_that_is_not_ours_reads_as_the_defaults(stored):
    prefs = NotifyPrefs(DictStorage({f"{PREFIX}7": stored}), 7)
    assert prefs.on is False and prefs.muted <= {1, 3}


def test_refusing_storage_keeps_the_choice_for_the_page():
    prefs = NotifyPrefs(RefusingStorage(), 7)
    prefs.set_on(True)
    prefs.set_muted(5, True)
    assert prefs.on and prefs.is_muted(5)


def test_a_denial_turns_off_and_turning_on_forgets_it():
    prefs = NotifyPrefs(DictStorage(), 7)
    prefs.set_on(True)
    prefs.set_denied()
    assert (prefs.on, prefs.denied) == (False, True)
    prefs.set_on(True)
    assert (prefs.on, prefs.denied) == (True, False)


def test_a_bad_mute_id_is_ignored():
    prefs = NotifyPrefs(DictStorage(), 7)
    prefs.set_muted("5", True)
    prefs.set_muted(True, True)
    assert prefs.muted == set()


# ----- which control the list pane shows -----------------------------------------------------

def prefs_with(on=False, denied=False):
    prefs = NotifyPrefs(DictStorage(), 7)
    prefs.set_on(on)
    if denied:
        prefs.set_denied()
    return prefs


@pytest.mark.parametrize("supported, permission, on, denied, expected", [
    (False, None, False, False, Controls.NONE),  # no Notification in this browser
    (True, "default", False, False, Controls.OFFER),  # never asked: the offer
    (True, "default", False, True, Controls.NONE),  # this user said no; the browser asks again
    (True, "denied", True, False, Controls.NONE),  # the browser's no wins over a stored yes
    (True, "granted", False, False, Controls.OFFER),  # allowed, but this user has them off
    (True, "granted", True, False, Controls.ON),
    (True, "granted", False, True, Controls.OFFER),  # allowed in the browser's settings since
    (True, "bogus", False, False, Controls.OFFER),
])
def test_the_control_shown_follows_the_permission_and_the_choice(supported, permission, on, denied, expected):
    assert controls_for(supported=supported, permission=permission, prefs=prefs_with(on, denied)) is expected
