"""localStorage as core/drafts.py's Storage protocol (issue 14, drafts).

Thin on purpose: every call may raise (quota, private mode, storage turned off) and
Drafts treats a raise as "not kept", so nothing here catches.
"""

import js


class BrowserStorage:
    def __init__(self, storage=None):
        self._storage = storage if storage is not None else js.localStorage

    def get_item(self, key):
        value = self._storage.getItem(key)
        return value if isinstance(value, str) else None

    def set_item(self, key, value):
        self._storage.setItem(key, value)

    def remove_item(self, key):
        self._storage.removeItem(key)

    def keys(self):
        storage = self._storage
        return [storage.key(i) for i in range(int(storage.length))]
