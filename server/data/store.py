"""Queries over the schema in `server.data.db`; rows in, rows out, no HTTP and no rules.

Rules (who may read what, validation, idempotency) live in `server.messaging`. The SQL is
the part SQLite and PostgreSQL share; `Store(db)` runs it on the database, and
`async with store.transaction() as tx:` gives a `Store` whose queries land together.

Message and conversation rows come with their people's names joined in (`sender_*`,
`trainer_*`, `trainee_*`), so a page of 200 messages is one query, not one per sender.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from server.data.db import AfterCommit, Database, Executor, Row
from server.search_text import search_key

_PERSON = "{p}.first_name AS {n}_first_name, {p}.last_name AS {n}_last_name, {p}.profile_image AS {n}_profile_image"

MESSAGE_SELECT = f"""
    SELECT m.id, m.conversation_id, m.sender_id, m.content, m.image, m.is_read, m.read_at,
           m.created_at, m.client_message_id, m.edited_at, m.deleted, {_PERSON.format(p="s", n="sender")}
    FROM messages m JOIN users s ON s.id = m.sender_id
"""

# One row per conversation with what the list needs, computed for one viewing user.
_CONVERSATION_SELECT = f"""
    SELECT c.id, c.trainer_id, c.trainee_id, c.is_archived, c.created_at,
           {_PERSON.format(p="t", n="trainer")}, {_PERSON.format(p="p", n="trainee")},
           last.created_at AS last_message_at, last.content AS last_content, last.image AS last_image,
           last.deleted AS last_deleted,
           (SELECT COUNT(*) FROM messages u
             WHERE u.conversation_id = c.id AND u.sender_id != :viewer AND u.is_read = 0
               AND u.deleted = 0) AS unread_count
    FROM conversations c
    JOIN users t ON t.id = c.trainer_id
    JOIN users p ON p.id = c.trainee_id
    LEFT JOIN messages last ON last.id = (
        SELECT MAX(id) FROM messages WHERE conversation_id = c.id)
