"""The database: SQLite (the default, one file) or PostgreSQL (`--database postgresql://...`),
behind one small async interface, with one schema and one ordered list of migrations.

Theory of operation. Queries are written once, in the SQL both engines speak, with `?` and
`:name` placeholders; `Database` runs them. Reads are `fetch_one` / `fetch_all`, writes are
`execute` (the row count) and `execute_returning` (the first row of `RETURNING`). Statements
that must land together run inside `async with db.transaction() as tx:`, where `tx` has the
same four methods; the block commits on leaving it and rolls back on an exception. Every
write is committed before the API answers, so a SIGKILL after an answer loses nothing that
was acknowledged.

What a transaction tells the sockets (a new message, an edit) is told after its COMMIT, never
before: `transaction(after_commit=[...])` awaits each callable in the list once the COMMIT
succeeded (none after a rollback), while what orders the transactions is still held, so the
sockets hear of them in commit order. In SQLite that is the one writer (the lock file below);
in PostgreSQL the keys the transaction took with `tx.order_lock(key)` (a session-level
advisory lock each, released once the callables are done). A socket then never shows what
the database does not hold (a crash, a failed COMMIT), and a reader that was told of a row
finds it.

No call blocks the event loop:

- SQLite: two connections, each used by one thread of its own. Reads go to the reader; writes
  and transactions to the writer, one at a time (an asyncio lock; `BEGIN IMMEDIATE` takes
  SQLite's write lock, so several worker processes on one file queue there, waiting at most
  `BUSY_TIMEOUT_MS`). WAL lets the reader go on while a write is under way.
- PostgreSQL: psycopg 3's async driver and its connection pool, autocommit outside
  transactions.

Migrations run under a lock so that several workers starting at once on an empty database
apply each one once (`SELECT pg_advisory_xact_lock` in PostgreSQL, `BEGIN IMMEDIATE` in
SQLite); the caller's `then` (the demo seed) runs in the same transaction. SQLite counts
the applied migrations in `PRAGMA user_version` (as databases made before PostgreSQL existed
here do), PostgreSQL in a `schema_version` table.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

Row = dict[str, Any]
Params = Sequence[Any] | dict[str, Any]

# `{...}` marks the few words the two engines spell differently (see `_DIALECTS`).
MIGRATIONS: tuple[str, ...] = (
    # 1: the whole first schema.
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE users (
        id {serial},
        email TEXT NOT NULL UNIQUE {nocase},
        password_hash TEXT NOT NULL,
        first_name TEXT NOT NULL,
        last_name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('TRAINER', 'TRAINEE')),
        profile_image TEXT
    );
    CREATE TABLE conversations (
        id {serial},
        trainer_id BIGINT NOT NULL REFERENCES users(id),
        trainee_id BIGINT NOT NULL REFERENCES users(id),
        is_archived INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    );
    CREATE TABLE messages (
        id {serial},
        conversation_id BIGINT NOT NULL REFERENCES conversations(id),
        sender_id BIGINT NOT NULL REFERENCES users(id),
        content TEXT NOT NULL,
        image TEXT,
        is_read INTEGER NOT NULL DEFAULT 0,
        read_at TEXT,
        created_at TEXT NOT NULL,
        client_message_id TEXT
    );
    CREATE INDEX messages_by_conversation ON messages (conversation_id, id);
    CREATE UNIQUE INDEX messages_idempotency ON messages (sender_id, client_message_id)
        WHERE client_message_id IS NOT NULL;
    """,
    # 2: server-side sessions (refresh-token families, issue 11) and upload sizes for the quota.
    """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id BIGINT NOT NULL REFERENCES users(id),
        created_at {real} NOT NULL,
        expires_at {real} NOT NULL,
        revoked_at {real}
    );
    CREATE TABLE refresh_tokens (
        jti TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        expires_at {real} NOT NULL,
        used_at {real}
    );
    CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);
    ALTER TABLE messages ADD COLUMN image_bytes INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX messages_by_sender ON messages (sender_id, created_at);
    """,
    # 3: e-mails are unique and looked up whatever their case, in both engines (the queries
    # compare lower(email); SQLite's NOCASE above does not exist in PostgreSQL).
    """
    CREATE UNIQUE INDEX users_by_email ON users (lower(email));
    CREATE INDEX conversations_by_trainer ON conversations (trainer_id);
    CREATE INDEX conversations_by_trainee ON conversations (trainee_id);
    """,
    # 4 (issue 20): accounts can be disabled (`serve.py users disable`); each admin change that
    # open sockets must feel is also a row of admin_events, which every worker polls
    # (server/realtime/admin_events.py).
    """
    ALTER TABLE users ADD COLUMN disabled_at {real};
    CREATE TABLE admin_events (
        id {serial},
        kind TEXT NOT NULL,
        subject_id BIGINT NOT NULL,
        created_at {real} NOT NULL
    );
    """,
    # 5 (issue 22): edited and deleted messages; `search_text`, the content as search compares
    # it (`server.search_text.search_key`: Python's casefold, which neither engine's lower()
    # matches for every script), written by the app with the content, NULL until then
    # (rows older than this migration are filled at start-up); saved replies, ordered by
    # `title_key` (the casefolded title).
    """
    ALTER TABLE messages ADD COLUMN edited_at TEXT;
    ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE messages ADD COLUMN search_text TEXT;
    CREATE TABLE saved_replies (
        id {serial},
        user_id BIGINT NOT NULL REFERENCES users(id),
        title TEXT NOT NULL,
        title_key TEXT NOT NULL,
        content TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX saved_replies_by_user ON saved_replies (user_id, title_key, id);
    """,
)

