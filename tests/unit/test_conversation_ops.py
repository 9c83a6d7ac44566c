"""Conversation list updates without a refetch (AC-15) and its ordering rules."""
import copy

from core.conversation_ops import (
    apply_new_message,
    preview_text,
    set_unread,
    sort_conversations,
    total_unread,
)

COACH = 1
ALEX = 2
SAM = 3


def user(uid):
    return {"id": uid, "first_name": "U", "last_name": str(uid), "profile_image": None}


def conv(cid, trainee, last_at, unread=0, preview="old"):
    return {
        "id": cid,
        "trainer": user(COACH),
        "trainee": user(trainee),
        "last_message_at": last_at,
        "last_message_preview": preview,
        "unread_count": unread,
        "is_archived": False,
        "created_at": "2024-01-01T00:00:00Z",
    }


def message(cid, sender, content="hello", image=None, at="2024-03-01T12:00:00Z", mid=500):
    return {
        "id": mid,
        "conversation_id": cid,
        "sender": user(sender),
        "content": content,
        "image": image,
        "is_read": False,
        "read_at": None,
        "created_at": at,
    }


def inbox():
    return [
        conv(10, SAM, "2024-02-02T00:00:00Z", unread=1, preview="sam said"),
        conv(20, ALEX, "2024-02-01T00:00:00Z", unread=3, preview="alex said"),
        conv(30, 4, None, preview=None),
    ]


def ids(conversations):
    return [c["id"] for c in conversations]


# -- preview ----------------------------------------------------------------------


def test_ac15_preview_is_the_message_text():
    assert preview_text(message(1, ALEX, content="See you at 6")) == "See you at 6"


def test_ac15_preview_of_an_image_only_message_is_photo():
    assert preview_text(message(1, ALEX, content="", image="/media/a.png")) == "Photo"
    assert preview_text(message(1, ALEX, content="   ", image="/media/a.png")) == "Photo"


def test_ac15_preview_of_image_with_caption_is_the_caption():
    assert preview_text(message(1, ALEX, content="form check", image="/media/a.png")) == "form check"


def test_preview_of_a_message_with_neither_is_empty():
    assert preview_text(message(1, ALEX, content="", image=None)) == ""


# -- apply_new_message (AC-15) -----------------------------------------------------


def test_ac15_new_message_sets_preview_and_time_and_moves_row_to_top():
    result = apply_new_message(
        inbox(), message(20, ALEX, "new!"), my_user_id=COACH, open_conversation_id=None, chat_visible=False
    )
    assert ids(result) == [20, 10, 30]
    assert result[0]["last_message_preview"] == "new!"
    assert result[0]["last_message_at"] == "2024-03-01T12:00:00Z"


def test_ac15_image_message_previews_as_photo():
    result = apply_new_message(
        inbox(), message(30, 4, "", image="/m/x.jpg"), my_user_id=COACH, open_conversation_id=None, chat_visible=False
    )
    assert result[0]["id"] == 30
    assert result[0]["last_message_preview"] == "Photo"


def test_ac15_other_partys_message_in_a_closed_conversation_counts_unread():
    result = apply_new_message(
        inbox(), message(20, ALEX), my_user_id=COACH, open_conversation_id=10, chat_visible=True
    )
    assert result[0]["unread_count"] == 4


def test_ac15_my_own_message_never_counts_unread():
    result = apply_new_message(
        inbox(), message(20, COACH), my_user_id=COACH, open_conversation_id=None, chat_visible=False
    )
    assert result[0]["unread_count"] == 3


def test_ac15_message_in_the_open_and_visible_conversation_does_not_count_unread():
    result = apply_new_message(
        inbox(), message(20, ALEX), my_user_id=COACH, open_conversation_id=20, chat_visible=True
    )
    assert result[0]["unread_count"] == 3


def test_ac15_message_in_the_open_conversation_while_tab_hidden_counts_unread():
    result = apply_new_message(
        inbox(), message(20, ALEX), my_user_id=COACH, open_conversation_id=20, chat_visible=False
    )
    assert result[0]["unread_count"] == 4


def test_apply_new_message_never_mutates_its_inputs():
    conversations = inbox()
    snapshot = copy.deepcopy(conversations)
    new = message(20, ALEX)
    new_snapshot = copy.deepcopy(new)
    result = apply_new_message(conversations, new, my_user_id=COACH, open_conversation_id=None, chat_visible=False)
    assert conversations == snapshot
    assert new == new_snapshot
    assert result is not conversations


def test_unknown_conversation_leaves_the_list_as_it_is():
    conversations = inbox()
    result = apply_new_message(
        conversations, message(99, ALEX), my_user_id=COACH, open_conversation_id=None, chat_visible=False
    )
    assert result is conversations


