"""Queries over the SQLite schema in `server.db`; rows in, rows out, no HTTP and no rules.

Rules (who may read what, validation, idempotency) live in `server.messaging`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

_MESSAGE_SELECT = """
    SELECT m.id, m.conversation_id, m.sender_id, m.content, m.image, m.is_read, m.read_at,
           m.created_at, m.client_message_id
    FROM messages m
"""

# One row per conversation with what the list needs, computed for one viewing user.
_CONVERSATION_SELECT = """
    SELECT c.id, c.trainer_id, c.trainee_id, c.is_archived, c.created_at,
           last.created_at AS last_message_at, last.content AS last_content, last.image AS last_image,
           (SELECT COUNT(*) FROM messages u
             WHERE u.conversation_id = c.id AND u.sender_id != :viewer AND u.is_read = 0) AS unread_count
    FROM conversations c
    LEFT JOIN messages last ON last.id = (
        SELECT MAX(id) FROM messages WHERE conversation_id = c.id)
"""


@dataclass(frozen=True)
class Page:
    rows: list[sqlite3.Row]
    has_more: bool


class Store:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    # users

    def create_user(self, email: str, password_hash: str, first_name: str, last_name: str, role: str) -> int:
        cur = self.conn.execute(
            "INSERT INTO users (email, password_hash, first_name, last_name, role) VALUES (?, ?, ?, ?, ?)",
            (email, password_hash, first_name, last_name, role),
        )
        return int(cur.lastrowid)

    def user_by_email(self, email: str) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM users WHERE email = ?", (email,)).fetchone()

    def user_by_id(self, user_id: int) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()

    def user_count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM users").fetchone()[0])

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        self.conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))

    # sessions: one per login; its refresh tokens form one rotation family

    def create_session(self, session_id: str, user_id: int, created_at: float, expires_at: float) -> None:
        self.conn.execute("INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                          (session_id, user_id, created_at, expires_at))

    def session(self, session_id: str) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()

    def revoke_session(self, session_id: str, at: float) -> None:
        self.conn.execute("UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (at, session_id))

    def add_refresh_token(self, jti: str, session_id: str, expires_at: float) -> None:
        self.conn.execute("INSERT INTO refresh_tokens (jti, session_id, expires_at) VALUES (?, ?, ?)",
                          (jti, session_id, expires_at))

    def refresh_token(self, jti: str) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM refresh_tokens WHERE jti = ?", (jti,)).fetchone()

    def use_refresh_token(self, jti: str, at: float) -> bool:
        """Mark it used; False when it already was (a concurrent or repeated use)."""
        cur = self.conn.execute("UPDATE refresh_tokens SET used_at = ? WHERE jti = ? AND used_at IS NULL", (at, jti))
        return cur.rowcount == 1

    def forget_expired_sessions(self, now: float) -> None:
        """Sessions past their absolute end (their refresh tokens go with them)."""
        self.conn.execute("DELETE FROM refresh_tokens WHERE expires_at <= ?", (now,))
        self.conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))

    # conversations

    def create_conversation(self, trainer_id: int, trainee_id: int, is_archived: bool, created_at: str) -> int:
        cur = self.conn.execute(
            "INSERT INTO conversations (trainer_id, trainee_id, is_archived, created_at) VALUES (?, ?, ?, ?)",
            (trainer_id, trainee_id, int(is_archived), created_at),
        )
        return int(cur.lastrowid)

    def conversation(self, conversation_id: int) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM conversations WHERE id = ?", (conversation_id,)).fetchone()

    def conversation_summaries(self, viewer_id: int) -> list[sqlite3.Row]:
        """The viewer's conversations, newest last message first, never-messaged ones last."""
        return self.conn.execute(
            _CONVERSATION_SELECT
            + """ WHERE c.trainer_id = :viewer OR c.trainee_id = :viewer
                  ORDER BY last_message_at IS NULL, last_message_at DESC, c.id DESC""",
            {"viewer": viewer_id},
        ).fetchall()

    def conversation_summary(self, conversation_id: int, viewer_id: int) -> sqlite3.Row | None:
        return self.conn.execute(
            _CONVERSATION_SELECT + " WHERE c.id = :cid", {"viewer": viewer_id, "cid": conversation_id}
        ).fetchone()

    # messages

    def insert_message(
        self,
        conversation_id: int,
        sender_id: int,
        content: str,
        image: str | None,
        created_at: str,
        client_message_id: str | None = None,
        read_at: str | None = None,
        image_bytes: int = 0,
    ) -> int:
        cur = self.conn.execute(
            """INSERT INTO messages
               (conversation_id, sender_id, content, image, is_read, read_at, created_at, client_message_id,
                image_bytes)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (conversation_id, sender_id, content, image, int(read_at is not None), read_at, created_at,
             client_message_id, image_bytes),
        )
        return int(cur.lastrowid)

    def message(self, message_id: int) -> sqlite3.Row | None:
        return self.conn.execute(_MESSAGE_SELECT + " WHERE m.id = ?", (message_id,)).fetchone()

    def message_by_client_id(self, sender_id: int, client_message_id: str) -> sqlite3.Row | None:
        return self.conn.execute(
            _MESSAGE_SELECT + " WHERE m.sender_id = ? AND m.client_message_id = ?",
            (sender_id, client_message_id),
        ).fetchone()

    def newest_messages(self, conversation_id: int, limit: int) -> Page:
        return self._older_than(conversation_id, None, limit)

    def messages_before(self, conversation_id: int, before_id: int, limit: int) -> Page:
        return self._older_than(conversation_id, before_id, limit)

    def _older_than(self, conversation_id: int, before_id: int | None, limit: int) -> Page:
        bound = "" if before_id is None else " AND m.id < :before"
        rows = self.conn.execute(
            _MESSAGE_SELECT + " WHERE m.conversation_id = :cid" + bound + " ORDER BY m.id DESC LIMIT :n",
            {"cid": conversation_id, "before": before_id, "n": limit + 1},
        ).fetchall()
        return Page(rows=list(reversed(rows[:limit])), has_more=len(rows) > limit)

    def messages_after(self, conversation_id: int, after_id: int, limit: int) -> Page:
        rows = self.conn.execute(
            _MESSAGE_SELECT + " WHERE m.conversation_id = :cid AND m.id > :after ORDER BY m.id ASC LIMIT :n",
            {"cid": conversation_id, "after": after_id, "n": limit + 1},
        ).fetchall()
        return Page(rows=rows[:limit], has_more=len(rows) > limit)

    def mark_read(self, conversation_id: int, reader_id: int, read_at: str) -> int:
        """Mark the other party's unread messages read; return how many changed."""
        cur = self.conn.execute(
            """UPDATE messages SET is_read = 1, read_at = ?
               WHERE conversation_id = ? AND sender_id != ? AND is_read = 0""",
            (read_at, conversation_id, reader_id),
        )
        return cur.rowcount

    def image_bytes_since(self, sender_id: int, since: str) -> int:
        """Bytes of images `sender_id` stored at or after `since` (an iso_utc time)."""
        return int(self.conn.execute(
            "SELECT COALESCE(SUM(image_bytes), 0) FROM messages WHERE sender_id = ? AND created_at >= ?",
            (sender_id, since)).fetchone()[0])

    def unread_total(self, user_id: int) -> int:
        return int(
            self.conn.execute(
                """SELECT COUNT(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
                   WHERE (c.trainer_id = :u OR c.trainee_id = :u) AND m.sender_id != :u AND m.is_read = 0""",
                {"u": user_id},
            ).fetchone()[0]
        )
