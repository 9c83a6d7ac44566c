"""Issue 12, useful before Python (static/early.js + py/core/prefetch.py, py/web/web_early.py):
the login form works before Python is up, a submit made then is carried out once Python is,
a trainer with a session never sees the form, and that trainer's first three API calls start
while Pyodide boots and are not made twice."""

from e2e_harness import session_script, token_for, wait_ready, wait_state
from ui_support import after_frames

CORE = "**/vendor/pyscript/*/core.js"
FIRST_CALLS = ("/api/auth/users/me/", "/api/messaging/conversations/", "/api/messaging/unread-count/")


def test_the_login_form_is_usable_while_python_cannot_start(page, server):
    page.route(CORE, lambda route: route.abort())  # Python never comes
    page.goto(server.origin + "/", wait_until="commit")
    email = page.get_by_test_id("login-email")
    email.wait_for(state="visible", timeout=10_000)
    assert page.locator("#boot-screen").is_hidden()
    email.fill("coach@example.com")
    page.get_by_test_id("login-password").fill("coach-pass")
    assert email.input_value() == "coach@example.com"
    # Issue 20: Python not coming is said (static/boot-status.js), and the form keeps what was typed.
    page.wait_for_selector("[data-testid=boot-retry]", state="visible", timeout=60_000)
    assert email.is_visible() and email.input_value() == "coach@example.com"
    assert page.evaluate("document.body.dataset.appState") == "boot-failed"


def test_a_submit_made_before_python_is_carried_out_once_python_is_up(page, server):
    held = []
    page.route(CORE, lambda route: held.append(route))  # PyScript waits until we let it go
    logins = []
    page.on("request", lambda r: logins.append(r.url) if r.url.endswith("/api/auth/jwt/create/") else None)
    page.goto(server.origin + "/", wait_until="commit")  # "load" would wait for the held module
    page.get_by_test_id("login-email").wait_for(state="visible", timeout=10_000)
    page.get_by_test_id("login-email").fill("coach@example.com")
    page.get_by_test_id("login-password").fill("coach-pass")
    page.get_by_test_id("login-password").press("Enter")
    assert page.get_by_test_id("login-submit").is_disabled()  # held, and shown as held
    after_frames(page)  # a login the submit had started would have been asked for by now
    assert logins == [] and page.evaluate("document.body.dataset.appState") == "booting"
    assert len(held) == 1
    held[0].continue_()
    wait_state(page, "messages")
    page.get_by_test_id("conversation-item").first.wait_for()
    assert len(logins) == 1
    assert page.evaluate("localStorage.getItem('access_token')")


def test_a_trainer_with_a_session_never_sees_the_form_and_the_first_calls_start_early(context, server):
    context.add_init_script(
        session_script(token_for(server.origin)) +
        # Record whether the login screen is ever shown, from the first parsed node on.
        "new MutationObserver(() => { const s = document.getElementById('login-screen');"
        " if (s && !s.hidden) window.__loginShown = true; })"
        ".observe(document, {subtree: true, childList: true, attributes: true});")
    page = context.new_page()
    order = []
    page.on("request", lambda r: order.append((r.method, r.url.split("?")[0].replace(server.origin, ""))))
    page.goto(server.origin + "/")
    wait_ready(page, "messages")
    page.get_by_test_id("conversation-item").first.wait_for()
    assert page.evaluate("window.__loginShown === true") is False
    api = [path for method, path in order if path.startswith("/api/")]
    for call in FIRST_CALLS:
        assert api.count(call) == 1, (call, api)  # fetched early, used by Python, not fetched again
    # Started before PyScript fetched main.py (which it does once the interpreter is up).
    main_script = next(i for i, (_, path) in enumerate(order) if path == "/py/main.py")
    for call in FIRST_CALLS:
        assert order.index(("GET", call)) < main_script


def _config_requests(page):
    seen = []
    page.on("request", lambda r: seen.append(r.url) if r.url.split("?")[0].endswith("/config.json") else None)
    return seen


def test_config_json_is_fetched_once_per_page_load_without_a_session(page, server):
    # early.js fetches it and hands its text to Python (py/web/site_config_load.py).
    seen = _config_requests(page)
    page.goto(server.origin + "/")
    wait_ready(page, "login")
    assert len(seen) == 1, seen


def test_config_json_is_fetched_once_per_page_load_with_a_session(context, server):
    context.add_init_script(session_script(token_for(server.origin)))
    page = context.new_page()
    seen = _config_requests(page)
    page.goto(server.origin + "/")
    wait_ready(page, "messages")
    page.get_by_test_id("conversation-item").first.wait_for()
    assert len(seen) == 1, seen
    page.reload()
    wait_ready(page, "messages")
    page.get_by_test_id("conversation-item").first.wait_for()
    assert len(seen) == 2, seen  # one more load, one more request
