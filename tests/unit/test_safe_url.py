"""Image URLs: only root-relative paths and absolute http(s) URLs (edge 9, CONTRACT)."""

import pytest

from core.safe_url import MAX_URL_LEN, safe_image_url

API = "https://api.example.com"

GOOD_ABSOLUTE = [
    "https://cdn.example.com/media/a.png",
    "http://127.0.0.1:8000/media/messages/x.jpg",
    "HTTPS://CDN.EXAMPLE.COM/A.PNG",
    "https://cdn.example.com/a.png?sig=abc&exp=1#frag",
    "http://[::1]:8000/media/a.png",
    "https://cdn.example.com",
    "https://bücher.example/media/a.png",
    "https://cdn.example.com/media/my%20photo.png",
]


class TestAccepted:
    @pytest.mark.parametrize("url", GOOD_ABSOLUTE)
    def test_absolute_http_urls_pass_unchanged(self, url):
        assert safe_image_url(url) == url
        assert safe_image_url(url, API) == url

    def test_root_relative_stays_same_origin_without_api_base(self):
        assert safe_image_url("/media/messages/a.png") == "/media/messages/a.png"

    def test_root_relative_resolves_against_api_base(self):
        assert safe_image_url("/media/a.png", API) == "https://api.example.com/media/a.png"

    def test_root_relative_uses_the_origin_of_api_base_only(self):
        assert safe_image_url("/media/a.png", "http://h.test:8080/backend/") == "http://h.test:8080/media/a.png"

    def test_root_relative_api_base_means_same_origin(self):
        assert safe_image_url("/media/a.png", "/backend") == "/media/a.png"

    def test_bad_api_base_refuses_root_relative(self):
        assert safe_image_url("/media/a.png", "javascript:alert(1)") is None
        assert safe_image_url("/media/a.png", "ftp://h.test") is None

    def test_non_ascii_path_letters_are_fine(self):
        assert safe_image_url("/media/café.png") == "/media/café.png"

    def test_exactly_max_length_is_accepted(self):
        url = "/media/" + "a" * (MAX_URL_LEN - len("/media/"))
        assert len(url) == MAX_URL_LEN
        assert safe_image_url(url) == url


HOSTILE = [
    # script-bearing schemes
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "JAVASCRIPT:alert(1)",
    "javascript://cdn.example.com/%0Aalert(1)",
    "vbscript:msgbox(1)",
    "data:image/png;base64,iVBORw0KGgo=",
    "data:text/html,<script>alert(1)</script>",
    "DATA:image/svg+xml,<svg onload=alert(1)>",
    "blob:https://app.example.com/1234-5678",
    "file:///etc/passwd",
    "ftp://example.com/a.png",
    "ws://example.com/a.png",
    "about:blank",
    "filesystem:https://x/temporary/a.png",
    # whitespace and control-character tricks browsers strip or tolerate
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "java\rscript:alert(1)",
    " javascript:alert(1)",
    "\x00javascript:alert(1)",
    "\x01javascript:alert(1)",
    "javascript\x00:alert(1)",
    "\u00a0javascript:alert(1)",
    "\ufeffjavascript:alert(1)",
    "java\u200bscript:alert(1)",
    "\u202ejavascript:alert(1)",
    "https://cdn.example.com/a.png\n",
    " /media/a.png",
    "/media/a b.png",
    "https://cdn.example.com/a\u2028.png",
    # encoded forms
    "%6A%61%76%61script:alert(1)",
    "javascript%3Aalert(1)",
    "&#106;avascript:alert(1)",
    "javascript&colon;alert(1)",
    "&#x2F;&#x2F;evil.com/a.png",
    "/%2F/evil.com/a.png",
    "/%5c/evil.com/a.png",
    # other hosts sneaking in
    "//evil.com/a.png",
    "///evil.com/a.png",
    "/\\evil.com/a.png",
    "\\\\evil.com/a.png",
    "\\/evil.com/a.png",
    "https://cdn.example.com\\@evil.com/a.png",
    "https://user:pass@evil.com/a.png",
    "https://cdn.example.com@evil.com/a.png",
    # malformed absolute URLs
    "https:evil.com/a.png",
    "https:/evil.com/a.png",
    "https:///a.png",
    "http://",
    "http://:8000/a.png",
    "http://cdn.example.com:99999/a.png",
    "http://cdn.example.com:port/a.png",
    "http://.../a.png",
    "http://ex%61mple.com/a.png",
    'https://cdn.example.com/a.png"onerror="alert(1)',
    "https://cdn.example.com/<script>",
    # relative paths and non-URLs
    "media/a.png",
    "./a.png",
    "../a.png",
    "a.png",
    "?x=1",
    "#frag",
    "",
    "/" + "a" * MAX_URL_LEN,
    # the contract's "anything else"
    None,
    42,
    b"/media/a.png",
    ["/media/a.png"],
    {"url": "/media/a.png"},
]


class TestRefused:
    def test_at_least_forty_hostile_variants(self):
        assert len(HOSTILE) >= 40

    @pytest.mark.parametrize("url", HOSTILE)
    def test_hostile_url_is_not_an_image_edge9(self, url):
        assert safe_image_url(url) is None

    @pytest.mark.parametrize("url", HOSTILE)
    def test_hostile_url_is_refused_with_api_base_too(self, url):
        assert safe_image_url(url, API) is None
