"""Issue 12: the loader compiles Pyodide's wasm itself, while the snapshot downloads, and hands
Pyodide that module (static/pyodide-loader.mjs, startWasm / withCompiledWasm). Whatever the
host does with the wasm, the page boots from the snapshot with exactly one wasm download when
all goes well, and falls back to Pyodide's own fetch when the early compile cannot be used."""

from e2e_harness import wait_ready

WASM = "**/vendor/pyodide/*/pyodide.asm.wasm"


def boot_counting_wasm(browser, origin, answer=None):
    """A cold load to the login screen. `answer(route, n)` may answer the n-th wasm request
    (1-based) itself; returns (how Pyodide booted, wasm requests that reached the network)."""
    ctx = browser.new_context()
    seen = []

    def on_wasm(route):
        seen.append(route.request.url)
        if answer is None or not answer(route, len(seen)):
            route.continue_()

    try:
        ctx.route(WASM, on_wasm)
        page = ctx.new_page()
        page.goto(origin + "/")
        wait_ready(page, "login")
        return page.evaluate("document.documentElement.dataset.pyodideBoot"), len(seen)
    finally:
        ctx.close()


def test_the_wasm_is_downloaded_once_and_pyodide_boots_from_the_snapshot(browser, server):
    how, downloads = boot_counting_wasm(browser, server.origin)
    assert (how, downloads) == ("snapshot", 1)


def test_a_host_that_does_not_say_application_wasm_still_boots(browser, server):
    def generic_type(route, n):
        response = route.fetch()
        headers = {**response.headers, "content-type": "application/octet-stream"}
        route.fulfill(response=response, headers=headers)
        return True

    how, downloads = boot_counting_wasm(browser, server.origin, generic_type)
    assert (how, downloads) == ("snapshot", 1)


def test_when_the_early_compile_fails_pyodide_fetches_the_wasm_itself(browser, server):
    def broken_first(route, n):
        if n == 1:  # the loader's own download: not a wasm module at all
            route.fulfill(status=200, body=b"not wasm", headers={"Content-Type": "application/wasm"})
            return True
        return False

    how, downloads = boot_counting_wasm(browser, server.origin, broken_first)
    assert (how, downloads) == ("snapshot", 2)
