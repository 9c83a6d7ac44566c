"""Which optional calls the backend offers (CONTRACT "Optional features, announced").

    caps = parse_capabilities({"edit": True, "search": True})   # a missing key is False
    caps.edit, caps.delete, caps.saved_replies, caps.search
    NO_CAPABILITIES                                            # a backend without the call

Only a literal JSON ``true`` turns a feature on: a backend that answers ``"yes"``, ``1`` or a
list offers nothing, so the page never calls what was not clearly announced.
"""
from __future__ import annotations

from dataclasses import dataclass

FEATURES = ("edit", "delete", "saved_replies", "search")


@dataclass(frozen=True)
class Capabilities:
    edit: bool = False
    delete: bool = False
    saved_replies: bool = False
    search: bool = False


NO_CAPABILITIES = Capabilities()


def parse_capabilities(data: object) -> Capabilities:
    if not isinstance(data, dict):
        return NO_CAPABILITIES
    return Capabilities(**{name: data.get(name) is True for name in FEATURES})
