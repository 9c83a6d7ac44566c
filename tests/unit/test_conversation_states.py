"""The open conversation's transition table (core/conversation_states.py), driven from the table.

Every row is taken twice: by `move` itself, and through OpenConversation's real inputs (a
scenario per row brings a chat to the row's state, feeds the input that fires the row's event
and checks where the machine went). A row without a scenario fails the suite, so the table
cannot grow a move nobody exercised. Every (state, event) the table does not list raises
IllegalTransition.
"""
import pytest

from core.api_client import NetworkError
from core.conversation_states import MACHINES, TRANSITIONS, Gap, History, IllegalTransition, Load, Poll, ReadCall, move
from core.open_conversation import OpenConversation
from core.query_cache import QueryCache
from core.ws_events import NewMessage
from test_open_conversation import ME, T0, Chat, conversation, msg, opened, page

ROWS = [(state, event, target) for state, moves in TRANSITIONS.items() for event, target in moves.items()]
EVENTS = {machine: sorted({event for state in machine for event in TRANSITIONS[state]}) for machine in MACHINES}
UNLISTED = [(state, event) for machine in MACHINES for state in machine for event in EVENTS[machine]
            if event not in TRANSITIONS[state]]


def _name(value):
    return value.name if hasattr(value, "name") else str(value)


# ----- the table itself ---------------------------------------------------------------------------


@pytest.mark.parametrize("state,event,target", ROWS, ids=lambda v: _name(v))
def test_each_listed_move_goes_where_the_table_says(state, event, target):
    assert move(state, event) is target


@pytest.mark.parametrize("state,event", UNLISTED, ids=lambda v: _name(v))
def test_each_move_the_table_does_not_list_raises(state, event):
    with pytest.raises(IllegalTransition):
        move(state, event)


def test_an_event_no_machine_knows_raises_and_closed_is_final():
    with pytest.raises(IllegalTransition):
        move(Load.READY, "reopen")
    assert TRANSITIONS[Load.CLOSED] == {}
    assert len(UNLISTED) > 10  # the check above walks a real set, not an empty one


# ----- each row, through OpenConversation's inputs ----------------------------------------------


def unopened():
    chat = Chat.__new__(Chat)  # a Chat whose conversation was built but not opened
    chat.now, chat.effects = T0, []
    chat.cache = QueryCache(clock=lambda: chat.now)
    chat.core = OpenConversation(chat.cache, conversation(), ME)
    return chat


def failed_first_page():
    chat = Chat()
    chat.run(chat.core.page_failed(chat.last_fetch(), NetworkError("TypeError"), chat.now))
    return chat


def filling(times=1):
    chat = opened(msg(1), msg(2))
    for _ in range(times):
        chat.run(chat.core.gap_fill(chat.now))
    return chat


def missed():
    chat = filling()
    chat.run(chat.core.page_failed(chat.last_fetch(), NetworkError("TypeError"), chat.now))
    return chat


def polling():
    chat = opened(msg(1), msg(2), connected=False)
    chat.run(chat.core.poll(chat.now))
    return chat


def awaiting_fill():
    chat = polling()
    chat.load(page(*[msg(i) for i in range(60, 110)]))  # more than a page was missed
    return chat


def older_loading():
    chat = opened(msg(10, ME), has_more=True)
    chat.run(chat.core.load_older(chat.now))
    return chat


def fail_last_fetch(chat):
    chat.run(chat.core.page_failed(chat.last_fetch(), NetworkError("TypeError"), chat.now))


