"""CONTRACT "Optional features, announced": the page asks which optional calls the backend
offers, once the list is in, and treats a backend without the call as offering none."""

from e2e_harness import login


def capabilities_requests(page):
    return [r for r in page.watch.requests if "/api/messaging/capabilities/" in r]


def test_the_page_learns_what_serve_py_offers(page, server):
    login(page, server)
    page.wait_for_selector("body[data-capabilities='edit delete saved_replies search']")
    assert len(capabilities_requests(page)) == 1


def test_a_backend_without_the_call_offers_nothing(page, server):
    answered = []

    def not_found(route):
        answered.append(route.request.url)
        route.fulfill(status=404, content_type="application/json", body='{"detail": "Not found."}')

    page.context.route("**/api/messaging/capabilities/", not_found)
    login(page, server)
    page.wait_for_selector("body[data-capabilities='']", state="attached")
    assert len(answered) == 1


def test_a_failed_ask_is_asked_again_when_a_chat_opens(page, server):
    calls = []

    def fail_once(route):
        calls.append(route.request.url)
        if len(calls) == 1:
            route.fulfill(status=503, body="")
        else:
            route.fallback()

    page.context.route("**/api/messaging/capabilities/", fail_once)
    login(page, server)
    page.wait_for_function("document.body.dataset.appState === 'messages'")
    page.get_by_test_id("conversation-item").first.click()
    page.wait_for_selector("body[data-capabilities='edit delete saved_replies search']")
    assert len(calls) >= 2  # asked again (a list answer in between may also have asked)


def test_an_ask_failing_after_a_chat_opened_is_asked_again_at_once(page, server):
    """The first ask is still out when the chat opens (a slow answer), then fails: the open chat
    does not wait for the next one to learn what it may offer (edit, delete)."""
    held, calls = [], []

    def hold_the_first(route):
        calls.append(route.request.url)
        if len(calls) == 1:
            held.append(route)
        else:
            route.fallback()

    page.context.route("**/api/messaging/capabilities/", hold_the_first)
    with page.expect_request("**/api/messaging/capabilities/"):  # the first ask, held
        login(page, server)
    page.wait_for_function("document.body.dataset.appState === 'messages'")
    page.get_by_test_id("conversation-item").first.click()
    page.wait_for_selector("[data-testid=chat-view][data-ws-state=connected]", state="attached")
    assert len(calls) == 1  # the open chat did not ask twice while the first ask was out
    held[0].fulfill(status=503, body="")
    page.wait_for_selector("body[data-capabilities='edit delete saved_replies search']", state="attached")
    assert len(calls) == 2