_DIALECTS = {
    "sqlite": {"serial": "INTEGER PRIMARY KEY AUTOINCREMENT", "nocase": "COLLATE NOCASE", "real": "REAL"},
    "postgresql": {"serial": "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "nocase": "",
                   "real": "DOUBLE PRECISION"},
}
BUSY_TIMEOUT_MS = 10_000
_MIGRATION_LOCK = 0x636F6163686C  # any constant: the advisory lock's number ("coachl")


def migration_statements(number: int, dialect: str) -> list[str]:
    """Migration `number` (1-based) as statements of `dialect`."""
    script = MIGRATIONS[number - 1].format(**_DIALECTS[dialect])
    return [statement.strip() for statement in script.split(";") if statement.strip()]


class Executor(Protocol):
    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None: ...
    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]: ...
    async def execute(self, sql: str, params: Params = ()) -> int: ...
    async def execute_returning(self, sql: str, params: Params = ()) -> Row | None: ...


class TransactionExecutor(Executor, Protocol):
    async def order_lock(self, key: int) -> None: ...


AfterCommit = Callable[[], Awaitable[None]]


class Database(Executor, Protocol):
    dialect: str

    def transaction(self, after_commit: list[AfterCommit] | None = None
                    ) -> contextlib.AbstractAsyncContextManager[TransactionExecutor]: ...
    async def close(self) -> None: ...


async def _to_the_end(work: Awaitable[None]) -> None:
    """Run `work` to its end even when the caller is cancelled meanwhile (then re-raise):
    what a committed transaction tells, and the locks it releases, are not cut in half."""
    task = asyncio.ensure_future(work)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        raise


async def _run_after_commit(after_commit: list[AfterCommit] | None) -> None:
    for told in after_commit or ():
        await told()


def is_sqlite(url: str | Path) -> bool:
    return not str(url).startswith(("postgresql://", "postgres://"))


async def open_database(url: str | Path, *, then: Callable[[Executor], Awaitable[None]] | None = None) -> Database:
    """Open (creating if needed) and migrate the database named by `url`: a
    `postgresql://` URL, or else a SQLite file path (`sqlite:///path` also works).
    `then(tx)` runs in the migrations' transaction, under their lock (the demo seed)."""
    text = str(url)
    if is_sqlite(text):
        database: Database = SqliteDatabase(Path(text.removeprefix("sqlite://")))
    else:
        database = await PostgresDatabase.open(text)
    try:
        await migrate(database, then)
    except BaseException:
        await database.close()
        raise
    return database


async def migrate(database: Database, then: Callable[[Executor], Awaitable[None]] | None = None) -> None:
    async with database.transaction() as tx:
        if database.dialect == "postgresql":
            await tx.fetch_one(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
            await tx.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = await tx.fetch_one("SELECT MAX(version) AS version FROM schema_version")
            version = row["version"] or 0
        else:  # BEGIN IMMEDIATE already holds the write lock
            version = (await tx.fetch_one("PRAGMA user_version"))["user_version"]
        for number in range(version + 1, len(MIGRATIONS) + 1):
            for statement in migration_statements(number, database.dialect):
                await tx.execute(statement)
            if database.dialect == "postgresql":
                await tx.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
            else:
                await tx.execute(f"PRAGMA user_version = {number}")
        if then is not None:
            await then(tx)


async def meta_set_default(executor: Executor, key: str, value: str) -> str:
    """Store `value` under `key` unless a value is already there; return the stored one."""
    await executor.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (key, value))
    row = await executor.fetch_one("SELECT value FROM meta WHERE key = ?", (key,))
    assert row is not None
    return row["value"]


# --- SQLite -------------------------------------------------------------------------------

