"""Writes (or checks) static/early.js's copy of py/core/page_names.py.

early.js runs before Python and cannot import it, so the names both sides use (API paths,
storage keys, the config file, screen and form ids) are written into early.js between its
SHARED markers, as one JSON object. py/core/page_names.py is the source; this is the build step.

    python3 scripts/early_shared.py --write   # after changing page_names.py
    python3 scripts/early_shared.py           # exit 1 when early.js is out of date
"""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EARLY_JS = ROOT / "static" / "early.js"
BLOCK = re.compile(r"(  // SHARED BEGIN[^\n]*\n)(.*?)(  // SHARED END\n)", re.S)


def _names():
    sys.path.insert(0, str(ROOT / "py"))
    from core.page_names import early_js_names
    return early_js_names()


def block(names):
    return "  const SHARED = " + json.dumps(names, separators=(", ", ": ")) + ";\n"


def current(text):
    """The names early.js holds now (None: no SHARED block)."""
    match = BLOCK.search(text)
    if match is None:
        return None
    body = match.group(2).strip()
    prefix, suffix = "const SHARED = ", ";"
    if not (body.startswith(prefix) and body.endswith(suffix)):
        return None
    return json.loads(body[len(prefix):-len(suffix)])


def rewritten(text, names):
    match = BLOCK.search(text)
    if match is None:
        raise SystemExit("static/early.js has no SHARED BEGIN/END block")
    return text[:match.start(2)] + block(names) + text[match.end(2):]


def main(argv):
    text = EARLY_JS.read_text()
    names = _names()
    if "--write" in argv:
        EARLY_JS.write_text(rewritten(text, names))
        return 0
    if current(text) != names:
        print("static/early.js is out of date: python3 scripts/early_shared.py --write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
