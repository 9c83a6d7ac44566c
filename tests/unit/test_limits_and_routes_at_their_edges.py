"""Small rules at their exact edges: the file refusal's wording and size, the first
conversation's URL, and the early-fetch transport's status range and pass-through."""
import asyncio

from core.prefetch import PrefetchedTransport, parse_answer
from core.routes import conversation_from_hash, hash_for
from core.send_limits import attachment_refusal

MIB = 1024 * 1024


def test_a_file_without_a_name_is_called_this_file():
    assert attachment_refusal("", "text/plain", 10) == (
        "This file is not an image the chat accepts. Choose a PNG, JPEG, GIF or WebP image.")
    assert attachment_refusal("", "image/png", 6 * MIB).startswith("This file is 6.0 MB")


def test_a_files_size_is_said_in_mebibytes_to_one_decimal():
    # 7.051 MiB: one decimal of a mebibyte (1,048,576 bytes) says 7.1, of anything larger 7.0
    assert attachment_refusal("big.png", "image/png", int(7.051 * MIB)) == (
        "big.png is 7.1 MB; images can be at most 5 MB.")


def test_conversation_1_has_its_own_url():
    assert hash_for(1) == "#/conversations/1"
    assert conversation_from_hash("#/conversations/1") == 1


class Early:
    def __init__(self, answers):
        self.answers = dict(answers)  # (url, authorization) -> (status, text)

    def take(self, url, authorization):
        if (url, authorization) not in self.answers:
            return None
        answer = self.answers.pop((url, authorization))

        async def wait():
            return answer
        return wait()


class Real:
    def __init__(self):
        self.calls = []

    async def __call__(self, method, url, headers, body):
        self.calls.append((method, url, body))
        return 200, {"real": url}


def run(coro):
    return asyncio.new_event_loop().run_until_complete(coro)


def test_every_http_status_from_100_to_599_is_an_answer():
    assert parse_answer((100, "")) == (100, None)
    assert parse_answer((599, "{}")) == (599, {})
    assert parse_answer((99, "{}")) is None
    assert parse_answer((600, "{}")) is None


def test_only_a_get_without_a_body_is_looked_for_among_the_early_answers():
    early, real = Early({("/u", ""): (200, '{"id": 1}')}), Real()
    transport = PrefetchedTransport(real, early.take)
    assert run(transport("DELETE", "/u", {}, None)) == (200, {"real": "/u"})
    assert real.calls == [("DELETE", "/u", None)]
    assert run(transport("GET", "/u", {}, None)) == (200, {"id": 1})  # no token: the empty one


def test_the_real_transport_gets_the_request_as_it_was_made():
    real = Real()
    transport = PrefetchedTransport(real, Early({}).take)
    run(transport("POST", "/send", {"Authorization": "Bearer t"}, '{"content": "hi"}'))
    assert real.calls == [("POST", "/send", '{"content": "hi"}')]


def test_each_answer_served_early_is_counted():
    early = Early({("/a", "Bearer t"): (200, "1"), ("/b", "Bearer t"): (200, "2")})
    transport = PrefetchedTransport(Real(), early.take)
    for url in ("/a", "/b"):
        run(transport("GET", url, {"Authorization": "Bearer t"}, None))
    assert transport.used == 2