def _dict_row(cursor: sqlite3.Cursor, row: tuple) -> Row:
    return {column[0]: value for column, value in zip(cursor.description, row)}


def connect_sqlite(path: Path) -> sqlite3.Connection:
    """A connection to the file at `path`, created if needed.

    The file holds the JWT secret and the password hashes: it is created (or narrowed) to
    0600 before SQLite opens it, and SQLite gives its -wal and -shm files the same mode.

    An existing file is never opened here: closing any descriptor of the file drops every
    POSIX lock this process holds on it, those of its other SQLite connections included.
    Without them, another process (`serve.py users ...`) that closed its connection believed
    it was the last one, checkpointed and reset the WAL, and this process's reader went on
    answering from its cache: it never saw that process's change.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        with contextlib.suppress(FileExistsError):  # created meanwhile by another process
            os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    os.chmod(path, 0o600)
    for companion in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if companion.exists():
            os.chmod(companion, 0o600)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = _dict_row
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


class _Lane:
    """One SQLite connection and the one thread that uses it.

    The writer's lane also holds a lock file (`<db>-writer.lock`, `flock`) from BEGIN to
    COMMIT or ROLLBACK: worker processes that share the file then queue for it in the
    kernel, each woken the moment the previous writer is done, instead of SQLite's busy
    handler, which sleeps and retries in steps of up to 100 ms (seen: 0.8 s waits at 200
    sends/s on 4 workers, for transactions that held the lock 3-4 ms)."""

    def __init__(self, conn: sqlite3.Connection, name: str, lock_path: Path | None = None) -> None:
        self.conn = conn
        self._thread = ThreadPoolExecutor(1, thread_name_prefix=name)
        self._lock_fd = None if lock_path is None else os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        self._locked = False

    async def call(self, func: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._thread, func, *args)

    def close(self) -> None:
        self._thread.submit(self.conn.close).result()
        self._thread.shutdown()
        if self._lock_fd is not None:
            os.close(self._lock_fd)

    # run on the lane's thread
    def one(self, sql: str, params: Params) -> Row | None:
        return self.conn.execute(sql, params).fetchone()

    def all(self, sql: str, params: Params) -> list[Row]:
        return self.conn.execute(sql, params).fetchall()

    def count(self, sql: str, params: Params) -> int:
        return self.conn.execute(sql, params).rowcount

    def begin(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            self._locked = True
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._unlock()
            raise

    def commit(self) -> None:
        """COMMIT; the lock file stays held (`release()`) until what follows it is told."""
        self.conn.execute("COMMIT")  # on failure the transaction is still open: rollback() follows

    def release(self) -> None:
        self._unlock()

    def rollback(self) -> None:
        try:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
        finally:
            self._unlock()

    def _unlock(self) -> None:
        if self._locked:
            self._locked = False
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def returning(self, sql: str, params: Params) -> Row | None:
        cursor = self.conn.execute(sql, params)
        row = cursor.fetchone()
        cursor.fetchall()  # a RETURNING statement is complete only once every row is read
        return row


class _SqliteWriter:
    """The writer lane as an `Executor`: inside a transaction, or one statement at a time."""

    def __init__(self, lane: _Lane) -> None:
        self.lane = lane

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        return await self.lane.call(self.lane.one, sql, params)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        return await self.lane.call(self.lane.all, sql, params)

    async def execute(self, sql: str, params: Params = ()) -> int:
        return await self.lane.call(self.lane.count, sql, params)

    async def execute_returning(self, sql: str, params: Params = ()) -> Row | None:
        return await self.lane.call(self.lane.returning, sql, params)

    async def order_lock(self, key: int) -> None:
        """Nothing to take: the one writer already orders every transaction."""


class SqliteDatabase:
    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer = _SqliteWriter(_Lane(connect_sqlite(path), "sqlite-write",
                                           lock_path=path.with_name(path.name + "-writer.lock")))
        self._reader = _Lane(connect_sqlite(path), "sqlite-read")
        self._write_lock = asyncio.Lock()

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        return await self._reader.call(self._reader.one, sql, params)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        return await self._reader.call(self._reader.all, sql, params)

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self.transaction() as tx:  # one statement: its own transaction, in the queue
            return await tx.execute(sql, params)

    async def execute_returning(self, sql: str, params: Params = ()) -> Row | None:
        async with self.transaction() as tx:
            return await tx.execute_returning(sql, params)

    @contextlib.asynccontextmanager
    async def transaction(self, after_commit: list[AfterCommit] | None = None) -> AsyncIterator[TransactionExecutor]:
        lane = self._writer.lane
        async with self._write_lock:
            # The lane's one thread runs what it is given in order: a ROLLBACK queued after a
            # BEGIN that a cancellation stopped waiting for still comes after it.
            try:
                await lane.call(lane.begin)
                yield self._writer
            except BaseException:
                await asyncio.shield(lane.call(lane.rollback))  # and the lock file released
                raise
            try:
                await _to_the_end(self._commit_then_tell(after_commit))
            finally:
                lane.release()  # a flock(LOCK_UN), once: no thread needed

    async def _commit_then_tell(self, after_commit: list[AfterCommit] | None) -> None:
        lane = self._writer.lane
        try:
            await lane.call(lane.commit)
        except BaseException:
            await lane.call(lane.rollback)
            raise
        await _run_after_commit(after_commit)

    async def close(self) -> None:
        self._writer.lane.close()
        self._reader.close()


# --- PostgreSQL ---------------------------------------------------------------------------

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def postgres_sql(sql: str) -> str:
    """`?` and `:name` placeholders as psycopg's `%s` and `%(name)s` (a literal % doubled)."""
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%")).replace("?", "%s")


