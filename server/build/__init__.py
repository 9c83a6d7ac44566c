"""Set-up and export: the steps that make build/ (the trimmed stdlib, the compressed vendor
copies, the Pyodide snapshot through scripts/make_snapshot.mjs) and write a static export.

Run by scripts/setup.sh (`python -m server.build.export .`) and `serve.py export`; the
running server never imports it (tests/test_architecture.py checks that).
"""
