"""docs/ACCEPTANCE.md maps every rule of the spec to the tests that prove it.

These tests fail, listing what is wrong, when a rule has no row, a row names no
test, or a row names a test that does not exist (no `def <name>` in that file).
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAP = ROOT / "docs" / "ACCEPTANCE.md"

# The spec's rules, as SPEC.md numbers and words them.
ACS = [f"AC-{n}" for n in range(1, 32)]
EDGES = [f"Edge {n}" for n in range(1, 13)]
ERRORS = [
    "Error: WebSocket connection refused (server down)",
    "Error: JWT token expired during WS session",
    "Error: WebSocket auth rejected (4001)",
    "Error: Access denied to conversation (4003)",
    "Error: Malformed WebSocket message",
    "Error: Browser doesn't support WebSocket",
    "Error: Network offline",
]
REQUIRED = ACS + EDGES + ERRORS

REF = re.compile(r"(tests/[\w/]+\.py)::(test_\w+)")


def _rows():
    """{item: [(path, test name), ...]} for every table row of the map."""
    rows = {}
    for line in MAP.read_text(encoding="utf-8").splitlines():
        if not line.startswith("| ") or line.startswith("| Item ") or line.startswith("|---"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        item = cells[0]
        refs = REF.findall(cells[-1]) if len(cells) >= 3 else []
        rows.setdefault(item, []).extend(refs)
    return rows


def _test_exists(path, name, cache={}):
    file = ROOT / path
    if path not in cache:
        cache[path] = file.read_text(encoding="utf-8") if file.is_file() else None
    text = cache[path]
    return text is not None and re.search(rf"^\s*def {re.escape(name)}\(", text, re.MULTILINE) is not None


def test_every_ac_edge_case_and_error_row_of_the_spec_has_a_row_in_the_map():
    rows = _rows()
    missing = [item for item in REQUIRED if item not in rows]
    assert missing == [], "rules with no row in docs/ACCEPTANCE.md: " + ", ".join(missing)


def test_every_row_names_at_least_one_existing_test():
    rows = _rows()
    unproved = [item for item in REQUIRED if item in rows and not any(_test_exists(p, n) for p, n in rows[item])]
    assert unproved == [], "rules with no existing test: " + ", ".join(unproved)


def test_every_referenced_test_exists():
    broken = sorted({f"{item}: {path}::{name}" for item, refs in _rows().items() for path, name in refs
                     if not _test_exists(path, name)})
    assert broken == [], "referenced tests that do not exist:\n" + "\n".join(broken)


def test_the_map_parser_sees_references():
    # Guard against a parser that silently finds nothing (which would make the checks above vacuous).
    rows = _rows()
    assert len(rows) >= len(REQUIRED)
    assert sum(len(refs) for refs in rows.values()) >= 2 * len(REQUIRED)
    assert ("tests/e2e/test_delivery.py", "test_ac11_peer_message_is_appended_to_the_open_chat_without_refetching_messages") in rows["AC-11"]
