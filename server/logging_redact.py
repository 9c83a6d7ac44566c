"""Keep tokens out of logs: `token=...` in any record's message or arguments becomes
`token=[redacted]` (CONTRACT: "No token ever reaches a log line").

The arguments are redacted one by one rather than merged into the message, because
uvicorn's access formatter unpacks `record.args` positionally.
"""

from __future__ import annotations

import logging
import re

_TOKEN = re.compile(r"(token=)[^&\s\"'#]+", re.IGNORECASE)
REDACTED = r"\1[redacted]"
LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "server")


def redact(text: str) -> str:
    return _TOKEN.sub(REDACTED, text)


def _redact_value(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bytes):
        return redact(value.decode("latin-1")).encode("latin-1")
    return value


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_value(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redact_value(arg) for key, arg in record.args.items()}
        return True


def install(logger_names: tuple[str, ...] = LOGGERS) -> RedactTokens:
    """Attach one filter to those loggers and to every handler they or the root logger use.

    A logger's filter only sees records created on that logger; the handler filters catch
    records that propagate from child loggers.
    """
    token_filter = RedactTokens()
    loggers = [logging.getLogger(name) for name in logger_names] + [logging.getLogger()]
    for logger in loggers:
        for filterer in [logger, *logger.handlers]:
            if not any(isinstance(f, RedactTokens) for f in filterer.filters):
                filterer.addFilter(token_filter)
    return token_filter
