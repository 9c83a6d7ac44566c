"""The reference backend: the messaging API, its WebSocket and the static site on one origin.

`create_app()` (in `server.app`) builds the Starlette application; `serve.py` is only the CLI.
The running server is the modules directly in server/ plus `server.realtime` (how events
reach the open sockets) and `server.data` (the database and the data directory). Beside it:
`server.site` (the static site's files and how they are served), `server.build` (set-up and
export: never imported by the running server) and `server.testing` (the `--faults` controls,
imported only with that flag). docs/ARCHITECTURE.md, "server/ layout", maps them.
"""
