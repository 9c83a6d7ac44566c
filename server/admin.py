"""Accounts and conversations, as an administrator changes them (`serve.py users ...`,
`serve.py conversations ...`; the command line itself is `server.cli_admin`).

Plain async functions on a `Store`: each checks its input, makes its change in one
transaction and returns what it did, or raises `Refused` with a one-line reason. A change
that open sockets must feel at once (a disabled account, ended sessions, an archived
conversation) also writes a row of `admin_events` in that transaction: every worker of a
running server polls that table and closes the sockets concerned (`server.realtime.admin_events`),
so the commands work the same whether a server runs or not, on any number of workers.
"""

from __future__ import annotations

import asyncio
import re

from server.data.db import Row
from server.passwords import hash_password, password_problem
from server.path_ids import MAX_ID
from server.data.store import Store
from server.timefmt import iso_utc

ROLES = {"trainer": "TRAINER", "trainee": "TRAINEE"}
MAX_EMAIL_CHARS = 254  # RFC 5321's longest path, as the login's
MAX_NAME_CHARS = 150
# One @, something on each side, a dot in the domain, no spaces: a typo guard, not RFC 5322.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")

USER_CHANGED = "user"  # admin_events.kind: re-check that user's sockets
CONVERSATION_CHANGED = "conversation"  # re-check that conversation's sockets


class Refused(Exception):
    """The change was not made; the message says why, in one line."""


def email_problem(email: str) -> str | None:
    if len(email) > MAX_EMAIL_CHARS:
        return f"an e-mail address has at most {MAX_EMAIL_CHARS} characters"
    if not _EMAIL.fullmatch(email):
        return f"not an e-mail address: {email!r}"
    return None


def _name(value: str, what: str) -> str:
    value = value.strip()
    if not value or len(value) > MAX_NAME_CHARS or not value.isprintable():
        raise Refused(f"{what} must be 1 to {MAX_NAME_CHARS} printable characters")
    return value


async def _hash(password: str) -> str:
    problem = password_problem(password)
    if problem:
        raise Refused(problem)
    return await asyncio.to_thread(hash_password, password)  # scrypt: not on the event loop


async def _user(store: Store, email: str) -> Row:
    user = await store.user_by_email(email.strip())
    if user is None:
        raise Refused(f"no account with e-mail {email.strip()}")
    return user


# --- users ----------------------------------------------------------------------------------

async def add_user(store: Store, *, email: str, role: str, first: str, last: str, password: str) -> Row:
    email = email.strip()
    problem = email_problem(email)
    if problem:
        raise Refused(problem)
    if role.lower() not in ROLES:
        raise Refused(f"role must be trainer or trainee, not {role!r}")
    first, last = _name(first, "the first name"), _name(last, "the last name")
    password_hash = await _hash(password)
    async with store.transaction() as tx:
        if await tx.user_by_email(email) is not None:
            raise Refused(f"an account with e-mail {email} already exists")
        user_id = await tx.create_user(email, password_hash, first, last, ROLES[role.lower()])
        return await tx.user_by_id(user_id)


async def list_users(store: Store) -> list[Row]:
    return await store.users()


async def disable_user(store: Store, email: str, now: float) -> Row:
    """The account can no longer log in; its sessions end and its open sockets close."""
    async with store.transaction() as tx:
        user = await _user(tx, email)
        if user["disabled_at"] is not None:
            raise Refused(f"{user['email']} is disabled already")
        await tx.set_user_disabled(user["id"], now)
        await tx.revoke_user_sessions(user["id"], now)
        await tx.add_admin_event(USER_CHANGED, user["id"], now)
        return user


async def enable_user(store: Store, email: str) -> Row:
    async with store.transaction() as tx:
        user = await _user(tx, email)
        if user["disabled_at"] is None:
            raise Refused(f"{user['email']} is not disabled")
        await tx.set_user_disabled(user["id"], None)
        return user


async def set_password(store: Store, email: str, password: str, now: float) -> tuple[Row, int]:
    """A new password; every session of the account ends (its sockets close). Returns the
    user and how many sessions ended."""
    await _user(store, email)  # an unknown e-mail is refused before the hash is paid for
    password_hash = await _hash(password)
    async with store.transaction() as tx:
        user = await _user(tx, email)
        await tx.set_password_hash(user["id"], password_hash)
        ended = await tx.revoke_user_sessions(user["id"], now)
        await tx.add_admin_event(USER_CHANGED, user["id"], now)
        return user, ended


# --- conversations --------------------------------------------------------------------------

async def add_conversation(store: Store, trainer_email: str, trainee_email: str, now: float) -> int:
    """A new conversation between a trainer and a trainee who have no open one yet (an
    archived one does not count: a trainee may come back for a new programme)."""
    async with store.transaction() as tx:
        trainer, trainee = await _user(tx, trainer_email), await _user(tx, trainee_email)
        for user, role in ((trainer, "TRAINER"), (trainee, "TRAINEE")):
            if user["role"] != role:
                raise Refused(f"{user['email']} is a {user['role'].lower()}, not a {role.lower()}")
            if user["disabled_at"] is not None:
                raise Refused(f"{user['email']} is disabled")
        for existing in await tx.conversations_between(trainer["id"], trainee["id"]):
            if not existing["is_archived"]:
                raise Refused(f"{trainer['email']} and {trainee['email']} already have conversation "
                              f"{existing['id']}")
        conversation_id = await tx.create_conversation(trainer["id"], trainee["id"], False, iso_utc(now))
        await tx.add_admin_event(CONVERSATION_CHANGED, conversation_id, now)  # their inboxes learn of it
        return conversation_id


async def list_conversations(store: Store) -> list[Row]:
    return await store.all_conversations()


async def archive_conversation(store: Store, conversation_id: int, now: float) -> Row:
    """Read-only from now on: its open sockets close (4003) and it relays nothing more."""
    async with store.transaction() as tx:
        conversation = await tx.conversation(conversation_id) if 0 < conversation_id <= MAX_ID else None
        if conversation is None:
            raise Refused(f"no conversation {conversation_id}")
        if conversation["is_archived"]:
            raise Refused(f"conversation {conversation_id} is archived already")
        await tx.archive_conversation(conversation_id)
        await tx.add_admin_event(CONVERSATION_CHANGED, conversation_id, now)
        return conversation
