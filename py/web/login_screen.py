"""The login screen: the form, its messages, and one sign-in at a time.

    login = LoginScreen(listeners, api, on_signed_in=...)   # async on_signed_in()
    login.show("Your session has ended. Please sign in again.")

A signed-in trainer goes to `on_signed_in`; a refused or failed sign-in stays here, with a
message that says what to do and the focus where the trainer can do it.
"""

import asyncio

import js

from core.api_client import ApiError
from core.page_names import LOGIN
from web.screens import show_screen
from web.web_dom import by_id, clear, el

PASSWORD = "login-password"


class LoginScreen:
    def __init__(self, listeners, api, *, on_signed_in):
        self.api = api
        self.on_signed_in = on_signed_in
        listeners.add(by_id(LOGIN["form"]), "submit", self._on_submit)

    def show(self, message=None):
        show_screen("login")
        self._set_error(message)
        by_id(LOGIN["submit"]).disabled = False
        if not by_id(LOGIN["form"]).contains(js.document.activeElement):  # typing since before Python: keep it
            by_id(LOGIN["email"]).focus()

    def _set_error(self, message):
        slot = by_id("login-error-slot")
        clear(slot)
        if message:
            slot.appendChild(el("span", "form-error", message,
                                attrs={"data-testid": "login-error", "role": "alert"}))

    def _on_submit(self, event):
        event.preventDefault()
        asyncio.ensure_future(self._sign_in())

    async def _sign_in(self):
        email = by_id(LOGIN["email"]).value.strip()
        password = by_id(PASSWORD).value
        if not email or not password:
            self._set_error("Enter your email and password.")
            by_id(LOGIN["email"] if not email else PASSWORD).focus()
            return
        button = by_id(LOGIN["submit"])
        button.disabled = True
        self._set_error(None)
        try:
            await self.api.login(email, password)
        except ApiError as exc:
            button.disabled = False
            self._refused(exc.status)
            if exc.status != 401:
                button.focus()  # nothing to correct in a field: the way to try again
            return
        except Exception:
            button.disabled = False
            self._set_error("Can't reach the server. Check your connection and try again.")
            button.focus()
            return
        by_id(PASSWORD).value = ""
        await self.on_signed_in()

    def _refused(self, status):
        if status == 401:
            self._set_error("That email and password don't match an account.")
            by_id(PASSWORD).select()
            by_id(PASSWORD).focus()
        elif status == 429:
            self._set_error("Too many attempts. Wait a minute and try again.")
        else:
            self._set_error("Sign-in failed (" + str(status) + "). Try again.")