# The first key of this server's advisory locks (the second is the caller's): "cl".
ORDER_LOCK_SPACE = 0x636C


class _PostgresExecutor:
    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.order_keys: list[int] = []

    async def order_lock(self, key: int) -> None:
        """Hold `key` (a session-level advisory lock) until what follows the COMMIT is told:
        transactions that take the same key commit, and tell, one after the other."""
        await self.conn.execute("SELECT pg_advisory_lock(%s, %s)", (ORDER_LOCK_SPACE, key))
        self.order_keys.append(key)

    async def release_order_locks(self) -> None:
        """A session-level lock outlives its transaction, even a rolled-back one: released
        here, or with the connection, which is closed (the pool replaces it) if that fails."""
        keys, self.order_keys = self.order_keys, []
        try:
            for key in keys:
                await self.conn.execute("SELECT pg_advisory_unlock(%s, %s)", (ORDER_LOCK_SPACE, key))
        except BaseException:
            await self.conn.close()
            raise

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        cursor = await self.conn.execute(postgres_sql(sql), params or None)
        return await cursor.fetchone()

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        cursor = await self.conn.execute(postgres_sql(sql), params or None)
        return await cursor.fetchall()

    async def execute(self, sql: str, params: Params = ()) -> int:
        cursor = await self.conn.execute(postgres_sql(sql), params or None)
        return cursor.rowcount

    execute_returning = fetch_one


async def _quiet_rollback(conn: Any) -> None:
    """ROLLBACK; a connection that cannot is closed (the pool replaces it): the error that
    led here is the one to report."""
    try:
        await conn.execute("ROLLBACK")
    except Exception:
        await conn.close()


async def _commit_then_tell(conn: Any, after_commit: list[AfterCommit] | None) -> None:
    try:
        await conn.execute("COMMIT")
    except BaseException:
        await _quiet_rollback(conn)
        raise
    await _run_after_commit(after_commit)


class PostgresDatabase:
    dialect = "postgresql"

    def __init__(self, pool: Any) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, url: str, *, max_size: int = 10) -> PostgresDatabase:
        # Imported here: the default (SQLite) server needs neither package.
        from psycopg.rows import dict_row
        from psycopg_pool import AsyncConnectionPool

        pool = AsyncConnectionPool(url, min_size=1, max_size=max_size, open=False, name="coachline",
                                   kwargs={"autocommit": True, "row_factory": dict_row})
        await pool.open(wait=True, timeout=15)
        return cls(pool)

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        async with self.pool.connection() as conn:
            return await _PostgresExecutor(conn).fetch_one(sql, params)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        async with self.pool.connection() as conn:
            return await _PostgresExecutor(conn).fetch_all(sql, params)

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self.pool.connection() as conn:
            return await _PostgresExecutor(conn).execute(sql, params)

    async def execute_returning(self, sql: str, params: Params = ()) -> Row | None:
        async with self.pool.connection() as conn:
            return await _PostgresExecutor(conn).fetch_one(sql, params)

    @contextlib.asynccontextmanager
    async def transaction(self, after_commit: list[AfterCommit] | None = None) -> AsyncIterator[TransactionExecutor]:
        async with self.pool.connection() as conn:
            tx = _PostgresExecutor(conn)
            try:
                await conn.execute("BEGIN")
                try:
                    yield tx
                except BaseException:
                    await _to_the_end(_quiet_rollback(conn))
                    raise
                await _to_the_end(_commit_then_tell(conn, after_commit))
            finally:
                if tx.order_keys:
                    await _to_the_end(tx.release_order_locks())

    async def close(self) -> None:
        await self.pool.close()
