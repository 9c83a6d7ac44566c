"""static/early.js and Python agree on the names both use (API paths, storage keys, config.json,
screen and form ids): early.js's SHARED block is py/core/page_names.py's, and early.js uses
no such name outside it."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "py"))

import early_shared  # noqa: E402
from core import page_names  # noqa: E402
from core.constants import auth_me_path, conversations_path, unread_count_path  # noqa: E402
from core.tokens import ACCESS_KEY, REFRESH_KEY  # noqa: E402

EARLY_JS = ROOT / "static" / "early.js"


def _outside_block(text):
    return early_shared.BLOCK.sub("", text)


def test_early_js_holds_what_python_says():
    assert early_shared.current(EARLY_JS.read_text()) == page_names.early_js_names()


def test_the_shared_names_are_the_ones_python_uses():
    names = page_names.early_js_names()
    assert names["calls"] == [auth_me_path(), conversations_path(), unread_count_path()]
    assert names["storage"] == {"access": ACCESS_KEY, "refresh": REFRESH_KEY}


def test_early_js_spells_no_shared_name_outside_the_block():
    code = _outside_block(EARLY_JS.read_text())
    names = page_names.early_js_names()
    spelled = [names["config"], *names["calls"], *names["storage"].values(), *names["screens"].values(),
               *names["login"].values()]
    found = [name for name in spelled if re.search(r"[\"'`]" + re.escape(name) + r"[\"'`]", code)]
    assert found == []
    assert "/api/" not in code


def test_a_change_in_python_shows_as_a_difference():
    names = page_names.early_js_names()
    changed = dict(names, config="./other.json")
    text = early_shared.rewritten(EARLY_JS.read_text(), changed)
    assert early_shared.current(text) == changed != names
