"""Logout ends the session at the server too (issue 11): the page logs out locally at once and
then calls CONTRACT's optional POST /api/auth/jwt/blacklist/; after it the old refresh token is
refused. Against a backend without that endpoint the page still logs out."""

import plain_http

from e2e_harness import login, wait_state, wait_until


def _refresh(server, token):
    return plain_http.post(server.origin + "/api/auth/jwt/refresh/", json={"refresh": token},
                      headers={"Origin": server.origin}, timeout=10)


def test_logout_revokes_the_refresh_token_at_the_server(page, server):
    login(page, server)
    refresh = page.evaluate("() => localStorage.getItem('refresh_token')")
    assert refresh, "the page keeps its refresh token in localStorage"
    blacklist_calls = []
    page.on("request", lambda r: blacklist_calls.append(r) if r.url.endswith("/api/auth/jwt/blacklist/") else None)
    page.get_by_test_id("logout").click()
    wait_state(page, "login")
    assert page.evaluate("() => localStorage.getItem('refresh_token')") is None
    wait_until(lambda: len(blacklist_calls) == 1, "the blacklist call")
    assert "authorization" not in {k.lower() for k in blacklist_calls[0].headers}
    wait_until(lambda: _refresh(server, refresh).status_code == 401, "the old refresh token is refused")


def test_logout_works_when_the_backend_has_no_blacklist(page, server):
    page.context.route("**/api/auth/jwt/blacklist/", lambda route: route.fulfill(status=404, json={"detail": "Not found."}))
    login(page, server)
    page.get_by_test_id("logout").click()
    wait_state(page, "login")
    assert page.evaluate("() => localStorage.getItem('refresh_token')") is None
    page.reload()
    wait_state(page, "login")
