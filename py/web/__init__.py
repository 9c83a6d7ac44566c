"""Browser adapters: the only code that touches the DOM, `fetch`, `WebSocket`, storage and timers.

Each adapter is thin: it turns browser events into inputs for the pure logic in `core`
(and `ws_hook`, `query_cache` at the top of py/) and carries the results out.
"""
