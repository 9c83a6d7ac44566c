"""`serve.py backup DEST` and `serve.py restore SRC`: a copy of the data directory that is
consistent while the server runs, and its way back.

Theory of operation. A backup copies the database first, with SQLite's online backup API
(`sqlite3.Connection.backup`: one read transaction, so one consistent state, whatever the
server writes meanwhile), then the media folder. A photo is written before the message
that names it commits (`server.messaging`), so every photo the copied database names is
already on disk when the media are copied; photos written after are extra, never missing.
The copy is laid out as a data directory (`messaging.sqlite3`, `media/`), so restoring is
copying it into an empty data directory, which `restore` does (it refuses a non-empty one
rather than mix two servers' data).

With PostgreSQL the database is not ours to copy: `backup` copies the media and says to
use `pg_dump` (and `pg_restore`/`psql` to bring it back).

The database file is only ever opened through SQLite: opening and closing it by hand
would drop a running server's locks on it (see `server.data.db.connect_sqlite`).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

from server.admin import Refused
from server.data.storage import DATABASE_NAME, MEDIA_NAME, Storage, without_password

PAGES_PER_STEP = -1  # the whole database in one step: one read transaction, one state


def backup(storage: Storage, dest: Path) -> list[str]:
    """Copy the database (SQLite) and the media into `dest`, a new or empty folder."""
    dest = dest.expanduser().resolve()
    _require_empty(dest, "backup into")
    dest.mkdir(mode=0o700, parents=True, exist_ok=True)
    lines = []
    if storage.sqlite_path is not None:
        if not storage.sqlite_path.exists():
            raise Refused(f"no database at {storage.sqlite_path}")
        copy_database(storage.sqlite_path, dest / DATABASE_NAME)
        lines.append(f"database: {storage.sqlite_path} -> {dest / DATABASE_NAME}")
    else:
        lines.append(f"database: PostgreSQL is not copied; run: pg_dump --format=custom --file "
                     f"{dest / 'database.pgdump'} '{without_password(storage.database)}'")
    count = copy_media(storage.media_dir, dest / MEDIA_NAME)
    lines.append(f"media: {count} file{'' if count == 1 else 's'} from {storage.media_dir}")
    return lines


def restore(src: Path, storage: Storage) -> list[str]:
    """Bring a backup back into an empty data directory (or the empty places --db and
    --media-dir name)."""
    src = src.expanduser().resolve()
    source_db = src / DATABASE_NAME
    if not src.is_dir():
        raise Refused(f"no backup at {src}")
    lines = []
    if storage.sqlite_path is not None:
        if not source_db.is_file():
            raise Refused(f"no {DATABASE_NAME} in {src}")
        _require_empty(storage.sqlite_path.parent, "restore into")
        _require_empty(storage.media_dir, "restore into")
        storage.sqlite_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        copy_database(source_db, storage.sqlite_path)
        lines.append(f"database: {source_db} -> {storage.sqlite_path}")
    else:
        _require_empty(storage.media_dir, "restore into")
        lines.append("database: PostgreSQL is not restored here; run: pg_restore --dbname "
                     f"'{without_password(storage.database)}' {src / 'database.pgdump'}")
    count = copy_media(src / MEDIA_NAME, storage.media_dir)
    lines.append(f"media: {count} file{'' if count == 1 else 's'} -> {storage.media_dir}")
    return lines


def copy_database(source: Path, target: Path) -> None:
    """SQLite's online backup of `source` into a new file `target` (mode 0600: it holds the
    password hashes and the JWT secret)."""
    if target.exists():
        raise Refused(f"{target} exists already")
    os.close(os.open(target, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))  # new: no connection has it open
    src = sqlite3.connect(source)  # (read-only would fail on a WAL file whose -shm is gone)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=PAGES_PER_STEP)
        dst.execute("PRAGMA journal_mode=WAL")  # as the server keeps it
        if dst.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise Refused(f"the copy of {source} failed SQLite's check")
    finally:
        dst.close()
        src.close()


def copy_media(source: Path, target: Path) -> int:
    """The files of `source` (photos: one flat folder) into `target`; how many."""
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    count = 0
    if not source.is_dir():
        return 0
    for entry in sorted(source.iterdir()):
        if entry.is_file() and not entry.is_symlink():
            shutil.copy2(entry, target / entry.name)
            count += 1
    return count


def _require_empty(folder: Path, what: str) -> None:
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise Refused(f"will not {what} {folder}: it is not empty")
