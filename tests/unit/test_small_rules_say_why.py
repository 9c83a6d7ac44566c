"""Small rules at their edges: the reconnect backoff and the read marker refuse bad input with
the reason; a fresh read marker or one whose lone call came back has nothing due; an image URL
is an http(s) or root-relative one, never a bare prefix."""
import pytest

from core.backoff import reconnect_delay
from core.models import image_url_or_none
from core.read_marker import ReadMarker


def test_the_backoff_refuses_an_attempt_that_is_not_a_count_from_1():
    with pytest.raises(TypeError, match="^attempt must be an int$"):
        reconnect_delay(1.0)
    with pytest.raises(ValueError, match="^attempt counts from 1$"):
        reconnect_delay(0)


def test_a_negative_read_interval_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="^interval must not be negative$"):
        ReadMarker(interval=-0.5)


def test_a_fresh_read_marker_has_nothing_to_send():
    marker = ReadMarker(interval=1.0)
    assert (marker.tick(100.0), marker.next_wakeup()) == (False, None)


def test_after_a_lone_messages_call_comes_back_nothing_more_is_due():
    marker = ReadMarker(interval=1.0)
    assert marker.request(0.0) is True
    assert marker.finished(0.5) is False
    assert (marker.next_wakeup(), marker.tick(5.0)) == (None, False)


@pytest.mark.parametrize("url", ["http://cdn.example/a.png", "HTTPS://cdn.example/a.png", "/media/a.png"])
def test_http_https_and_root_relative_image_urls_are_kept(url):
    assert image_url_or_none(f"  {url} ") == url


@pytest.mark.parametrize("url", ["http://", "https://", "/", "HTTP://", " / ", "ftp://x/a.png", "a.png"])
def test_a_bare_prefix_or_another_scheme_is_no_image_url(url):
    assert image_url_or_none(url) is None
