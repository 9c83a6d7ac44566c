"""Issue 23 item 8: tokens are redacted by the decoded query parameter name, whatever the
key's spelling (`%74oken`, `t%6Fken`, `TOKEN`, ...), on a live server's own log."""

import json
from urllib.parse import unquote

import plain_http
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from server.logging_redact import redact

SPELLINGS = ["token", "%74oken", "t%6Fken", "TOKEN", "%54%4F%4B%45%4E", "tok%65n", "to%6b%65n", "%74%6f%6b%65%6e"]


@pytest.mark.parametrize("key", SPELLINGS + ["%2574oken", "tok%2565n"])
def test_redact_by_the_decoded_key(key):
    text = f'"GET /ws/messaging/1/?a=1&{key}=eyJhbGciOi.eyJ0b2tlbl9.c2lnbmF0dXJl&b=2" 200'
    assert redact(text) == f'"GET /ws/messaging/1/?a=1&{key}=[redacted]&b=2" 200'


def test_other_parameters_and_text_are_kept():
    assert redact("GET /x?tokens=1&atoken=2&last=3") == "GET /x?tokens=1&atoken=2&last=3"
    assert redact("GET /healthz?last=1") == "GET /healthz?last=1"


def test_a_jwt_anywhere_is_redacted():
    jwt_text = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoxfQ.abcDEF_-123"
    assert jwt_text not in redact(f"GET /x?q={jwt_text} and {jwt_text}")


def test_no_token_in_the_log_whatever_the_keys_encoding(live_server):
    server = live_server()
    tokens = server.login()
    access, refresh = tokens["access"], tokens["refresh"]
    for key in SPELLINGS:
        with connect(f"{server.ws_origin}/ws/messaging/1/?{key}={access}", proxy=None, open_timeout=5) as socket:
            if unquote(key) == "token":  # the key decodes to token: the socket is open (as Starlette reads it)
                socket.send(json.dumps({"type": "ping"}))
                assert json.loads(socket.recv(timeout=5)) == {"type": "pong"}
            else:  # keys are case-sensitive: no token, 4001
                with pytest.raises(ConnectionClosed) as closed:
                    socket.recv(timeout=5)
                assert closed.value.rcvd.code == 4001
        plain_http.get(f"{server.origin}/healthz?x=1&{key}={refresh}")
        plain_http.get(f"{server.origin}/nope?{key}={access}")
    plain_http.get(f"{server.origin}/healthz?last=1")
    server.stop()  # once it has exited, every line it logged is in the files
    logs = server.stdout() + server.stderr()
    assert "/healthz?last=1" in logs and "[redacted]" in logs
    for secret in (access, refresh, access.split(".")[1], access.split(".")[2], refresh.split(".")[2]):
        assert secret not in logs
