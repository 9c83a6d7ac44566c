"""Run order for the whole suite: pure-logic and server tests first, browser tests last.

Playwright's sync API keeps an asyncio loop running in the main thread for as long
as the session's browser is open, and asyncio.run() refuses to start inside it, so
every test that drives asyncio itself must run before the first browser test.

The benchmark check goes first: it is one long test (a subprocess with its own browser), and
with two workers (pytest.ini) it then runs beside the short ones instead of alone at the end.
"""

_ORDER = ("tests/unit/", "tests/server/")


def _rank(item):
    path = item.nodeid
    for rank, prefix in enumerate(_ORDER):
        if path.startswith(prefix):
            return rank
    if path.startswith("tests/e2e/"):
        return len(_ORDER) + 2
    if "bench" in path:
        return -1
    return len(_ORDER) + 1


def pytest_collection_modifyitems(session, config, items):
    items.sort(key=_rank)  # stable: order inside each group is unchanged
