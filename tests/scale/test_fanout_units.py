"""The fan-out's wire format and local delivery (server/realtime/fanout.py), and the placeholder
conversion for PostgreSQL (server.data.db.postgres_sql), under CPython with no server.

Every worker decodes what every other worker encoded: a round trip must give back each
field of each kind, and anything else must be a ValueError (a worker ignores it, logged),
never a wrong delivery. `deliver_locally` then routes an envelope to this worker's sockets:
which sockets get a frame is the whole rule, so the tests use connections that record what
the hub asks of them.
"""

from __future__ import annotations

import json

import pytest

from server.data.db import postgres_sql
from server.realtime.fanout import Envelope, decode, deliver_locally, encode
from server.realtime.hub import Connection, Hub, Outgoing

FRAME = json.dumps({"type": "new_message", "message": {"id": 7, "content": "line one\nline two: é 👍"}})


# --- the wire format -----------------------------------------------------------------------

@pytest.mark.parametrize("envelope", [
    Envelope("M", FRAME, conversation_id=12, users=(3, 41)),
    Envelope("M", FRAME, conversation_id=1, users=()),
    Envelope("C", '{"type": "read_receipt", "reader_id": 2, "read_at": "2026-12-06T10:00:00Z"}', conversation_id=9),
    Envelope("I", '{"type": "read_receipt", "conversation_id": 9}', users=(5,), conversation_id=9),
    Envelope("I", "{}", users=(5, 6, 7)),
    Envelope("T", '{"type": "typing_indicator", "user_id": 4, "is_typing": true}', conversation_id=2, typer_id=4),
    Envelope("S", session_id="Zm9v-YmFy_baz0123456789", code=4001),
], ids=["message", "message-no-users", "chat", "inbox-one", "inbox-many", "typing", "session"])
def test_every_kind_of_envelope_survives_the_round_trip(envelope):
    assert decode(encode(envelope)) == envelope


def test_the_frame_after_the_routing_line_is_carried_byte_for_byte():
    text = "first\nsecond\n\nthird \r\n"  # newlines in the frame: only the first one splits
    assert decode(encode(Envelope("C", text, conversation_id=3))).text == text
    assert encode(Envelope("C", text, conversation_id=3)) == "C 3\n" + text


def test_an_outgoing_frame_is_encoded_once_into_the_wire_text():
    outgoing = Outgoing({"type": "new_message", "message": {"id": 1}})
    wire = encode(Envelope("M", outgoing, conversation_id=4, users=(1, 2)))
    assert wire == 'M 4 1,2\n{"type": "new_message", "message": {"id": 1}}'
    assert decode(wire) == Envelope("M", outgoing.text, conversation_id=4, users=(1, 2))


def test_the_wire_form_of_each_kind():
    assert encode(Envelope("M", "x", conversation_id=1, users=(2, 3))) == "M 1 2,3\nx"
    assert encode(Envelope("M", "x", conversation_id=1)) == "M 1 -\nx"
    assert encode(Envelope("C", "x", conversation_id=1)) == "C 1\nx"
    assert encode(Envelope("I", "x", users=(2,))) == "I 2 -\nx"
    assert encode(Envelope("I", "x", users=(2, 3), conversation_id=7)) == "I 2,3 7\nx"
    assert encode(Envelope("T", "x", conversation_id=1, typer_id=2)) == "T 1 2\nx"
    assert encode(Envelope("S", session_id="abc", code=4001)) == "S 4001 abc\n"


def test_an_unknown_kind_cannot_be_encoded():
    with pytest.raises(ValueError):
        encode(Envelope("X", "x", conversation_id=1))


@pytest.mark.parametrize("payload", [
    "",                       # nothing
    "C 1",                    # no newline: no frame part
    "\n{}",                   # no routing words
    "X 1\n{}",                # unknown kind
    "M 1\n{}",                # a message without its users word
    "M 1 2 3\n{}",            # one word too many
    "M one 2\n{}",            # a conversation that is not a number
    "M 1 2,x\n{}",            # a user that is not a number
    "M 1 \n{}",               # an empty users word ("-" means none)
    "M 1 2,,3\n{}",           # an empty user between commas
    "C\n{}",                  # a chat envelope without its conversation
    "C 1 2\n{}",
    "C  1\n{}",               # two spaces make an empty word
    "I\n{}",
    "T 1\n{}",                # typing without its typer
    "T 1 x\n{}",
    "S 4001\n",               # a session close without its session
    "S x abc\n",              # a code that is not a number
    "S 4001 a b\n",           # a session id cannot hold a space
    "m 1 2\n{}",              # kinds are upper case
])
def test_garbage_is_a_value_error(payload):
    with pytest.raises(ValueError):
        decode(payload)


