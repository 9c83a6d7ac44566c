"""Unit-test setup: put py/ on the path, as PyScript does in the browser, so the pure
modules import the same way there and here (`from core.tokens import ...`, `import ws_hook`)."""
import os
import sys

PY_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "py"))
if PY_DIR not in sys.path:
    sys.path.insert(0, PY_DIR)


# Under mutmut (docs/MUTATION.md; it sets MUTANT_UNDER_TEST) a property test runs at most this
# many examples: the longest ones (10,000 random frame sequences for ws_hook) would otherwise
# take a minute for every surviving mutant of the module they reach. The ordinary run keeps
# each test's own count.
MUTATION_RUN_MAX_EXAMPLES = 100


def pytest_collection_modifyitems(items):
    if "MUTANT_UNDER_TEST" not in os.environ:
        return
    from hypothesis import settings

    for item in items:
        test = getattr(item, "obj", None)
        own = getattr(test, "_hypothesis_internal_use_settings", None)
        if own is not None and own.max_examples > MUTATION_RUN_MAX_EXAMPLES:
            test._hypothesis_internal_use_settings = settings(own, max_examples=MUTATION_RUN_MAX_EXAMPLES)
