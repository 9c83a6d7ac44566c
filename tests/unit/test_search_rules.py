"""Search (issue 22 item 6): the query's rules at their edges, the debounce, stale answers
dropped, paging, the local fallback's matching, result rows and the jump to a message."""

import pytest

from core.message_jump import JumpStep, MessageJump
from core.message_log import with_messages
from core.search import (DEBOUNCE_S, MAX_QUERY_CHARS, MIN_QUERY_CHARS, SearchBox, SearchRequest, Status,
                         clean_query, query_hint, search_loaded)
from core.search_rows import CONTEXT_BEFORE, ELLIPSIS, conversation_title, mark_match, result_rows

COACH = {"id": 1, "first_name": "Casey", "last_name": "Coach"}
ALEX = {"id": 2, "first_name": "Alex", "last_name": "Rivera"}


def msg(mid, content, cid=7, sender=ALEX, **extra):
    return {"id": mid, "conversation_id": cid, "sender": sender, "content": content,
            "created_at": "2026-12-07T10:15:00Z", **extra}


def answer(*messages, has_more=False):
    return {"results": list(messages), "has_more": has_more}


# ----- the query's rules -------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("", None), ("   ", None), ("a", None), (" a ", None),
    ("ab", "ab"), ("  ab  ", "ab"),
    ("x" * MAX_QUERY_CHARS, "x" * MAX_QUERY_CHARS),
    ("x" * (MAX_QUERY_CHARS + 1), None),
    ("  " + "x" * MAX_QUERY_CHARS + "  ", "x" * MAX_QUERY_CHARS),
    (None, None), (12, None),
])
def test_a_query_is_trimmed_and_2_to_200_characters(text, expected):
    assert clean_query(text) == expected


def test_the_hint_says_why_a_text_does_not_search_yet():
    assert query_hint("") == ""
    assert str(MIN_QUERY_CHARS) in query_hint("a")
    assert query_hint("ab") == ""
    assert str(MAX_QUERY_CHARS) in query_hint("x" * (MAX_QUERY_CHARS + 1))


# ----- the debounce ------------------------------------------------------------------------

def test_a_search_waits_for_quiet_after_the_last_keystroke():
    box = SearchBox()
    box.typed("ru", 10.0)
    assert box.status is Status.WAITING and box.next_wakeup() == 10.0 + DEBOUNCE_S
    box.typed("run", 10.2)
    assert box.tick(10.0 + DEBOUNCE_S) is None  # the first deadline moved with the keystroke
    request = box.tick(10.2 + DEBOUNCE_S)
    assert request == SearchRequest(1, "run", None)
    assert box.status is Status.LOADING and box.next_wakeup() is None
    assert box.tick(20.0) is None  # asked once


def test_enter_asks_at_once_and_not_twice_for_the_same_answer():
    box = SearchBox()
    box.typed("  run ", 0.0)
    request = box.submit(0.01)
    assert request.q == "run"
    assert box.tick(1.0) is None  # the debounce was used up by the Enter
    box.answered(request, answer(msg(5, "run")))
    assert box.submit(2.0) is None  # the results are that query's already


def test_asked_again_when_the_answers_source_changes_the_old_answer_is_dropped():
    """The backend's capabilities come in after a search was answered from the loaded messages."""
    box = SearchBox()
    box.typed("run", 0.0)
    local = box.submit(0.01)
    box.answered(local, answer())
    assert box.status is Status.EMPTY and box.submit(0.5) is None  # Enter alone would not ask again
    server = box.again()
    assert server is not None and server.q == "run" and server.before is None and server != local
    assert box.status is Status.LOADING
    assert box.answered(local, answer()) is False  # a late copy of the old answer changes nothing
    assert box.answered(server, answer(msg(7, "run"))) and [m["id"] for m in box.results] == [7]


def test_asked_again_on_the_way_replaces_the_request_out():
    box = SearchBox()
    box.typed("run", 0.0)
    first = box.submit(0.01)
    again = box.again()
    assert again != first and box.answered(first, answer(msg(5, "run"))) is False
    assert box.answered(again, answer(msg(6, "run"))) and [m["id"] for m in box.results] == [6]


@pytest.mark.parametrize("text", ["", " ", "r"])
def test_asked_again_with_nothing_to_search_asks_nothing(text):
    box = SearchBox()
    box.typed(text, 0.0)
    assert box.again() is None and box.status is Status.IDLE