# --- delivery to this worker's sockets -----------------------------------------------------

class Recording(Connection):
    """A connection that records what the hub asks of it, with no socket and no writer."""

    def __init__(self, conversation_id: int | None, user_id: int, session_id: str = "s0") -> None:
        super().__init__(socket=None, conversation_id=conversation_id, user_id=user_id,  # type: ignore[arg-type]
                         session_id=session_id)
        self.got: list[tuple] = []

    def send_text(self, text: str) -> None:
        self.got.append(("text", text))

    def send_typing(self, typer_id: int, text: str) -> None:
        self.got.append(("typing", typer_id, text))

    def close(self, code: int, *, even_if_silent: bool = False) -> bool:
        self.got.append(("close", code))
        return True


COACH, ALEX, SAM = 1, 2, 3


@pytest.fixture
def sockets():
    """Coach and Alex in conversation 1 (Alex with two tabs), Coach and Sam in 2, and the
    three users' inbox sockets, all joined to one hub."""
    hub = Hub()
    named = {
        "coach@1": Recording(1, COACH, "coach-tab"),
        "alex@1": Recording(1, ALEX, "alex-tab1"),
        "alex@1 again": Recording(1, ALEX, "alex-tab2"),
        "coach@2": Recording(2, COACH, "coach-tab"),
        "sam@2": Recording(2, SAM, "sam-tab"),
        "coach inbox": Recording(None, COACH, "coach-tab"),
        "alex inbox": Recording(None, ALEX, "alex-tab1"),
        "sam inbox": Recording(None, SAM, "sam-tab"),
    }
    for conn in named.values():
        hub.join(conn)
    return hub, named


def received(named: dict[str, Recording]) -> dict[str, list[tuple]]:
    return {name: conn.got for name, conn in named.items() if conn.got}


def test_a_message_reaches_its_chat_sockets_and_its_participants_inboxes(sockets):
    hub, named = sockets
    deliver_locally(hub, Envelope("M", FRAME, conversation_id=1, users=(COACH, ALEX)))
    assert received(named) == {name: [("text", FRAME)] for name in
                               ("coach@1", "alex@1", "alex@1 again", "coach inbox", "alex inbox")}


def test_a_message_with_an_outgoing_frame_is_sent_as_its_text(sockets):
    hub, named = sockets
    outgoing = Outgoing({"type": "new_message", "message": {"id": 5}})
    deliver_locally(hub, Envelope("M", outgoing, conversation_id=2, users=(COACH, SAM)))
    assert received(named) == {name: [("text", outgoing.text)] for name in
                               ("coach@2", "sam@2", "coach inbox", "sam inbox")}


def test_a_chat_envelope_reaches_the_chat_sockets_only(sockets):
    hub, named = sockets
    deliver_locally(hub, Envelope("C", "receipt", conversation_id=2))
    assert received(named) == {"coach@2": [("text", "receipt")], "sam@2": [("text", "receipt")]}


def test_an_inbox_envelope_reaches_the_named_users_inboxes_only(sockets):
    hub, named = sockets
    deliver_locally(hub, Envelope("I", "receipt", users=(ALEX, SAM)))
    assert received(named) == {"alex inbox": [("text", "receipt")], "sam inbox": [("text", "receipt")]}


