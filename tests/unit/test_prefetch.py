"""py/core/prefetch.py: early answers are used only for the very same request, once; anything
else reaches the real transport."""

import asyncio

from core.prefetch import PrefetchedTransport, parse_answer


class Early:
    def __init__(self, answers):
        self.answers = dict(answers)  # (url, authorization) -> (status, text) or None
        self.taken = []

    def take(self, url, authorization):
        self.taken.append((url, authorization))
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
        self.calls.append((method, url, headers.get("Authorization"), body))
        return 200, {"real": url}


ME = "https://api.example/api/auth/users/me/"
AUTH = {"Authorization": "Bearer t1"}


def run(coro):
    return asyncio.new_event_loop().run_until_complete(coro)


def test_the_same_get_is_answered_once_from_the_early_fetch():
    early, real = Early({(ME, "Bearer t1"): (200, '{"id": 7}')}), Real()
    transport = PrefetchedTransport(real, early.take)
    assert run(transport("GET", ME, AUTH, None)) == (200, {"id": 7})
    assert real.calls == [] and transport.used == 1
    assert run(transport("GET", ME, AUTH, None)) == (200, {"real": ME})  # taken once only
    assert len(real.calls) == 1


def test_another_token_url_or_method_goes_to_the_real_transport():
    early, real = Early({(ME, "Bearer t1"): (200, '{"id": 7}')}), Real()
    transport = PrefetchedTransport(real, early.take)
    assert run(transport("GET", ME, {"Authorization": "Bearer refreshed"}, None)) == (200, {"real": ME})
    assert run(transport("GET", ME + "?x=1", AUTH, None)) == (200, {"real": ME + "?x=1"})
    assert run(transport("POST", ME, AUTH, "{}")) == (200, {"real": ME})
    assert transport.used == 0 and len(real.calls) == 3
    assert early.answers  # never consumed by a request that was not the same


def test_an_error_status_is_an_answer_and_keeps_its_meaning():
    early, real = Early({(ME, "Bearer t1"): (401, '{"detail": "expired"}')}), Real()
    transport = PrefetchedTransport(real, early.take)
    assert run(transport("GET", ME, AUTH, None)) == (401, {"detail": "expired"})  # api_client refreshes
    assert real.calls == []


def test_a_failed_early_fetch_is_fetched_again():
    for failed in (None, (0, ""), ("200", "{}"), (200, None), (True, "{}"), "junk"):
        early, real = Early({(ME, "Bearer t1"): failed}), Real()
        transport = PrefetchedTransport(real, early.take)
        assert run(transport("GET", ME, AUTH, None)) == (200, {"real": ME}), failed
        assert transport.used == 0


def test_parse_answer_reads_json_like_the_fetch_transport():
    assert parse_answer((200, "")) == (200, None)
    assert parse_answer((200, "not json")) == (200, None)
    assert parse_answer((204, "")) == (204, None)
    assert parse_answer((200, '[1, 2]')) == (200, [1, 2])
    assert parse_answer((600, "{}")) is None


def test_every_http_status_from_100_to_599_is_an_answer():
    assert parse_answer((100, "")) == (100, None)
    assert parse_answer((599, "{}")) == (599, {})
    assert parse_answer((99, "{}")) is None


def test_only_a_get_without_a_body_is_looked_for_among_the_early_answers():
    early, real = Early({(ME, ""): (200, '{"id": 1}')}), Real()
    transport = PrefetchedTransport(real, early.take)
    assert run(transport("DELETE", ME, {}, None)) == (200, {"real": ME})
    assert real.calls == [("DELETE", ME, None, None)]
    assert run(transport("GET", ME, {}, None)) == (200, {"id": 1})  # no token: the empty one


def test_the_real_transport_gets_the_request_as_it_was_made():
    real = Real()
    transport = PrefetchedTransport(real, Early({}).take)
    run(transport("POST", ME, AUTH, '{"content": "hi"}'))
    assert real.calls == [("POST", ME, "Bearer t1", '{"content": "hi"}')]


def test_each_answer_served_early_is_counted():
    early = Early({(ME, "Bearer t1"): (200, "1"), (ME + "?x", "Bearer t1"): (200, "2")})
    transport = PrefetchedTransport(Real(), early.take)
    for url in (ME, ME + "?x"):
        run(transport("GET", url, AUTH, None))
    assert transport.used == 2