def test_asked_again_while_waiting_for_quiet_leaves_it_to_the_debounce():
    box = SearchBox()
    box.typed("run", 0.0)
    assert box.again() is None
    assert box.tick(DEBOUNCE_S) is not None  # the debounce asks, of the new source


def test_too_short_or_too_long_goes_idle_and_clears_the_results():
    box = SearchBox()
    box.typed("run", 0.0)
    box.answered(box.tick(1.0), answer(msg(5, "run")))
    box.typed("r", 2.0)
    assert box.status is Status.IDLE and box.results == [] and box.next_wakeup() is None
    assert box.submit(2.1) is None
    box.typed("x" * (MAX_QUERY_CHARS + 1), 3.0)
    assert box.status is Status.IDLE and box.submit(3.1) is None


# ----- answers ------------------------------------------------------------------------------

def test_an_answer_to_an_older_query_is_dropped():
    box = SearchBox()
    box.typed("ru", 0.0)
    old = box.tick(1.0)
    box.typed("run", 1.1)
    new = box.tick(2.0)
    assert box.answered(new, answer(msg(9, "run")))
    assert not box.answered(old, answer(msg(3, "ru"), msg(2, "rum")))  # late: dropped
    assert [m["id"] for m in box.results] == [9]
    assert box.query == "run"


def test_a_late_answer_after_the_text_changed_is_dropped_even_before_the_new_one_goes_out():
    box = SearchBox()
    box.typed("run", 0.0)
    request = box.tick(1.0)
    box.typed("runs", 1.1)
    assert not box.answered(request, answer(msg(9, "run")))
    assert not box.failed(request)
    assert box.status is Status.WAITING and box.results == []


def test_a_new_scope_asks_again_and_drops_the_old_scopes_answer():
    box = SearchBox()
    box.typed("run", 0.0)
    everywhere = box.tick(1.0)
    box.scoped(7, 1.1)
    assert box.next_wakeup() == 1.1 + DEBOUNCE_S
    here = box.tick(2.0)
    assert here.conversation_id == 7 and everywhere.conversation_id is None
    assert not box.answered(everywhere, answer(msg(9, "run", cid=8)))
    box.scoped(7, 3.0)  # the same scope: nothing to do
    assert box.loading


def test_nothing_found_and_failure_are_their_own_states():
    box = SearchBox()
    box.typed("zzz", 0.0)
    assert box.answered(box.tick(1.0), answer())
    assert box.status is Status.EMPTY
    box.typed("zzzz", 2.0)
    assert box.failed(box.tick(3.0))
    assert box.status is Status.FAILED and not box.loading


def test_a_malformed_answer_is_a_failure_and_bad_rows_are_dropped():
    box = SearchBox()
    box.typed("run", 0.0)
    assert not box.answered(box.tick(1.0), {"detail": "oops"})
    assert box.status is Status.FAILED
    box.typed("runs", 2.0)
    request = box.tick(3.0)
    box.answered(request, answer(msg(4, "runs"), {"id": "5", "content": "x"}, msg(6, None), "junk"))
    assert [m["id"] for m in box.results] == [4]


def test_more_results_ask_before_the_oldest_shown_and_append_without_duplicates():
    box = SearchBox()
    box.typed("run", 0.0)
    box.answered(box.tick(1.0), answer(msg(30, "run"), msg(20, "run"), has_more=True))
    more = box.more()
    assert more.before == 20 and more.q == "run"
    assert box.more() is None  # one page at a time
    assert box.status is Status.RESULTS and box.loading_more  # the shown results stay
    box.answered(more, answer(msg(20, "run"), msg(10, "run"), has_more=False))
    assert [m["id"] for m in box.results] == [30, 20, 10]
    assert box.more() is None  # no more


# ----- the local fallback -------------------------------------------------------------------

LOGS = [
    (7, [msg(1, "Morning RUN at 7"), msg(4, "rest day"), msg(6, "Long run Sunday", deleted=False)]),
    (8, [msg(2, "Straße intervals", cid=8), msg(5, "ÉTÉ program", cid=8), msg(3, "run", cid=8, deleted=True)]),
]


def test_local_search_folds_case_newest_first_across_conversations():
    found = search_loaded(LOGS, "run")
    assert [m["id"] for m in found["results"]] == [6, 1]  # 3 is deleted
    assert found["has_more"] is False