def test_an_inbox_whose_page_holds_the_conversations_own_socket_is_left_out_of_its_events(sockets):
    """CONTRACT "Inbox socket", the optional `focus` frame: a burst reaches the page once."""
    hub, named = sockets
    coach_inbox = named["coach inbox"]
    coach_inbox.focus = 1
    deliver_locally(hub, Envelope("M", FRAME, conversation_id=1, users=(COACH, ALEX)))
    deliver_locally(hub, Envelope("I", "receipt", users=(COACH, ALEX), conversation_id=1))
    deliver_locally(hub, Envelope("M", FRAME, conversation_id=2, users=(COACH, SAM)))
    got = received(named)
    assert got["coach inbox"] == [("text", FRAME)]  # conversation 2's only
    assert got["alex inbox"] == [("text", FRAME), ("text", "receipt")]
    assert got["coach@1"] == [("text", FRAME)]  # the chat's own socket still gets it
    coach_inbox.focus = None
    deliver_locally(hub, Envelope("M", FRAME, conversation_id=1, users=(COACH, ALEX)))
    assert named["coach inbox"].got[-1] == ("text", FRAME)


def test_typing_reaches_the_other_participants_chat_sockets_not_the_typer_nor_inboxes(sockets):
    hub, named = sockets
    deliver_locally(hub, Envelope("T", "typing", conversation_id=1, typer_id=ALEX))
    assert received(named) == {"coach@1": [("typing", ALEX, "typing")]}


def test_a_session_close_closes_that_sessions_sockets_on_chats_and_inbox(sockets):
    hub, named = sockets
    deliver_locally(hub, Envelope("S", session_id="coach-tab", code=4001))
    assert received(named) == {name: [("close", 4001)] for name in ("coach@1", "coach@2", "coach inbox")}


def test_an_envelope_for_sockets_this_worker_does_not_have_is_dropped(sockets):
    hub, named = sockets
    deliver_locally(hub, Envelope("M", FRAME, conversation_id=99, users=(77,)))
    deliver_locally(hub, Envelope("C", "x", conversation_id=99))
    deliver_locally(hub, Envelope("I", "x", users=(77,)))
    deliver_locally(hub, Envelope("T", "x", conversation_id=99, typer_id=COACH))
    deliver_locally(hub, Envelope("S", session_id="nobody", code=4001))
    assert received(named) == {}


def test_what_decode_gives_is_delivered_as_the_original(sockets):
    hub, named = sockets
    deliver_locally(hub, decode(encode(Envelope("M", FRAME, conversation_id=2, users=(COACH, SAM)))))
    assert named["sam@2"].got == [("text", FRAME)]
    assert named["sam inbox"].got == [("text", FRAME)]
    assert named["alex inbox"].got == []


# --- placeholders for PostgreSQL -----------------------------------------------------------

@pytest.mark.parametrize("sql, expected", [
    ("SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = %s AND b = %s"),
    ("WHERE m.conversation_id = :cid AND m.id > :after LIMIT :n",
     "WHERE m.conversation_id = %(cid)s AND m.id > %(after)s LIMIT %(n)s"),
    ("SELECT x::text, y::BIGINT FROM t WHERE id = :id", "SELECT x::text, y::BIGINT FROM t WHERE id = %(id)s"),
    ("WHERE name LIKE 'a%' AND id = ?", "WHERE name LIKE 'a%%' AND id = %s"),
    ("SELECT 100 % 7", "SELECT 100 %% 7"),
    ("VALUES (:a,:b)", "VALUES (%(a)s,%(b)s)"),
    ("WHERE k = :_key1", "WHERE k = %(_key1)s"),
    ("SELECT 1", "SELECT 1"),
], ids=["positional", "named", "casts", "percent-literal", "modulo", "adjacent", "underscore", "none"])
def test_postgres_sql_turns_placeholders_into_psycopgs(sql, expected):
    assert postgres_sql(sql) == expected


def test_postgres_sql_runs_on_postgresql(postgres_dsn):
    """What the conversion gives is what psycopg expects: parameters bound, casts and a
    literal % untouched."""
    import psycopg

    with psycopg.connect(postgres_dsn) as conn:
        named = conn.execute(postgres_sql("SELECT :a::int + 1, 'x%' || :b::text, 7 % 4"), {"a": 2, "b": "y"})
        assert named.fetchone() == (3, "x%y", 3)
        positional = conn.execute(postgres_sql("SELECT ?::int * ?::int, '50%'"), (6, 7))
        assert positional.fetchone() == (42, "50%")
