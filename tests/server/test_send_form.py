"""A send's form is parsed from bytes as strict UTF-8 (server/send_form.py), then checked by
the same function as a JSON body's (messaging.make_draft)."""

import pytest

from server import messaging
from server.errors import ApiError
from server.send_form import MAX_PARTS, parse_send_form

MULTIPART = "multipart/form-data; boundary=b"


def part(name: str, value: bytes, filename: str | None = None, content_type: str = "") -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
    headers = f"Content-Disposition: {disposition}\r\n" + (f"Content-Type: {content_type}\r\n" if content_type else "")
    return b"--b\r\n" + headers.encode() + b"\r\n" + value + b"\r\n"


def refused(body: bytes, content_type: str = MULTIPART) -> str:
    with pytest.raises(ApiError) as caught:
        parse_send_form(body, content_type)
    assert caught.value.status == 400
    return caught.value.detail


def test_text_fields_and_a_file_come_apart():
    form = parse_send_form(part("content", "héllo".encode()) + part("image", b"\x89PNG", "a.png") + b"--b--\r\n",
                           MULTIPART)
    assert form.fields == {"content": "héllo"} and form.files == {"image": b"\x89PNG"}


@pytest.mark.parametrize("content_type", [MULTIPART + "; charset=utf-7", MULTIPART + "; charset=unicode_escape",
                                          "application/x-www-form-urlencoded; charset=latin-1"])
def test_a_charset_other_than_utf8_is_refused(content_type):
    assert "UTF-8" in refused(part("content", b"+2AA-") + b"--b--\r\n", content_type)


def test_a_part_naming_another_charset_is_refused():
    assert "UTF-8" in refused(part("content", b"+2AA-", content_type="text/plain; charset=utf-7") + b"--b--\r\n")


@pytest.mark.parametrize("raw", [b"\xed\xa0\x80", b"\xff", b"caf\xe9"])  # a UTF-8 surrogate, junk, Latin-1
def test_bytes_that_are_not_utf8_are_refused_in_either_form(raw):
    refused(part("content", raw) + b"--b--\r\n")
    refused(b"content=" + raw, "application/x-www-form-urlencoded")
    refused(b"content=%ED%A0%80", "application/x-www-form-urlencoded")


def test_a_name_given_twice_or_too_many_parts_are_refused():
    assert "twice" in refused(part("content", b"a") + part("content", b"b") + b"--b--\r\n")
    many = b"".join(part(f"f{i}", b"x") for i in range(MAX_PARTS + 1)) + b"--b--\r\n"
    assert "more than" in refused(many)
    assert "more than" in refused(b"&".join(b"f%d=x" % i for i in range(MAX_PARTS + 1)),
                                  "application/x-www-form-urlencoded")


def test_a_body_cut_before_its_closing_boundary_is_refused():
    assert "closing boundary" in refused(part("content", b"hi"))


def test_form_fields_get_the_json_checks():
    with pytest.raises(ApiError, match="UUID"):
        messaging.draft_from_form(part("content", b"x") + part("client_message_id", b"nope") + b"--b--\r\n",
                                  MULTIPART)
    with pytest.raises(ApiError, match="at most 2000"):
        messaging.draft_from_form(part("content", b"x" * 2001) + b"--b--\r\n", MULTIPART)
    with pytest.raises(ApiError, match="text fields"):
        messaging.draft_from_form(part("content", b"x", "c.txt") + b"--b--\r\n", MULTIPART)
    draft = messaging.draft_from_form(b"content=hi&client_message_id=", "application/x-www-form-urlencoded")
    assert (draft.content, draft.client_message_id, draft.image) == ("hi", None, None)
