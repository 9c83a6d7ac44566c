"""The names the page's JavaScript (static/early.js) and its Python must agree on, in one place.

early.js runs before Python, so it cannot import these: its copy is generated from this module
(`python3 scripts/early_shared.py --write` rewrites the block between its SHARED markers) and
tests/test_early_shared.py fails when the two differ. Change a name here, never in early.js.
"""

from __future__ import annotations

from core.constants import auth_me_path, conversations_path, unread_count_path
from core.tokens import ACCESS_KEY, REFRESH_KEY

# CONTRACT.md "config.json": fetched once per page load, by early.js (core/site_config.py).
CONFIG_PATH = "./config.json"

# The page's screens (index.html): one shows at a time; body[data-app-state] names it.
SCREENS = {"boot": "boot-screen", "login": "login-screen", "messages": "messages-screen"}

# The login form's parts, which early.js makes usable before Python is up.
LOGIN = {"form": "login-form", "email": "login-email", "submit": "login-submit"}

# Set on <body> once Python has started (web/app.py); early.js then registers the service
# worker (static/sw.js, served at the site's root), so its first install never competes with
# the boot's own downloads (issue 22 item 2).
READY_ATTRIBUTE = "data-app-ready"
SERVICE_WORKER = "./sw.js"

# The first screen's three GETs, which early.js starts for a trainer with a session
# (core/prefetch.py takes their answers).
FIRST_CALLS = (auth_me_path(), conversations_path(), unread_count_path())


def early_js_names() -> dict:
    """What early.js gets, as it gets it (tests/test_early_shared.py compares)."""
    return {
        "config": CONFIG_PATH,
        "calls": list(FIRST_CALLS),
        "storage": {"access": ACCESS_KEY, "refresh": REFRESH_KEY},
        "screens": dict(SCREENS),
        "login": dict(LOGIN),
        "ready": READY_ATTRIBUTE,
        "worker": SERVICE_WORKER,
    }
