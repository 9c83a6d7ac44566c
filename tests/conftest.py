"""Run order for the whole suite: pure-logic and server tests first, browser tests last.

Playwright's sync API keeps an asyncio loop running in the main thread for as long
as the session's browser is open, and asyncio.run() refuses to start inside it, so
every test that drives asyncio itself must run before the first browser test.

The benchmark check goes first: it is one long test (a subprocess with its own browser), and
with two workers (pytest.ini) it then runs beside the short ones instead of alone at the end.
"""

import os
import shutil
import tempfile

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



def pytest_configure(config):
    """The suite starts serve.py ~300 times (and its CLI more): each start compiled the server's
    ~55 modules anew where the environment says PYTHONDONTWRITEBYTECODE (~0.1 CPU-s a start).
    The processes the tests start write and reuse bytecode in one temporary folder of the run
    instead, never next to the sources. The test processes themselves are not changed (an
    xdist worker, started by the controller, only passes the setting on to its children)."""
    cache = os.environ.get("COACHLINE_CHILD_PYCACHE")
    if cache is None:  # the controller (or a run without workers): the folder is its to make and remove
        cache = tempfile.mkdtemp(prefix="coachline-test-pycache-")
        config._child_pycache = cache
        os.environ["COACHLINE_CHILD_PYCACHE"] = cache
    if hasattr(config, "workerinput") or config.getoption("numprocesses", None) in (None, 0):
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ["PYTHONPYCACHEPREFIX"] = cache


def pytest_unconfigure(config):
    cache = getattr(config, "_child_pycache", None)
    if cache:
        shutil.rmtree(cache, ignore_errors=True)
