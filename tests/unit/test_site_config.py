"""config.json (CONTRACT.md "config.json"): where the backend is; anything unreadable is the page's origin."""

import pytest

from core.site_config import SiteConfig, parse_config


def test_the_bases_are_read_without_trailing_slashes():
    config = parse_config('{"api_base": "https://api.example.com/", "ws_base": "wss://ws.example.com//"}')
    assert config == SiteConfig("https://api.example.com", "wss://ws.example.com")


def test_a_missing_base_is_the_same_origin():
    assert parse_config('{"api_base": "https://api.example.com"}').ws_base == ""


@pytest.mark.parametrize("text", ["", "not json", "[1, 2]", "null", '"x"', None, '{"api_base": 5}', "[" * 100000])
def test_anything_unreadable_is_the_empty_config(text):
    assert parse_config(text) == SiteConfig("", "")
