"""URLs at their edges: conversation 0, a base whose last letter could be mistaken for a
trailing character, a socket base whose path holds "://" again, a host made of dots only."""
import pytest

from core.constants import api_url, messages_path, ws_messaging_path, ws_messaging_url
from core.safe_url import absolute_http_origin, safe_image_url


def test_conversation_0_has_paths_and_a_negative_or_non_int_one_is_refused_with_the_reason():
    assert ws_messaging_path(0) == "/ws/messaging/0/"
    with pytest.raises(ValueError, match="^conversation_id must not be negative$"):
        messages_path(-1)
    with pytest.raises(TypeError, match="^conversation_id must be an int$"):
        messages_path("7")


def test_only_slashes_are_trimmed_from_the_bases():
    assert api_url("http://BOX", "/api/x/") == "http://BOX/api/x/"
    assert ws_messaging_url(7, "t", "wss://BOX", "https:", "page") == "wss://BOX/ws/messaging/7/?token=t"


def test_a_socket_base_is_split_at_its_first_scheme_separator_only():
    url = ws_messaging_url(7, "t", "https://h/p/http://x", "http:", "page")
    assert url == "wss://h/p/http://x/ws/messaging/7/?token=t"


def test_a_socket_base_of_another_scheme_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="^ws_base must use ws, wss, http or https$"):
        ws_messaging_url(7, "t", "ftp://h", "http:", "page")


def test_a_host_of_dots_is_refused_with_or_without_a_port_and_an_upper_case_host_is_kept():
    assert absolute_http_origin("http://...:80/a.png") is None
    assert absolute_http_origin("http://.../a.png") is None
    assert absolute_http_origin("http://X/a.png") == "http://X"


def test_a_root_relative_image_with_no_api_base_is_same_origin():
    assert safe_image_url("/media/a.png", None) == "/media/a.png"
