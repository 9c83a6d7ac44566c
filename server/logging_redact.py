"""Keep tokens out of logs: `token=...` in any record's message or arguments becomes
`token=[redacted]`, whatever the key's spelling (`%74oken=`, `TOKEN=`), and anything
shaped like a JWT becomes `[redacted]` (CONTRACT: "No token ever reaches a log line").

The arguments are redacted one by one rather than merged into the message, because
uvicorn's access formatter unpacks `record.args` positionally.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

# A `key=value` pair at the start of a query parameter or a word. Whether it is the token is
# decided on the key as a server decodes it (Starlette's query_params decode `%74oken` to
# `token`), not on its spelling: issue 23 item 8.
_PAIR = re.compile(r"(?:^|(?<=[?&;\s\"'(\[]))([^=&;?\s\"'#]{1,100})=([^&;\s\"'#]+)")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{8,}")  # any JWT, wherever it is
MASK = "[redacted]"
LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "server")


def _decoded(key: str) -> str:
    for _ in range(3):  # an encoding of an encoding too: redacting more is never wrong
        plain = unquote_plus(key)
        if plain == key:
            break
        key = plain
    return key.strip().lower()


def _pair(match: re.Match) -> str:
    key = match.group(1)
    return f"{key}={MASK}" if _decoded(key) == "token" else match.group(0)


def redact(text: str) -> str:
    return _JWT.sub(MASK, _PAIR.sub(_pair, text))


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
