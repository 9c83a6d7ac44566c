"""Test-only controls: `faults` breaks the link on purpose for the browser tests.

Imported only by `create_app(faults=True)` (`serve.py --faults`), lazily: a server started
without the flag never loads this package and answers 404 at `/__faults/`
(tests/test_architecture.py and tests/server/test_server_faults.py check both).
"""
