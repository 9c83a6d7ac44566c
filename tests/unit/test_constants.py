"""Paths and the one WebSocket URL builder (AC-2). The timing constants are proven by what
uses them (test_backoff, test_ws_hook, test_polling), not by reading them back."""
import pytest

from core import constants as c


def test_rest_paths_match_the_contract():
    assert c.auth_create_path() == "/api/auth/jwt/create/"
    assert c.auth_refresh_path() == "/api/auth/jwt/refresh/"
    assert c.auth_me_path() == "/api/auth/users/me/"
    assert c.conversations_path() == "/api/messaging/conversations/"
    assert c.messages_path(7) == "/api/messaging/conversations/7/messages/"
    assert c.send_path(7) == "/api/messaging/conversations/7/send/"
    assert c.read_path(7) == "/api/messaging/conversations/7/read/"
    assert c.unread_count_path() == "/api/messaging/unread-count/"


@pytest.mark.parametrize("bad", [True, "7", 7.0, None])
def test_conversation_id_must_be_an_int(bad):
    with pytest.raises(TypeError):
        c.send_path(bad)


def test_api_url_empty_base_is_same_origin():
    assert c.api_url("", "/api/messaging/unread-count/") == "/api/messaging/unread-count/"


def test_api_url_joins_without_double_slash():
    assert c.api_url("https://api.example.com/", "/api/auth/users/me/") == \
        "https://api.example.com/api/auth/users/me/"
    assert c.api_url("http://127.0.0.1:9000", "/api/x/") == "http://127.0.0.1:9000/api/x/"


def test_ac2_ws_url_uses_page_origin_ws_under_http():
    assert c.ws_messaging_url(5, "abc", "", "http:", "127.0.0.1:8000") == \
        "ws://127.0.0.1:8000/ws/messaging/5/?token=abc"


def test_ac2_ws_url_uses_page_origin_wss_under_https():
    assert c.ws_messaging_url(5, "abc", "", "https:", "coach.example.com") == \
        "wss://coach.example.com/ws/messaging/5/?token=abc"


def test_ac2_page_protocol_without_colon_or_in_capitals():
    assert c.ws_messaging_url(5, "t", "", "HTTPS", "h") == "wss://h/ws/messaging/5/?token=t"


@pytest.mark.parametrize("ws_base, expected", [
    ("ws://h:9000", "ws://h:9000/ws/messaging/5/?token=t"),
    ("wss://h", "wss://h/ws/messaging/5/?token=t"),
    ("wss://h/", "wss://h/ws/messaging/5/?token=t"),
    ("https://h", "wss://h/ws/messaging/5/?token=t"),
    ("http://h:8000", "ws://h:8000/ws/messaging/5/?token=t"),
    ("HTTPS://h", "wss://h/ws/messaging/5/?token=t"),
    ("wss://h/prefix/", "wss://h/prefix/ws/messaging/5/?token=t"),
    ("h:9000", "ws://h:9000/ws/messaging/5/?token=t"),
    ("//h:9000", "ws://h:9000/ws/messaging/5/?token=t"),
])
def test_ac2_ws_base_from_config(ws_base, expected):
    # The page is on http: here; an explicit scheme in ws_base wins over the page's.
    assert c.ws_messaging_url(5, "t", ws_base, "http:", "page.example") == expected


def test_ac2_ws_base_with_another_scheme_is_refused():
    with pytest.raises(ValueError):
        c.ws_messaging_url(5, "t", "ftp://h", "http:", "page")


def test_ac3_token_is_url_encoded():
    url = c.ws_messaging_url(1, "a+b/c=d&e f", "", "http:", "h")
    assert url == "ws://h/ws/messaging/1/?token=a%2Bb%2Fc%3Dd%26e%20f"


def test_ac3_a_real_jwt_passes_unchanged():
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoxfQ.sig-_x"
    assert c.ws_messaging_url(1, jwt, "", "https:", "h").endswith("?token=" + jwt)
