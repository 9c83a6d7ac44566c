"""Log lines carry a UTC ISO 8601 time and a level, in text or (`--log-format json`) one JSON
object per line; the token redaction applies to every line in both formats."""

import json
import logging
import re
import sys

import plain_http
import pytest
from websockets.sync.client import connect

from server.log_format import JsonFormatter, TextFormatter, logging_config, utc_time
from server.logging_redact import RedactTokens

TEXT_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO |WARNING|ERROR|CRITICAL) [\w.]+: ")
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoxfQ.abcDEF_-123456"


def record(name="server", msg="hello %s", args=("world",), level=logging.INFO, exc_info=None):
    made = logging.LogRecord(name, level, __file__, 1, msg, args, exc_info)
    made.created = 1796598877.1234  # 2026-12-06T23:14:37.123Z
    RedactTokens().filter(made)  # what the handlers' filter does before formatting
    return made


def access_record(path="/healthz?token=secret-value&x=1", status=200):
    return record("uvicorn.access", '%s - "%s %s HTTP/%s" %d', ("127.0.0.1:50312", "GET", path, "1.1", status))


def raised(text):
    try:
        raise RuntimeError(text)
    except RuntimeError:
        return sys.exc_info()


# --- the format, line by line -------------------------------------------------------------

def test_time_is_utc_iso_8601_with_milliseconds(monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    assert utc_time(0.5) == "1970-01-01T00:00:00.500Z"
    assert utc_time(1796598877.1234) == "2026-12-06T23:14:37.123Z"


def test_a_text_line():
    assert TextFormatter().format(record()) == "2026-12-06T23:14:37.123Z INFO  server: hello world"
    assert TEXT_LINE.match(TextFormatter().format(record(level=logging.WARNING)))


def test_a_json_line():
    assert json.loads(JsonFormatter().format(record())) == {
        "time": "2026-12-06T23:14:37.123Z", "level": "INFO", "logger": "server", "message": "hello world"}


def test_a_json_access_line_has_method_path_status_client():
    line = JsonFormatter().format(access_record())
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["logger"] == "uvicorn.access"
    assert (entry["method"], entry["path"], entry["status"], entry["client"]) == \
        ("GET", "/healthz?token=[redacted]&x=1", 200, "127.0.0.1:50312")
    assert "secret-value" not in line


def test_a_json_websocket_handshake_line():
    entry = json.loads(JsonFormatter().format(
        record("uvicorn.error", '%s - "WebSocket %s" [accepted]', ("127.0.0.1:9", f"/ws/inbox/?token={JWT}"))))
    assert (entry["method"], entry["path"], entry["status"]) == ("WEBSOCKET", "/ws/inbox/?token=[redacted]", 101)


@pytest.mark.parametrize("formatter", [TextFormatter(), JsonFormatter()], ids=["text", "json"])
def test_no_token_in_a_traceback_or_a_message_in_either_format(formatter):
    line = formatter.format(record(msg="bad %s", args=(f"/x?token=abc123&jwt={JWT}",),
                                   exc_info=raised(f"failed on /ws/?token=zzz999 with {JWT}")))
    for secret in ("abc123", "zzz999", JWT, JWT.split(".")[2]):
        assert secret not in line
    assert "[redacted]" in line


def test_the_config_covers_ours_uvicorns_and_the_root_logger():
    config = logging_config("json")
    assert set(config["loggers"]) >= {"server", "uvicorn", "uvicorn.error", "uvicorn.access"}
    assert config["root"]["handlers"]
    with pytest.raises(ValueError):
        logging_config("xml")


# --- a live serve.py ------------------------------------------------------------------------

def traffic(server):
    """A login, REST calls with tokens in the query, a socket: returns the secrets used."""
    tokens = server.login()
    access, refresh = tokens["access"], tokens["refresh"]
    plain_http.get(f"{server.origin}/healthz?token={access}&x=1")
    plain_http.get(f"{server.origin}/nope?token={refresh}")
    with connect(f"{server.ws_origin}/ws/messaging/1/?token={access}", proxy=None, open_timeout=5) as socket:
        socket.send('{"type": "ping"}')
        socket.recv(timeout=5)
    plain_http.get(f"{server.origin}/healthz?last=1")
    return [access, refresh, access.split(".")[2], refresh.split(".")[2]]


def log_lines(server):
    """stderr, and stdout after the banner (what print() shows a person at start-up)."""
    out = server.stdout().splitlines()
    start = next(i for i, line in enumerate(out) if line.startswith("Serving at")) + 1
    return [line for line in server.stderr().splitlines() + out[start:] if line.strip()]


def test_live_text_lines_have_time_and_level(live_server):
    server = live_server()
    secrets = traffic(server)
    assert server.stop() == 0  # once it has exited, every line it logged is in the files
    lines = log_lines(server)
    assert len(lines) > 8
    assert [line for line in lines if not TEXT_LINE.match(line)] == []
    assert any("uvicorn.access" in line and "/healthz?token=[redacted]&x=1" in line for line in lines)
    assert any(" INFO  server: shutdown complete" in line for line in lines)
    for secret in secrets:
        assert secret not in server.stdout() + server.stderr()


def test_live_json_lines_for_a_log_collector(live_server):
    server = live_server("--log-format", "json")
    secrets = traffic(server)
    assert server.stop() == 0
    entries = [json.loads(line) for line in log_lines(server)]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(entry) for entry in entries)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["time"]) for entry in entries)
    access = [entry for entry in entries if entry["logger"] == "uvicorn.access"]
    health = next(entry for entry in access if entry["path"].startswith("/healthz?token"))
    assert (health["method"], health["path"], health["status"]) == ("GET", "/healthz?token=[redacted]&x=1", 200)
    assert health["client"].startswith("127.0.0.1:")
    assert any(entry.get("method") == "WEBSOCKET" and entry["path"] == "/ws/messaging/1/?token=[redacted]"
               for entry in entries)
    for secret in secrets:
        assert secret not in server.stdout() + server.stderr()
