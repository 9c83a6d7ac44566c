"""The shell and the session in the real browser: our own origin only, loading state, login,
session across reloads, conversation list from the API, logout."""

import plain_http

from e2e_harness import login, wait_ready, wait_state


def test_fresh_load_makes_no_request_to_any_other_origin(page, server):
    login(page, server)
    page.reload()
    wait_ready(page, "messages")
    page.get_by_test_id("conversation-item").first.wait_for()
    assert page.watch.requests, "the page made no requests at all?"
    assert page.watch.foreign_requests(server.origin) == []


def test_page_shows_a_skeleton_while_python_boots(page, server):
    # The skeleton is in the HTML itself: visible before any script has run. (It is what a
    # trainer with a stored session sees; without one, the login form replaces it at once.)
    # PyScript's requests are held unanswered (a slow link), not refused: a refused one is a
    # failure, which the page reports instead (tests/e2e/test_boot_failure.py).
    page.add_init_script("localStorage.setItem('refresh_token', 'stored');")
    held = []
    page.route("**/vendor/pyscript/**", lambda route: held.append(route))
    page.goto(server.origin + "/", wait_until="commit")  # "load" would wait for the held scripts
    boot = page.locator("#boot-screen")
    boot.wait_for(state="visible")
    assert "Loading" in boot.inner_text()
    assert "could not start" not in boot.inner_text()
    assert page.locator("#boot-screen .skeleton").count() >= 3
    page.unroute("**/vendor/pyscript/**")  # the held requests go on: nothing is left hanging


def test_login_with_wrong_password_shows_an_error(page, server):
    page.goto(server.origin + "/")
    wait_ready(page, "login")
    page.get_by_test_id("login-email").fill("coach@example.com")
    page.get_by_test_id("login-password").fill("wrong-password")
    page.get_by_test_id("login-submit").click()
    error = page.get_by_test_id("login-error")
    error.wait_for()
    assert "match" in error.inner_text()
    assert page.evaluate("localStorage.getItem('access_token')") is None


def test_login_shows_the_demo_conversations_newest_first(page, server):
    login(page, server)
    rows = page.get_by_test_id("conversation-item")
    names = [rows.nth(i).inner_text() for i in range(rows.count())]
    text = "\n".join(names)
    for name in ("Alex Runner", "Sam Lifter", "Jo Archived"):
        assert name in text
    # The list is the API's list, in the API's order.
    token = page.evaluate("localStorage.getItem('access_token')")
    api = plain_http.get(server.origin + "/api/messaging/conversations/",
                    headers={"Authorization": "Bearer " + token}).json()
    shown = [int(rows.nth(i).get_attribute("data-conversation-id")) for i in range(rows.count())]
    assert shown == [c["id"] for c in api]
    alex = next(c for c in api if c["trainee"]["first_name"] == "Alex")
    badge = page.locator(f"[data-conversation-id='{alex['id']}'] [data-testid=conversation-unread]")
    assert badge.inner_text() == str(alex["unread_count"])


def test_session_survives_a_reload_and_logout_ends_it(page, server):
    login(page, server)
    page.reload()
    wait_ready(page, "messages")
    page.get_by_test_id("conversation-item").first.wait_for()
    page.get_by_test_id("logout").click()
    wait_state(page, "login")
    assert page.evaluate("localStorage.getItem('access_token')") is None
    assert page.evaluate("localStorage.getItem('refresh_token')") is None
    page.reload()
    wait_ready(page, "login")


def test_expired_access_token_is_refreshed_transparently(page, server):
    login(page, server)
    server.fault("expire_tokens")
    page.reload()
    wait_ready(page, "messages")
    page.get_by_test_id("conversation-item").first.wait_for()
    assert page.get_by_test_id("conversation-item").count() >= 3


def test_failed_refresh_ends_the_session_cleanly(page, server):
    login(page, server)
    # Refreshes fail before the tokens expire: the page is still making its after-login calls,
    # and one answered 401 between the two faults refreshed the session (a failure in a
    # two-worker run: the refresh was in before its fault, so the reload came back logged in).
    server.fault("refresh", fail=True)
    server.fault("expire_tokens")
    page.reload()
    wait_ready(page, "login")
    assert page.evaluate("localStorage.getItem('access_token')") is None


def test_focus_put_on_the_list_while_its_answers_come_is_not_taken_back(page, server, fresh_conversation):
    """After sign-in the list takes the focus once its answers are in (the unread count is the
    last), unless the trainer has already moved it on this screen: a row focused, the arrow
    keys used and Tab pressed out of the list before the count came stay so."""
    from ui_support import after_frames
    fresh_conversation(messages=1)
    fresh_conversation(messages=1)
    held = []
    page.route("**/api/messaging/unread-count/", lambda route: held.append(route))
    page.goto(server.origin + "/")
    wait_ready(page, "login")
    page.get_by_test_id("login-email").fill("coach@example.com")
    page.get_by_test_id("login-password").fill("coach-pass")
    with page.expect_request("**/api/messaging/unread-count/"):
        page.get_by_test_id("login-submit").click()
    page.get_by_test_id("conversation-item").first.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")  # out of the list
    assert page.evaluate("document.activeElement.getAttribute('data-testid')") != "conversation-item"
    with page.expect_response("**/api/messaging/unread-count/"):
        for route in held:
            route.continue_()
    after_frames(page)  # the answer taken, the sign-in's last step done
    assert page.evaluate("document.activeElement.getAttribute('data-testid')") != "conversation-item"
