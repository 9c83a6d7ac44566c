"""`{name:id}` in a route: a conversation id in a path, as digits of any length.

Starlette's `int` convertor calls int() on the path text, which raises ValueError (a 500)
for more than 4,300 digits. This one never calls int() on more than 19 significant digits:
a longer number cannot name a row (SQLite's INTEGER, PostgreSQL's BIGINT), so it becomes
`MAX_ID + 1`, which every lookup treats as missing (REST 404, socket 4003).
"""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor

MAX_ID = 2**63 - 1


class IdConvertor(Convertor[int]):
    regex = "[0-9]+"

    def convert(self, value: str) -> int:
        digits = value.lstrip("0") or "0"
        return int(digits) if len(digits) <= 19 else MAX_ID + 1

    def to_string(self, value: int) -> str:
        return str(int(value))


register_url_convertor("id", IdConvertor())
