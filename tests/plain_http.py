"""httpx for the tests' plain-http calls to the servers they start, with ONE SSL context.

httpx builds a new SSL context for every client it makes (`httpx.get`/`post` make one per
call), loading certifi's CA bundle: ~30 ms of CPU each. The tests made thousands of them
(every e2e test resets the faults, makes a conversation, logs a peer in; a server start polls
/healthz) for requests that never use TLS: ~2 CPU-minutes of a run. Here the context is made
once and handed to httpx (`verify=` takes an `ssl.SSLContext`); everything else is httpx's.
"""

from __future__ import annotations

import ssl

import certifi
import httpx

TLS = ssl.create_default_context(cafile=certifi.where())  # httpx's default context, made once


def get(url: str, **kwargs) -> httpx.Response:
    return httpx.get(url, verify=TLS, **kwargs)


def post(url: str, **kwargs) -> httpx.Response:
    return httpx.post(url, verify=TLS, **kwargs)


def Client(**kwargs) -> httpx.Client:  # noqa: N802 - httpx's name, so call sites read the same
    return httpx.Client(verify=TLS, **kwargs)
