"""The backend's pure pieces, tested without an app: limiter, origins, frames, gzip choice,
image sniffing, log redaction, passwords and tokens."""

import logging

import pytest

from server.images import media_type, sniff_image
from server.logging_redact import RedactTokens, redact
from server.origins import normalize_origin, origin_allowed
from server.passwords import hash_password, verify_password
from server.rate_limit import FailureCount, FailureCounter
from server.site.static_site import accepts_gzip
from server.tokens import ACCESS, REFRESH, TokenError, TokenService
from server.realtime.ws_frames import Reply, ToOthers, interpret, too_big

# --- failed-login limiter ------------------------------------------------------------------


def test_limiter_allows_until_the_fifth_failure_then_waits_out_the_window():
    limiter = FailureCounter()
    account = [FailureCount("account a@example.com", 5, 300)]
    for second in range(5):
        assert limiter.reserve(account, second) is None
    assert limiter.reserve(account, 10) == 290
    assert limiter.reserve([FailureCount("account b@example.com", 5, 300)], 10) is None
    assert limiter.reserve(account, 300) is None  # the first failure left the window


def test_limiter_clear_forgets_everything():
    limiter = FailureCounter()
    limiter.reserve([FailureCount("e", 1, 60)], 0)
    limiter.clear()
    assert limiter.reserve([FailureCount("e", 1, 60)], 1) is None


# --- origins --------------------------------------------------------------------------------

@pytest.mark.parametrize("origin,host,scheme,allowed,expected", [
    (None, "a:8000", "ws", (), True),
    ("http://a:8000", "a:8000", "ws", (), True),
    ("HTTP://A:8000/", "a:8000", "ws", (), True),
    ("https://a", "a:443", "wss", (), True),
    ("http://a", "a:80", "ws", (), True),
    ("http://b:8000", "a:8000", "ws", (), False),
    ("http://a:8001", "a:8000", "ws", (), False),
    ("null", "a:8000", "ws", (), False),
    ("https://app.example", "a:8000", "ws", ("https://app.example/",), True),
    ("http://a:8000", None, "ws", (), False),
])
def test_origin_allowed(origin, host, scheme, allowed, expected):
    assert origin_allowed(origin, host, scheme, frozenset(allowed)) is expected


def test_normalize_origin_drops_default_ports_only():
    assert normalize_origin("https://x.example:443") == "https://x.example"
    assert normalize_origin("http://x.example:8080") == "http://x.example:8080"


# --- client frames ----------------------------------------------------------------------------

def test_ping_gets_a_pong_reply():
    assert interpret('{"type": "ping"}', 7) == Reply({"type": "pong"})


def test_typing_goes_to_others_with_the_senders_id():
    assert interpret('{"type": "typing", "is_typing": false}', 7) == ToOthers(
        {"type": "typing_indicator", "user_id": 7, "is_typing": False})


@pytest.mark.parametrize("text", ["", "x", "[]", "null", '{"type": 1}', '{"type": "typing", "is_typing": 1}',
                                  '{"type": "new_message"}', "[" * 100000])
def test_anything_else_is_ignored(text):
    assert interpret(text, 7) is None


def test_too_big_counts_utf8_bytes():
    assert not too_big({"text": "x" * 65536})
    assert too_big({"text": "x" * 65537})
    assert too_big({"text": "é" * 32769})
    assert too_big({"bytes": b"\x00" * 65537})


# --- gzip negotiation ---------------------------------------------------------------------------

@pytest.mark.parametrize("header,expected", [
    ("gzip, deflate, br", True), ("br;q=1.0, gzip;q=0.8", True), ("*", True), ("", False), ("br", False),
    ("gzip;q=0", False), ("gzip;q=0.0", False), ("identity", False),
])
def test_accepts_gzip(header, expected):
    assert accepts_gzip(header) is expected


# --- images ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("data,expected", [
    (b"\x89PNG\r\n\x1a\nrest", "png"), (b"\xff\xd8\xff\xdb", "jpg"), (b"GIF87a...", "gif"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8", "webp"), (b"RIFF\x00\x00\x00\x00AVI ", None), (b"\x89PNG", None),
    (b"<svg/>", None), (b"", None),
])
def test_sniff_image_by_magic_bytes(data, expected):
    assert sniff_image(data) == expected


def test_media_type_only_for_names_we_generate():
    assert media_type("A" * 24 + ".png") == "image/png"
    assert media_type("A" * 24 + ".webp") == "image/webp"
    assert media_type("../" + "A" * 24 + ".png") is None
    assert media_type("short.png") is None
    assert media_type("A" * 24 + ".html") is None


# --- log redaction -----------------------------------------------------------------------------------

def test_redact_replaces_every_token_value():
    assert redact("GET /ws/messaging/1/?token=abc.def-ghi_j&x=1 and ?TOKEN=zz") == \
        "GET /ws/messaging/1/?token=[redacted]&x=1 and ?TOKEN=[redacted]"