@pytest.mark.parametrize("q, ids", [("STRASSE", [2]), ("straße", [2]), ("été", [5]), ("e\u0301te\u0301", [5]),
                                    ("ｅｔｅ", []), ("ＲＵＮ", [6, 1])])
def test_local_search_folds_unicode_as_the_server_does(q, ids):
    assert [m["id"] for m in search_loaded(LOGS, q)["results"]] == ids


def test_local_search_in_one_conversation_with_paging():
    assert [m["id"] for m in search_loaded(LOGS, "r", conversation_id=8)["results"]] == [5, 2]
    first = search_loaded(LOGS, "r", limit=3)
    assert [m["id"] for m in first["results"]] == [6, 5, 4] and first["has_more"]
    rest = search_loaded(LOGS, "r", limit=3, before=4)
    assert [m["id"] for m in rest["results"]] == [2, 1] and not rest["has_more"]


def test_local_search_skips_rows_it_cannot_read():
    logs = [(7, [{"id": "1", "content": "run"}, {"id": 2, "content": None}, msg(3, "run")])]
    assert [m["id"] for m in search_loaded(logs, "run")["results"]] == [3]


# ----- result rows --------------------------------------------------------------------------

def test_the_match_is_marked_in_the_text_as_it_was_written():
    assert mark_match("Long Run on Sunday", "run") == ("Long ", "Run", " on Sunday")
    assert mark_match("Die STRASSE", "straße") == ("Die ", "STRASSE", "")
    assert mark_match("Die Straße hoch", "STRASSE") == ("Die ", "Straße", " hoch")
    assert mark_match("E\u0301TE\u0301 plan", "été") == ("", "\u00c9T\u00c9", " plan")


def test_a_long_text_is_cut_around_the_match():
    text = "a" * 100 + " target " + "b" * 300
    before, match, after = mark_match(text, "TARGET")
    assert match == "target"
    assert before.startswith(ELLIPSIS) and len(before) <= CONTEXT_BEFORE + 1
    assert after.endswith(ELLIPSIS) and len(after) < 100


def test_hostile_text_stays_text_in_the_row():
    before, match, after = mark_match('<img src=x onerror=alert(1)>run<b>', "RUN")
    assert (before, match, after) == ('<img src=x onerror=alert(1)>', "run", "<b>")


def test_rows_name_the_other_party_and_the_time():
    conversation = {"id": 7, "trainer": COACH, "trainee": ALEX}
    rows = result_rows([msg(6, "Long run", sender=COACH)], [conversation], COACH["id"], "run",
                       "2026-12-07T12:00:00Z", tz_offset=0)
    row = rows[0]
    assert (row.message_id, row.conversation_id, row.title, row.when) == (6, 7, "Alex Rivera", "10:15")
    assert row.full_when == "7 Dec 2026, 10:15"
    assert conversation_title(None, 1) == "Conversation"


# ----- the jump to a message -----------------------------------------------------------------

def log_of(ids, has_more_before):
    return with_messages([msg(i, "m") for i in ids], has_more_before=has_more_before)(None)


def test_the_jump_loads_older_pages_until_the_message_is_in():
    jump = MessageJump(5)
    assert jump.step(None, ready=False, loading_older=False) is JumpStep.WAIT
    log = log_of(range(50, 60), True)
    assert jump.step(log, ready=True, loading_older=False) is JumpStep.LOAD_OLDER
    assert jump.step(log, ready=True, loading_older=True) is JumpStep.WAIT
    log = log_of(range(1, 60), False)
    assert jump.step(log, ready=True, loading_older=False) is JumpStep.FOUND


def test_the_jump_gives_up_after_its_page_limit_or_at_the_start():
    jump = MessageJump(5, max_pages=2)
    log = log_of(range(50, 60), True)
    assert [jump.step(log, ready=True, loading_older=False) for _ in range(3)] == [
        JumpStep.LOAD_OLDER, JumpStep.LOAD_OLDER, JumpStep.MISSING]
    assert MessageJump(5).step(log_of(range(50, 60), False), ready=True, loading_older=False) is JumpStep.MISSING
    # Newer than the first loaded message but not in the log (deleted): not there.
    assert MessageJump(55).step(log_of([50, 54, 56], True), ready=True, loading_older=False) is JumpStep.MISSING