"""


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    has_more: bool


class Store:
    def __init__(self, db: Executor) -> None:
        self.db = db

    @property
    def dialect(self) -> str:
        return getattr(self.db, "dialect", "")

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[TransactionStore]:
        database: Database = self.db  # type: ignore[assignment]
        told: list[AfterCommit] = []
        async with database.transaction(after_commit=told) as tx:
            yield TransactionStore(tx, database.dialect, told)

    async def close(self) -> None:
        await self.db.close()  # type: ignore[attr-defined]

    # users

    async def create_user(self, email: str, password_hash: str, first_name: str, last_name: str, role: str) -> int:
        row = await self.db.execute_returning(
            "INSERT INTO users (email, password_hash, first_name, last_name, role) VALUES (?, ?, ?, ?, ?) RETURNING id",
            (email, password_hash, first_name, last_name, role),
        )
        return int(row["id"])

    async def user_by_email(self, email: str) -> Row | None:
        return await self.db.fetch_one("SELECT * FROM users WHERE lower(email) = lower(?)", (email,))

    async def user_by_id(self, user_id: int) -> Row | None:
        return await self.db.fetch_one("SELECT * FROM users WHERE id = ?", (user_id,))

    async def user_count(self) -> int:
        return int((await self.db.fetch_one("SELECT COUNT(*) AS n FROM users"))["n"])

    async def set_password_hash(self, user_id: int, password_hash: str) -> None:
        await self.db.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))

    async def users(self) -> list[Row]:
        return await self.db.fetch_all("SELECT * FROM users ORDER BY id")

    async def set_user_disabled(self, user_id: int, disabled_at: float | None) -> None:
        await self.db.execute("UPDATE users SET disabled_at = ? WHERE id = ?", (disabled_at, user_id))

    async def revoke_user_sessions(self, user_id: int, at: float) -> int:
        """End every live session of `user_id`; how many there were."""
        return await self.db.execute("UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                                     (at, user_id))

    async def lock_user(self, user_id: int) -> None:
        """Inside a transaction: hold `user_id`'s row until it ends (the sender's upload quota)."""
        if self.dialect == "postgresql":
            await self.db.fetch_one("SELECT id FROM users WHERE id = ? FOR UPDATE", (user_id,))
        # SQLite: BEGIN IMMEDIATE already holds the one write lock.

    # sessions: one per login; its refresh tokens form one rotation family

    async def create_session(self, session_id: str, user_id: int, created_at: float, expires_at: float) -> None:
        await self.db.execute("INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                              (session_id, user_id, created_at, expires_at))

    async def session(self, session_id: str) -> Row | None:
        """The session, with its user's `disabled_at` as `user_disabled_at`."""
        return await self.db.fetch_one("SELECT s.*, u.disabled_at AS user_disabled_at FROM sessions s "
                                       "JOIN users u ON u.id = s.user_id WHERE s.id = ?", (session_id,))

    async def revoke_session(self, session_id: str, at: float) -> None:
        """Revoked; its refresh rows go (no token of a revoked session is looked up again)."""
        await self.db.execute("UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                              (at, session_id))
        await self.db.execute("DELETE FROM refresh_tokens WHERE session_id = ?", (session_id,))

    async def add_refresh_token(self, jti: str, session_id: str, expires_at: float) -> None:
        """Record it; a replayed rotation records the same jti again, which changes nothing."""
        await self.db.execute("INSERT INTO refresh_tokens (jti, session_id, expires_at) VALUES (?, ?, ?) "
                              "ON CONFLICT (jti) DO NOTHING", (jti, session_id, expires_at))

    async def rotations_since(self, session_id: str, since: float) -> tuple[int, float | None]:
        """(how many of the session's refresh tokens were used after `since`, the earliest use)."""
        row = await self.db.fetch_one("SELECT COUNT(*) AS n, MIN(used_at) AS first FROM refresh_tokens "
                                      "WHERE session_id = ? AND used_at > ?", (session_id, since))
        return int(row["n"]), row["first"]

    async def refresh_token(self, jti: str) -> Row | None:
        return await self.db.fetch_one("SELECT * FROM refresh_tokens WHERE jti = ?", (jti,))

    async def use_refresh_token(self, jti: str, at: float) -> bool:
        """Mark it used; False when it already was (a concurrent or repeated use, on any worker)."""
        changed = await self.db.execute("UPDATE refresh_tokens SET used_at = ? WHERE jti = ? AND used_at IS NULL",
                                        (at, jti))
        return changed == 1

    async def forget_used_refresh_tokens(self, session_id: str, used_before: float) -> int:
        """The session's refresh rows used before `used_before` (rows that counted for the
        rate and the grace no longer); how many went."""
        return await self.db.execute("DELETE FROM refresh_tokens WHERE session_id = ? AND used_at IS NOT NULL "
                                     "AND used_at < ?", (session_id, used_before))

    async def forget_expired_sessions(self, now: float) -> None:
        """Sessions past their absolute end (their refresh tokens go with them)."""
        await self.db.execute("DELETE FROM refresh_tokens WHERE expires_at <= ?", (now,))
        await self.db.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))

    # conversations

    async def create_conversation(self, trainer_id: int, trainee_id: int, is_archived: bool, created_at: str) -> int:
        row = await self.db.execute_returning(
            "INSERT INTO conversations (trainer_id, trainee_id, is_archived, created_at) VALUES (?, ?, ?, ?)"
            " RETURNING id",
            (trainer_id, trainee_id, int(is_archived), created_at),
        )
        return int(row["id"])

    async def conversation(self, conversation_id: int) -> Row | None:
        return await self.db.fetch_one("SELECT * FROM conversations WHERE id = ?", (conversation_id,))

    async def may_relay_typing(self, conversation_id: int, user_id: int) -> bool:
        """The conversation is not archived and its typer not disabled."""
        row = await self.db.fetch_one(
            "SELECT c.is_archived, u.disabled_at FROM conversations c JOIN users u ON u.id = ? WHERE c.id = ?",
            (user_id, conversation_id))
        return row is not None and not row["is_archived"] and row["disabled_at"] is None

    async def conversations_between(self, trainer_id: int, trainee_id: int) -> list[Row]:
        return await self.db.fetch_all(
            "SELECT * FROM conversations WHERE trainer_id = ? AND trainee_id = ? ORDER BY id", (trainer_id, trainee_id))

    async def all_conversations(self) -> list[Row]:
        """Every conversation with its people's e-mails, oldest first."""
        return await self.db.fetch_all(
            "SELECT c.id, c.is_archived, c.created_at, t.email AS trainer_email, p.email AS trainee_email,"
            " (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id) AS message_count"
            " FROM conversations c JOIN users t ON t.id = c.trainer_id JOIN users p ON p.id = c.trainee_id"
            " ORDER BY c.id")

    async def archive_conversation(self, conversation_id: int) -> int:
        return await self.db.execute("UPDATE conversations SET is_archived = 1 WHERE id = ? AND is_archived = 0",
                                     (conversation_id,))

    # admin events: what open sockets must feel of an admin change (server/realtime/admin_events.py)

    async def add_admin_event(self, kind: str, subject_id: int, at: float) -> int:
        """Inside the change's transaction. In PostgreSQL the table lock makes ids commit in
        their order, so a poller reading `id > last` never skips one committed late."""
        if self.dialect == "postgresql":
            await self.db.execute("LOCK TABLE admin_events IN EXCLUSIVE MODE")
        row = await self.db.execute_returning(
            "INSERT INTO admin_events (kind, subject_id, created_at) VALUES (?, ?, ?) RETURNING id",
            (kind, subject_id, at))
        return int(row["id"])

    async def admin_events_after(self, event_id: int) -> list[Row]:
        return await self.db.fetch_all("SELECT * FROM admin_events WHERE id > ? ORDER BY id", (event_id,))

    async def last_admin_event_id(self) -> int:
        row = await self.db.fetch_one("SELECT MAX(id) AS id FROM admin_events")
        return int(row["id"] or 0)

    async def lock_conversation(self, conversation_id: int) -> None:
        """Inside a transaction: hold the conversation until it has committed and told its
        sockets (`after_commit`), so that its messages get their ids, become visible and reach
        the sockets in the same order (issue 19: no message may commit behind one a reader of
        `after=` has already seen; every worker's sockets get a conversation's messages in id
        order). SQLite's one writer already orders everything; PostgreSQL takes the
        conversation's order lock, then its row."""
        await self.db.order_lock(conversation_id)  # type: ignore[attr-defined]
        if self.dialect == "postgresql":
            await self.db.fetch_one("SELECT id FROM conversations WHERE id = ? FOR UPDATE", (conversation_id,))

    async def conversation_summaries(self, viewer_id: int) -> list[Row]:
        """The viewer's conversations, newest last message first, never-messaged ones last."""
        return await self.db.fetch_all(
            _CONVERSATION_SELECT
            + """ WHERE c.trainer_id = :viewer OR c.trainee_id = :viewer
                  ORDER BY last.created_at IS NULL, last.created_at DESC, c.id DESC""",
            {"viewer": viewer_id},
        )

    async def conversation_summary(self, conversation_id: int, viewer_id: int) -> Row | None:
        return await self.db.fetch_one(
            _CONVERSATION_SELECT + " WHERE c.id = :cid", {"viewer": viewer_id, "cid": conversation_id})

    # messages

    async def insert_message(
        self,
        conversation_id: int,
        sender_id: int,
        content: str,
        image: str | None,
        created_at: str,
        client_message_id: str | None = None,
        read_at: str | None = None,
        image_bytes: int = 0,
    ) -> int | None:
        """The new message's id; None when the sender already used `client_message_id`
        (the unique index decides, so two workers racing with one id store one row)."""
        row = await self.db.execute_returning(
            """INSERT INTO messages
               (conversation_id, sender_id, content, image, is_read, read_at, created_at, client_message_id,
                image_bytes, search_text)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (sender_id, client_message_id) WHERE client_message_id IS NOT NULL DO NOTHING
               RETURNING id""",
            (conversation_id, sender_id, content, image, int(read_at is not None), read_at, created_at,
             client_message_id, image_bytes, search_key(content)),
        )
        return None if row is None else int(row["id"])

    async def message(self, message_id: int) -> Row | None:
        return await self.db.fetch_one(MESSAGE_SELECT + " WHERE m.id = ?", (message_id,))

    async def message_by_client_id(self, sender_id: int, client_message_id: str) -> Row | None:
        return await self.db.fetch_one(
            MESSAGE_SELECT + " WHERE m.sender_id = ? AND m.client_message_id = ?",
            (sender_id, client_message_id),
        )

    async def newest_messages(self, conversation_id: int, limit: int) -> Page:
        return await self._older_than(conversation_id, None, limit)

    async def messages_before(self, conversation_id: int, before_id: int, limit: int) -> Page:
        return await self._older_than(conversation_id, before_id, limit)

    async def _older_than(self, conversation_id: int, before_id: int | None, limit: int) -> Page:
        bound = "" if before_id is None else " AND m.id < :before"
        rows = await self.db.fetch_all(
            MESSAGE_SELECT + " WHERE m.conversation_id = :cid" + bound + " ORDER BY m.id DESC LIMIT :n",
            {"cid": conversation_id, "before": before_id, "n": limit + 1},
        )
        return Page(rows=list(reversed(rows[:limit])), has_more=len(rows) > limit)

    async def messages_after(self, conversation_id: int, after_id: int, limit: int) -> Page:
        rows = await self.db.fetch_all(
            MESSAGE_SELECT + " WHERE m.conversation_id = :cid AND m.id > :after ORDER BY m.id ASC LIMIT :n",
            {"cid": conversation_id, "after": after_id, "n": limit + 1},
        )
        return Page(rows=rows[:limit], has_more=len(rows) > limit)

    async def mark_read(self, conversation_id: int, reader_id: int, read_at: str) -> int:
        """Mark the other party's unread messages read; return how many changed."""
        return await self.db.execute(
            """UPDATE messages SET is_read = 1, read_at = ?
               WHERE conversation_id = ? AND sender_id != ? AND is_read = 0""",
            (read_at, conversation_id, reader_id),
        )

    async def image_bytes_since(self, sender_id: int, since: str) -> int:
        """Bytes of images `sender_id` stored at or after `since` (an iso_utc time)."""
        row = await self.db.fetch_one(
            "SELECT COALESCE(SUM(image_bytes), 0) AS n FROM messages WHERE sender_id = ? AND created_at >= ?",
            (sender_id, since))
        return int(row["n"])

    async def unread_total(self, user_id: int) -> int:
        row = await self.db.fetch_one(
            """SELECT COUNT(*) AS n FROM messages m JOIN conversations c ON c.id = m.conversation_id
               WHERE (c.trainer_id = :u OR c.trainee_id = :u) AND m.sender_id != :u AND m.is_read = 0
                 AND m.deleted = 0""",
            {"u": user_id},
        )
        return int(row["n"])


class TransactionStore(Store):
    """A `Store` inside a transaction (it cannot open another)."""

    def __init__(self, tx: Executor, dialect: str, told: list[AfterCommit]) -> None:
        super().__init__(tx)
        self._dialect = dialect
        self._told = told

    def after_commit(self, tell: AfterCommit) -> None:
        """`await tell()` once this transaction has committed (never if it rolls back), in
        commit order with the other transactions on the same conversation (`lock_conversation`)."""
        self._told.append(tell)

    @property
    def dialect(self) -> str:
        return self._dialect

    def transaction(self):  # type: ignore[override]
        raise RuntimeError("already inside a transaction")
