"""Issue 6 item 8 (server side): a strict Content-Security-Policy and hardening headers on
every HTTP answer: the page, its scripts, the API, errors and 404s."""

import pytest
from server_harness import bearer, login


def directives(csp):
    out = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


@pytest.mark.parametrize("path", ["/", "/index.html", "/config.json", "/static/app.css", "/py/app.py",
                                  "/api/messaging/conversations/", "/api/auth/users/me/", "/no/such/path",
                                  "/healthz"])
def test_every_answer_carries_a_strict_csp_and_hardening_headers(client, path):
    response = client.get(path, headers=bearer(login(client)) if path.startswith("/api") else {})
    h = response.headers
    csp = directives(h["content-security-policy"])
    assert "'unsafe-inline'" not in h["content-security-policy"]
    assert "'unsafe-eval'" not in h["content-security-policy"]
    if "script-src" in csp:
        assert set(csp["script-src"]) <= {"'self'", "'wasm-unsafe-eval'"}
    assert csp["default-src"] in (["'self'"], ["'none'"])
    if path in ("/", "/index.html"):
        assert csp["script-src"] == ["'self'", "'wasm-unsafe-eval'"]  # what Pyodide needs, nothing more
        assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
        assert csp["frame-ancestors"] == ["'none'"]
        assert "'unsafe-inline'" not in csp.get("style-src", [])
    assert h["x-content-type-options"] == "nosniff"
    assert h["x-frame-options"] == "DENY"
    assert h["referrer-policy"] == "no-referrer"
    assert "cross-origin-opener-policy" in h and "permissions-policy" in h
