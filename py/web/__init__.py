"""Browser adapters: the only code that touches the DOM, `fetch`, `WebSocket`, storage and timers.

Each adapter is thin: it turns browser events into inputs for the pure logic in `core` and
carries the results out. Imports go downward only: web/ imports core/ and web/, never the
top of py/ (ws_hook.py, query_cache.py, chat_view.py are re-exports of core/ and web/ modules
for the design card; main.py is the entry). tests/test_architecture.py holds the folder to that.
"""
