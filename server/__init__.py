"""The reference backend: the messaging API, its WebSocket and the static site on one origin.

`create_app()` (in `server.app`) builds the Starlette application; `serve.py` is only the CLI.
"""
