"""Issue 19 in Chromium: the page does not notice which worker it talks to.

Two serve.py processes on two ports (two machines, as far as the page can tell) share one
PostgreSQL database and one Redis. The trainer's page talks only to worker A, the
trainee's only to worker B; a message, the typing indicator and the read tick each cross
from one worker to the other through Redis, live.
"""

import sys
from pathlib import Path

import pytest

from e2e_harness import Server, login, open_conversation, wait_until
from ui_support import WAIT_MS, message_with_text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import services  # noqa: E402  (tests/services.py: throwaway Redis and PostgreSQL servers)

CONVERSATION = 1  # the demo's coach <-> Alex


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    if services.find_redis() is None:
        services.missing("redis-server")
    if services.find_postgres_bin() is None:
        services.missing("PostgreSQL (initdb, postgres)")
    with services.RedisServer() as redis, services.PostgresServer() as postgres:
        database = postgres.new_database()
        shared = ["--database", database, "--redis", redis.url]
        workers = []
        try:
            for name in ("a", "b"):
                workers.append(Server(tmp_path_factory.mktemp(f"worker-{name}"), extra_args=shared).start())
            yield workers
        finally:
            for worker in workers:
                worker.stop()


@pytest.fixture
def two_pages(browser):
    contexts = [browser.new_context(viewport={"width": 1280, "height": 800}) for _ in range(2)]
    yield [ctx.new_page() for ctx in contexts]
    for ctx in contexts:
        ctx.close()


def test_trainer_on_one_worker_and_trainee_on_another_see_message_typing_and_read_live(two_workers, two_pages):
    worker_a, worker_b = two_workers
    trainer, trainee = two_pages
    assert worker_a.origin != worker_b.origin
    login(trainer, worker_a)
    open_conversation(trainer, CONVERSATION)
    login(trainee, worker_b, "alex@example.com")
    open_conversation(trainee, CONVERSATION)
    # Both chats hold a live socket, each on its own worker.
    assert worker_a.open_sockets(CONVERSATION) == 1 and worker_b.open_sockets(CONVERSATION) == 1

    box = trainee.get_by_test_id("chat-input")
    box.press_sequentially("Hello from wor")
    trainer.get_by_test_id("typing-indicator").wait_for(timeout=WAIT_MS)
    assert "Alex" in trainer.get_by_test_id("typing-indicator").inner_text()

    box.press_sequentially("ker B")
    box.press("Enter")
    message_with_text(trainer, "Hello from worker B").wait_for(timeout=WAIT_MS)

    # The trainer's chat is open and at its end, so it marks the message read (worker A);
    # the trainee's tick turns read through Redis (worker B).
    own = message_with_text(trainee, "Hello from worker B")
    own.and_(trainee.locator("[data-own=true][data-read=true]")).wait_for(timeout=WAIT_MS)

    trainer.get_by_test_id("chat-input").fill("Got it, from worker A")
    trainer.get_by_test_id("chat-input").press("Enter")
    message_with_text(trainee, "Got it, from worker A").wait_for(timeout=WAIT_MS)
    # Nothing fell back to polling: both sockets are still the live ones.
    wait_until(lambda: worker_a.open_sockets(CONVERSATION) == 1 and worker_b.open_sockets(CONVERSATION) == 1,
               "both chats still on their sockets", timeout=5)
    assert trainer.locator(f"[data-testid=chat-view][data-ws-state='connected']").count() == 1
    assert trainee.locator(f"[data-testid=chat-view][data-ws-state='connected']").count() == 1
