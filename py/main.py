"""Entry point PyScript runs. Starts the app; if anything stops it from
starting, the page says so calmly instead of staying on the skeleton."""

import asyncio

import js


async def _show_boot_failure():
    boot = getattr(js, "coachlineBoot", None)  # static/boot-status.js
    if boot is not None:
        # The message with a Retry button, under the login form when it is shown (what was
        # typed stays until Retry, which loads the page again: this Python cannot be restarted).
        await boot.failed("reload")
        js.location.reload()
        return
    screen = js.document.getElementById("boot-screen")
    if not screen:
        return
    screen.hidden = False  # static/early.js may have shown the login form in its place
    login = js.document.getElementById("login-screen")
    if login:
        login.hidden = True
    text = screen.querySelector(".boot-text")
    if text:
        text.textContent = "The app could not start. Reload the page to try again."
    js.document.body.setAttribute("data-app-state", "boot-failed")


async def main():
    js.performance.mark("boot:main")
    try:
        from web.app import App
        from web.browser_storage import BrowserStorage
        from web.site_config_load import load_config
        from web.timers import wall_clock
        from web.web_http import LocalStorageStore
        js.performance.mark("boot:imported")
        config = await load_config()  # the text static/early.js fetched: one request per load
        app = App(config, clock=wall_clock, local=BrowserStorage(js.localStorage),
                  session_storage=BrowserStorage(js.sessionStorage), tokens_store=LocalStorageStore(),
                  debug="debug" in str(js.location.search), tz_offset=int(js.Date.new().getTimezoneOffset()))
        await app.start()
        js.performance.mark("boot:started")
        from web.web_early import take_submit
        if take_submit():  # a login submitted before Python was up: carry it out now
            js.document.getElementById("login-form").requestSubmit()
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        js.console.error("[boot]", type(exc).__name__, str(exc))
        await _show_boot_failure()


_boot = getattr(js, "coachlineBoot", None)  # static/boot-status.js: main.py did arrive
if _boot is not None:
    _boot.started()
asyncio.ensure_future(main())
