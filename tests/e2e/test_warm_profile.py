"""The warm profile `context` lends (e2e_harness.WarmBrowser): what one test leaves in it never
reaches the next, and what cannot be emptied makes it start again."""

from e2e_harness import wait_ready

LEAVE = """async () => {
    localStorage.setItem('left', '1');
    sessionStorage.setItem('left', '1');
    document.cookie = 'left=1; path=/; max-age=3600';
    await new Promise((done, fail) => {
        const open = indexedDB.open('left-behind', 1);
        open.onupgradeneeded = () => open.result.createObjectStore('things');
        open.onsuccess = () => { open.result.close(); done(); };
        open.onerror = () => fail(open.error);
    });
    await (await caches.open('left-behind')).put('/left', new Response('x'));
}"""

FOUND = """async () => ({
    local: localStorage.length,
    cookie: document.cookie,
    databases: (await indexedDB.databases()).map(d => d.name),
    caches: await caches.keys(),
    workers: (await navigator.serviceWorker.getRegistrations()).length,
})"""


def test_a_borrowed_profile_comes_back_empty(_warm_browser, server):
    first = _warm_browser.lend()
    page = first.new_page()
    page.goto(server.origin + "/")
    wait_ready(page)
    page.evaluate(LEAVE)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")  # the app's worker registered
    before = page.evaluate(FOUND)
    assert before["local"] > 0 and "left=1" in before["cookie"] and "left-behind" in before["databases"]
    assert "left-behind" in before["caches"] and before["workers"] == 1
    first.route("**/never", lambda route: route.abort())
    first.set_offline(True)
    _warm_browser.give_back(first)

    second = _warm_browser.lend()
    assert second._ctx is first._ctx  # the same warm context, not a new one
    assert second.pages == [_warm_browser.keeper]  # the last test's pages are closed
    page = second.new_page()
    page.goto(server.origin + "/")  # online again: the offline switch was undone
    wait_ready(page)
    # The app's service worker of the last test would control this load at once had it stayed.
    assert page.evaluate("navigator.serviceWorker.controller") is None
    after = page.evaluate(FOUND)
    assert "left" not in page.evaluate("Object.keys(localStorage)")
    assert "left" not in page.evaluate("Object.keys(sessionStorage)")
    assert "left=1" not in after["cookie"]
    assert "left-behind" not in after["databases"] and "left-behind" not in after["caches"]
    _warm_browser.give_back(second)


def test_the_fake_clock_or_an_init_script_starts_the_profile_again(_warm_browser, server):
    for bend in (lambda ctx, page: page.clock.install(), lambda ctx, page: ctx.add_init_script("window.bent = 1")):
        lent = _warm_browser.lend()
        page = lent.new_page()
        bend(lent, page)
        _warm_browser.give_back(lent)
        again = _warm_browser.lend()
        assert again._ctx is not lent._ctx
        page = again.new_page()
        page.goto(server.origin + "/")
        assert page.evaluate("typeof globalThis.__pwClock") == "undefined"
        assert page.evaluate("typeof window.bent") == "undefined"
        _warm_browser.give_back(again)


def test_a_browser_that_ended_unemptied_leaves_nothing_to_the_next_but_its_caches(_warm_browser, server):
    lent = _warm_browser.lend()
    page = lent.new_page()
    page.goto(server.origin + "/")
    wait_ready(page)
    page.evaluate(LEAVE)
    _warm_browser.close()  # as after a crash: nothing emptied
    cache = _warm_browser.folder / "Default" / "Cache"
    assert any(cache.rglob("*"))

    again = _warm_browser.lend()
    assert any(cache.rglob("*"))  # the HTTP cache stays (and V8's code cache beside it)
    page = again.new_page()
    page.goto(server.origin + "/")
    wait_ready(page)
    found = page.evaluate(FOUND)
    assert "left" not in page.evaluate("Object.keys(localStorage)")
    assert "left=1" not in found["cookie"]
    assert "left-behind" not in found["databases"] and "left-behind" not in found["caches"]
    _warm_browser.give_back(again)