def test_a_late_older_message_counts_unread_but_does_not_roll_back_the_preview():
    result = apply_new_message(
        inbox(),
        message(10, SAM, "older", at="2024-02-01T12:00:00Z"),
        my_user_id=COACH,
        open_conversation_id=None,
        chat_visible=False,
    )
    assert ids(result) == [10, 20, 30]
    assert result[0]["last_message_preview"] == "sam said"
    assert result[0]["last_message_at"] == "2024-02-02T00:00:00Z"
    assert result[0]["unread_count"] == 2


def test_timestamps_with_offsets_compare_as_instants():
    # 13:00+02:00 is 11:00Z: older than the row's 12:00Z, so the preview stays.
    conversations = [conv(10, SAM, "2024-03-01T12:00:00Z", preview="kept")]
    result = apply_new_message(
        conversations,
        message(10, SAM, "older", at="2024-03-01T13:00:00+02:00"),
        my_user_id=COACH,
        open_conversation_id=None,
        chat_visible=False,
    )
    assert result[0]["last_message_preview"] == "kept"


# -- sorting ----------------------------------------------------------------------


def test_sort_puts_newest_first_nulls_last_and_breaks_ties_by_id_desc():
    conversations = [
        conv(1, 2, None),
        conv(2, 2, "2024-01-01T00:00:00Z"),
        conv(3, 2, "2024-01-03T00:00:00Z"),
        conv(4, 2, "2024-01-01T00:00:00Z"),
        conv(5, 2, None),
    ]
    assert ids(sort_conversations(conversations)) == [3, 4, 2, 5, 1]


def test_sort_does_not_mutate_its_input():
    conversations = [conv(1, 2, "2024-01-01T00:00:00Z"), conv(2, 2, "2024-01-03T00:00:00Z")]
    sort_conversations(conversations)
    assert ids(conversations) == [1, 2]


# -- unread counts ------------------------------------------------------------------


def test_set_unread_changes_one_row_only():
    conversations = inbox()
    result = set_unread(conversations, 20, 0)
    assert [c["unread_count"] for c in result] == [1, 0, 0]
    assert conversations[1]["unread_count"] == 3
    assert result[0] is conversations[0]


def test_set_unread_without_change_returns_the_same_list():
    conversations = inbox()
    assert set_unread(conversations, 20, 3) is conversations
    assert set_unread(conversations, 99, 0) is conversations


def test_total_unread_sums_every_row():
    assert total_unread(inbox()) == 4
    assert total_unread([]) == 0


def test_the_top_row_shortcut_gives_the_same_order_as_a_full_sort():
    # Every row of a sorted list gets a message at every moment: the result must equal a sort.
    times = ["2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z", "2024-03-01T12:00:00Z", None]
    base = sort_conversations([conv(10 + i, ALEX, t) for i, t in enumerate(times)])
    for row in base:
        for at in ["2024-03-01T09:00:00Z", "2024-03-01T11:00:00Z", "2024-03-01T12:00:00Z",
                   "2024-03-01T13:00:00Z"]:
            got = apply_new_message(base, message(row["id"], ALEX, at=at), my_user_id=COACH,
                                    open_conversation_id=None, chat_visible=False)
            assert [c["id"] for c in got] == [c["id"] for c in sort_conversations(got)]
            assert sorted(c["id"] for c in got) == sorted(c["id"] for c in base)


def test_a_list_answer_never_moves_a_rows_last_message_back_in_time():
    from core.conversation_ops import keep_newer_rows
    shown = [{"id": 1, "last_message_preview": "written on the train", "last_message_at": "2026-12-07T10:00:05Z",
              "unread_count": 0},
             {"id": 2, "last_message_preview": "old", "last_message_at": "2026-12-07T09:00:00Z", "unread_count": 0}]
    answer = [{"id": 1, "last_message_preview": "sent while you were offline", "last_message_at": "2026-12-07T10:00:01Z",
               "unread_count": 1, "title": "server's"},
              {"id": 2, "last_message_preview": "newer on the server", "last_message_at": "2026-12-07T09:30:00Z",
               "unread_count": 2},
              {"id": 3, "last_message_preview": None, "last_message_at": None, "unread_count": 0}]
    rows = keep_newer_rows(answer, shown)
    assert rows[0] == {"id": 1, "last_message_preview": "written on the train",
                       "last_message_at": "2026-12-07T10:00:05Z", "unread_count": 1, "title": "server's"}
    assert rows[1] == answer[1]  # the answer is newer: it wins
    assert rows[2] == answer[2]  # not shown before
    assert keep_newer_rows(answer, None) == answer
    # Same time: the answer's (it may carry an edit's new preview).
    same = [dict(answer[0], last_message_at="2026-12-07T10:00:05Z")]
    assert keep_newer_rows(same, shown) == same
