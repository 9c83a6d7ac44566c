"""Unit-test setup: put py/ on the path, as PyScript does in the browser, so the pure
modules import the same way there and here (`from core.tokens import ...`, `import ws_hook`)."""
import os
import sys

PY_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "py"))
if PY_DIR not in sys.path:
    sys.path.insert(0, PY_DIR)
