"""A send's form (multipart or urlencoded) parsed from a body already read whole: plain
synchronous code, so that it runs on a worker thread with the image checks.

Text is UTF-8 and nothing else, checked strictly: a body or a part may not name another
charset (`charset=utf-7` or `unicode_escape` once decoded to a lone surrogate, which no
database stores), and bytes that are not UTF-8 are a 400 (strict decoding never yields a
surrogate). Each name may appear once; at most MAX_PARTS parts. The fields then go through
the same checks as a JSON body's (`messaging.make_draft`).
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field

from python_multipart.multipart import MultipartParseError, MultipartParser, parse_options_header

from server.errors import bad_request

MAX_PARTS = 10
_UTF8 = {"utf-8", "utf8", "us-ascii", "ascii"}


@dataclass
class SendForm:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)

    def add(self, name: str, value: str | bytes) -> None:
        if name in self.fields or name in self.files:
            raise bad_request(f"The form has {name} twice.")
        if len(self.fields) + len(self.files) >= MAX_PARTS:
            raise bad_request(f"The form has more than {MAX_PARTS} fields.")
        if isinstance(value, bytes):
            self.files[name] = value
        else:
            self.fields[name] = value


def parse_send_form(body: bytes, content_type: str) -> SendForm:
    kind, options = parse_options_header(content_type)
    _require_utf8(options)
    if kind == b"multipart/form-data":
        boundary = options.get(b"boundary")
        if not boundary:
            raise bad_request("Malformed form body: no boundary.")
        return _multipart(body, boundary)
    if kind == b"application/x-www-form-urlencoded":
        return _urlencoded(body)
    raise bad_request("The body must be a form or JSON.")


def _require_utf8(options: dict[bytes, bytes]) -> None:
    charset = options.get(b"charset")
    if charset is not None and charset.decode("latin-1").strip().lower() not in _UTF8:
        raise bad_request("Form text must be UTF-8.")


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("Form text must be UTF-8.") from None


def _urlencoded(body: bytes) -> SendForm:
    form = SendForm()
    try:
        pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True, encoding="utf-8",
                                       errors="strict", max_num_fields=MAX_PARTS)
    except UnicodeDecodeError:
        raise bad_request("Form text must be UTF-8.") from None
    except ValueError:
        raise bad_request(f"The form has more than {MAX_PARTS} fields.") from None
    for name, value in pairs:
        form.add(name, value)
    return form


class _Parts:
    """The callbacks of python-multipart's push parser, collecting each part whole."""

    def __init__(self) -> None:
        self.form = SendForm()
        self.ended = False
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._data: list[bytes] = []

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self._begin, "on_part_data": self._chunk, "on_part_end": self._end,
            "on_header_field": self._field, "on_header_value": self._value, "on_header_end": self._header,
            "on_end": self._finish,
        }

    def _begin(self) -> None:
        self._headers = {}
        self._data = []

    def _field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name = self._header_value = b""

    def _chunk(self, data: bytes, start: int, end: int) -> None:
        self._data.append(data[start:end])

    def _end(self) -> None:
        disposition, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if disposition != b"form-data" or b"name" not in options:
            raise bad_request("Malformed form body: a part has no name.")
        _require_utf8(parse_options_header(self._headers.get(b"content-type", b""))[1])
        name = _text(options[b"name"])
        raw = b"".join(self._data)
        if b"filename" in options:
            self.form.add(name, raw)  # an empty file is still a file, and not an image
        else:
            self.form.add(name, _text(raw))

    def _finish(self) -> None:
        self.ended = True


def _multipart(body: bytes, boundary: bytes) -> SendForm:
    parts = _Parts()
    try:
        parser = MultipartParser(boundary, parts.callbacks())
        parser.write(body)
        parser.finalize()
    except MultipartParseError as exc:
        raise bad_request(f"Malformed form body: {exc}") from None
    if not parts.ended:
        raise bad_request("Malformed form body: it ends before its closing boundary.")
    return parts.form
