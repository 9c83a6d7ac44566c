"""The hand-over from static/early.js (the page's few lines that run before Python).

`take_answer` gives py/core/prefetch.py the early answer to a request, if early.js started that
very request; `take_submit` stops early.js holding login submits and says whether one was
made before Python was up; `take_config` gives the text of config.json, which early.js fetched
(once per page load). Everything else about those answers is decided in Python.
"""

import js


def _early():
    early = getattr(js, "coachlineEarly", None)
    return early if early is not None and not isinstance(early, (int, float, str)) else None


def take_answer(url, authorization):
    early = _early()
    if early is None or not early.pending():
        return None
    promise = early.take(url, authorization)
    if promise is None:
        return None

    async def answer():
        got = await promise
        if got is None:
            return None
        return got.status, got.text

    return answer()


def take_submit():
    early = _early()
    return bool(early.handOver()) if early is not None else False


def take_config():
    """The promise of config.json's text that early.js fetched (None: early.js did not run)."""
    early = _early()
    return early.config() if early is not None and hasattr(early, "config") else None
