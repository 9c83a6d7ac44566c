"""Fixtures for the end-to-end tests live in e2e_harness.py (a unique module
name: `from conftest import ...` would pick up whichever conftest.py pytest
loaded last)."""

from e2e_harness import (  # noqa: F401 - pytest finds fixtures by name here
    _playwright,
    _reset_faults,
    _warm_browser,
    browser,
    context,
    fresh_conversation,
    page,
    server,
)
from ui_support import _warm_tabs  # noqa: F401 - the module tabs' warm profile