SCENARIOS = {
    (Load.OPENING, "open"): (unopened, lambda c: c.run(c.core.open(c.now))),
    (Load.OPENING, "close"): (unopened, lambda c: c.run(c.core.close(c.now))),
    (Load.LOADING, "page_loaded"): (Chat, lambda c: c.load(page(msg(1)))),
    (Load.LOADING, "page_failed"): (Chat, fail_last_fetch),
    (Load.LOADING, "close"): (Chat, lambda c: c.run(c.core.close(c.now))),
    (Load.FAILED, "retry"): (failed_first_page, lambda c: c.connect()),  # the link came back
    (Load.FAILED, "close"): (failed_first_page, lambda c: c.run(c.core.close(c.now))),
    (Load.READY, "close"): (lambda: opened(msg(1)), lambda c: c.run(c.core.close(c.now))),

    (Gap.SYNCED, "fill"): (lambda: opened(msg(1)), lambda c: c.run(c.core.gap_fill(c.now))),
    (Gap.MISSED, "fill"): (missed, lambda c: c.run(c.core.gap_fill(c.now))),
    (Gap.FILLING, "fill"): (filling, lambda c: c.run(c.core.gap_fill(c.now))),
    (Gap.FILLING, "filled"): (filling, lambda c: c.load(page(msg(3)))),
    (Gap.FILLING, "fill_failed"): (filling, fail_last_fetch),
    (Gap.FILLING_QUEUED, "fill"): (lambda: filling(2), lambda c: c.run(c.core.gap_fill(c.now))),
    (Gap.FILLING_QUEUED, "filled"): (lambda: filling(2), lambda c: c.load(page(msg(3)))),
    (Gap.FILLING_QUEUED, "fill_failed"): (lambda: filling(2), fail_last_fetch),

    (Poll.IDLE, "poll"): (lambda: opened(msg(1), connected=False), lambda c: c.run(c.core.poll(c.now))),
    (Poll.FETCHING, "answered"): (polling, lambda c: c.load(page(msg(2), msg(3)))),
    (Poll.FETCHING, "gap_found"): (polling, lambda c: c.load(page(*[msg(i) for i in range(60, 110)]))),
    (Poll.FETCHING, "failed"): (polling, fail_last_fetch),
    (Poll.AWAITING_FILL, "fill_ended"): (awaiting_fill, lambda c: c.load(page(*[msg(i) for i in range(3, 60)]))),

    (History.IDLE, "load_older"): (lambda: opened(msg(10, ME), has_more=True),
                                   lambda c: c.run(c.core.load_older(c.now))),
    (History.LOADING, "loaded"): (older_loading, lambda c: c.load(page(msg(9, ME)))),
    (History.LOADING, "failed"): (older_loading, fail_last_fetch),

    (ReadCall.IDLE, "start"): (lambda: opened(msg(1, ME)), lambda c: c.socket(NewMessage(msg(2)))),
    (ReadCall.IN_FLIGHT, "done"): (lambda: opened(msg(1)), lambda c: c.read_done()),
}

STATE_OF = {
    Load: lambda chat: chat.core.load,
    Gap: lambda chat: chat.core.sync.gap,
    Poll: lambda chat: chat.core.sync.poll_state,
    History: lambda chat: chat.core.history,
    ReadCall: lambda chat: chat.core.reads.call,
}


def test_every_row_of_the_table_has_a_scenario():
    assert set(SCENARIOS) == {(state, event) for state, event, _ in ROWS}


@pytest.mark.parametrize("state,event,target", ROWS, ids=lambda v: _name(v))
def test_each_row_happens_through_the_conversations_inputs(state, event, target):
    arrive, fire_event = SCENARIOS[(state, event)]
    state_of = STATE_OF[type(state)]
    chat = arrive()
    assert state_of(chat) is state
    fire_event(chat)
    assert state_of(chat) is target


def test_a_second_open_or_a_second_answer_to_the_first_page_is_a_bug_not_a_state():
    chat = Chat()
    with pytest.raises(IllegalTransition):
        chat.core.open(chat.now)
    fetch = chat.last_fetch()
    chat.load(page(msg(1)), fetch)
    with pytest.raises(IllegalTransition):
        chat.core.page_loaded(fetch, page(msg(1)), chat.now)


def test_inputs_that_do_not_apply_are_turned_away_before_the_table():
    chat = opened(msg(1))
    assert chat.core.retry_load(chat.now) == []  # loaded: a Retry tap asks nothing
    chat.run(chat.core.close(chat.now))
    assert chat.core.close(chat.now) == [] and chat.core.load is Load.CLOSED  # closing twice is once
    assert chat.core.gap_fill(chat.now) == [] and chat.core.sync.gap is Gap.SYNCED