def test_filter_redacts_message_and_each_argument_keeping_their_shape():
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s" %d token=secret1', ("127.0.0.1", "GET", "/x?token=secret2", 200), None)
    assert RedactTokens().filter(record) is True
    assert isinstance(record.args, tuple) and len(record.args) == 4
    assert record.getMessage() == '127.0.0.1 - "GET /x?token=[redacted]" 200 token=[redacted]'


# --- passwords and tokens --------------------------------------------------------------------------------

def test_password_hash_is_salted_and_verifies():
    first, second = hash_password("coach-pass"), hash_password("coach-pass")
    assert first != second and first.startswith("scrypt$")
    assert verify_password("coach-pass", first) and not verify_password("coach-pasS", first)
    assert not verify_password("coach-pass", "garbage") and not verify_password("x", "md5$1$2$3$aa$bb")


def test_token_service_checks_type_expiry_and_revocation():
    now = [1000.0]
    tokens = TokenService(secret="s" * 40, clock=lambda: now[0], access_ttl=10, refresh_ttl=100)
    (access, _), (refresh, _) = tokens.issue(5, ACCESS, "s1"), tokens.issue(5, REFRESH, "s1")
    assert tokens.claims(access, ACCESS)["user_id"] == 5
    with pytest.raises(TokenError, match="wrong type"):
        tokens.claims(refresh, ACCESS)
    now[0] += 0.5
    tokens.revoke_access_before(now[0])
    with pytest.raises(TokenError):
        tokens.claims(access, ACCESS)
    assert tokens.claims(refresh, REFRESH)["user_id"] == 5
    now[0] += 0.5
    later, _ = tokens.issue(5, ACCESS, "s1")
    assert tokens.claims(later, ACCESS)["exp"] == 1011
    capped, _ = tokens.issue(5, ACCESS, "s1", ends_at=1005.5)  # never past the session's end
    assert tokens.claims(capped, ACCESS)["exp"] == 1005
    now[0] = 1011
    with pytest.raises(TokenError, match="expired"):
        tokens.claims(later, ACCESS)


# --- the hub: one stuck socket must not hold up the others ------------------------------------------

class FakeSocket:
    def __init__(self, stuck: bool = False) -> None:
        import asyncio
        self.sent: list = []
        self.gate = asyncio.Event()
        if not stuck:
            self.gate.set()

    async def send_text(self, data: str) -> None:
        await self.gate.wait()
        self.sent.append(data)

    async def close(self, code: int = 1000, reason=None) -> None:
        self.sent.append(("close", code))


def test_a_stuck_socket_does_not_delay_the_others_and_is_dropped_when_its_backlog_overflows():
    import asyncio

    from server.realtime.hub import MAX_BACKLOG, Connection, Hub

    async def scenario():
        hub = Hub()
        stuck, healthy = Connection(FakeSocket(stuck=True), 1, 1), Connection(FakeSocket(), 1, 2)
        for conn in (stuck, healthy):
            hub.join(conn)
        writers = [asyncio.ensure_future(conn.run_writer()) for conn in (stuck, healthy)]
        hub.broadcast(1, {"type": "pong"})
        await asyncio.sleep(0.01)
        assert healthy.socket.sent == ['{"type": "pong"}'] and stuck.socket.sent == []
        for _ in range(MAX_BACKLOG + 1):
            hub.broadcast(1, {"type": "x"})
            await asyncio.sleep(0)  # the healthy writer keeps up; the stuck one never does
        assert stuck.aborted and stuck.finished.is_set() and not healthy.aborted
        await asyncio.sleep(0.01)
        assert len(healthy.socket.sent) == MAX_BACKLOG + 2
        hub.close(1, 4000)
        await asyncio.sleep(0.01)
        assert healthy.socket.sent[-1] == ("close", 4000) and healthy.finished.is_set()
        for writer in writers:
            writer.cancel()

    asyncio.run(scenario())


def test_typing_style_broadcast_skips_every_connection_of_the_excluded_user():
    import asyncio

    from server.realtime.hub import Connection, Hub

    async def scenario():
        hub = Hub()
        mine_a, mine_b, theirs = (Connection(FakeSocket(), 1, 1), Connection(FakeSocket(), 1, 1),
                                  Connection(FakeSocket(), 1, 2))
        for conn in (mine_a, mine_b, theirs):
            hub.join(conn)
            asyncio.ensure_future(conn.run_writer())
        hub.broadcast(1, {"type": "typing_indicator"}, except_user=1)
        await asyncio.sleep(0.01)
        assert (mine_a.socket.sent, mine_b.socket.sent, len(theirs.socket.sent)) == ([], [], 1)
        hub.leave(theirs)
        assert hub.open_counts() == {1: 2}

    asyncio.run(scenario())
