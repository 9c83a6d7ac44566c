"""Links in message text (issue 14 point 3): only http(s), shown text = href, nothing hidden."""

import pytest

from core.linkify import Segment, split_links


def links(text):
    return [s.href for s in split_links(text) if s.href is not None]


def test_plain_text_is_one_segment():
    assert split_links("see you at 6") == [Segment("see you at 6")]


def test_empty_and_non_text_give_no_segments():
    assert split_links("") == []
    assert split_links(None) == []
    assert split_links(42) == []


def test_a_link_in_a_sentence_splits_into_three_segments():
    assert split_links("Video: https://example.com/squat?t=30 then rest") == [
        Segment("Video: "),
        Segment("https://example.com/squat?t=30", "https://example.com/squat?t=30"),
        Segment(" then rest"),
    ]


@pytest.mark.parametrize("text", [
    "http://a.example/x y", "HTTPS://A.EXAMPLE/x", "hTTp://a.example:8080/p#frag",
])
def test_http_and_https_in_any_case_are_links(text):
    assert links(text) == [text.split(" ")[0]]


def test_segments_always_join_back_to_the_text():
    text = "a https://x.example/1, b (https://y.example/2) c https://z.example/3."
    assert "".join(s.text for s in split_links(text)) == text
    assert links(text) == ["https://x.example/1", "https://y.example/2", "https://z.example/3"]


@pytest.mark.parametrize("text", [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "ftp://example.com/x",
    "https;//example.com",
    "https:/example.com",
    "hxxps://example.com",
    "xhttps://example.com",
    "javascript:https://example.com",
    "javascript://example.com/%0aalert(1)",
    "<a href=\"javascript:alert(1)\">https</a>",
    "https://",
    "https:// example.com",
    "https://user:pass@evil.example/",
    "https://good.example@evil.example/",
    "https://./x",
    "https://:80/x",
    "https://example.com:99999/",
])
def test_nothing_else_becomes_a_link(text):
    assert links(text) == []


def test_a_url_hidden_in_html_links_only_its_plain_part_and_keeps_the_rest_as_text():
    text = '<a href="https://evil.example/">click</a>'
    segments = split_links(text)
    assert links(text) == ["https://evil.example/"]
    assert "".join(s.text for s in segments) == text  # the markup stays visible text


@pytest.mark.parametrize("text, url", [
    ("go to https://example.com.", "https://example.com"),
    ("https://example.com/a, then", "https://example.com/a"),
    ("really? https://example.com/?q=1!", "https://example.com/?q=1"),
    ("(see https://example.com/a)", "https://example.com/a"),
    ("https://en.wikipedia.org/wiki/Plank_(exercise)", "https://en.wikipedia.org/wiki/Plank_(exercise)"),
    ("[https://example.com/x]", "https://example.com/x"),
    ("'https://example.com/x'", "https://example.com/x"),
])
def test_trailing_punctuation_belongs_to_the_sentence(text, url):
    assert links(text) == [url]


@pytest.mark.parametrize("mark", ["\u200b", "\u202e", "\u2066", "\u00a0", "\n", "\t", "\x00"])
def test_invisible_and_control_characters_end_a_link(mark):
    text = f"https://example.com/a{mark}evil"
    assert links(text) == ["https://example.com/a"]
    assert "".join(s.text for s in split_links(text)) == text


def test_an_overlong_url_stays_text():
    url = "https://example.com/" + "a" * 3000
    assert links(url) == []
    assert split_links(url) == [Segment(url)]


def test_many_links_and_long_text_stay_linear():
    text = " ".join(f"https://e{i}.example/p" for i in range(500))
    assert len(links(text)) == 500
