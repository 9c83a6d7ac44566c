"""Real time: how an event reaches the open sockets, on this worker and on every other.

`ws` is the WebSocket endpoints (a thin adapter), `ws_frames` decides what a client frame asks
for without any socket, `hub` is the in-process registry of open sockets (conversation ->
sockets), `fanout` carries every socket event to every worker (in process, or through Redis
with `--redis`), and `admin_events` brings an administrator's changes to sockets already open.
Part of the running server; imports nothing of server/site, server/build or server/testing.
"""
