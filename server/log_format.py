"""What a log line looks like: `--log-format text` (people) or `json` (log collectors).

    2026-12-06T23:10:01.123Z INFO  uvicorn.access: 127.0.0.1:50312 - "GET /healthz HTTP/1.1" 200
    {"time": "2026-12-06T23:10:01.123Z", "level": "INFO", "logger": "uvicorn.access",
     "message": "127.0.0.1:50312 - \"GET /healthz HTTP/1.1\" 200", "method": "GET",
     "path": "/healthz", "status": 200, "client": "127.0.0.1:50312"}   (one line)

The time is UTC with milliseconds, whatever the machine's time zone, so lines from several
machines sort together. Our own loggers (`server`), uvicorn's (`uvicorn.error`, access lines on
`uvicorn.access`) and any library's warnings (the root logger) go through the same formatter.

Tokens: `logging_redact.RedactTokens` (a filter) already cleaned the record's message and
arguments; the formatters redact the finished text once more, because a traceback or an
`extra` field never passes through that filter (CONTRACT: "No token ever reaches a log line").
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from server.logging_redact import redact

FORMATS = ("text", "json")
LOGGERS = ("server", "uvicorn", "uvicorn.error", "uvicorn.access")


def utc_time(created: float) -> str:
    """ISO 8601 in UTC with milliseconds and a Z: 2026-12-06T23:10:01.123Z."""
    seconds = int(created)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int((created - seconds) * 1000):03d}Z"


def request_fields(record: logging.LogRecord) -> dict[str, Any]:
    """method, path, status and client of uvicorn's access lines (HTTP and WebSocket handshakes),
    read from the record's arguments (already redacted), or {} for any other line."""
    args = record.args if isinstance(record.args, tuple) else ()
    if record.name == "uvicorn.access" and len(args) == 5:
        client, method, path, _version, status = args
        return {"method": method, "path": path, "status": status, "client": client}
    if isinstance(record.msg, str) and record.msg.startswith('%s - "WebSocket %s"') and len(args) in (2, 3):
        status = args[2] if len(args) == 3 else (403 if record.msg.endswith("403") else 101)
        return {"method": "WEBSOCKET", "path": args[1], "status": status, "client": args[0]}
    return {}


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = f"{utc_time(record.created)} {record.levelname:<5} {record.name}: {record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return redact(line)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {"time": utc_time(record.created), "level": record.levelname,
                                 "logger": record.name, "message": record.getMessage()}
        entry.update(request_fields(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        clean = {key: redact(value) if isinstance(value, str) else value for key, value in entry.items()}
        return json.dumps(clean, ensure_ascii=False, default=str)


def logging_config(log_format: str = "text") -> dict[str, Any]:
    """The `logging.config.dictConfig` for uvicorn.Config(log_config=...): access lines on
    stdout (as uvicorn does), everything else on stderr, all in `log_format`."""
    if log_format not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}")
    formatter = TextFormatter if log_format == "text" else JsonFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": {"()": formatter}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "line", "stream": "ext://sys.stderr"},
            "stdout": {"class": "logging.StreamHandler", "formatter": "line", "stream": "ext://sys.stdout"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
            "server": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    }
