"""Where the server keeps its data: one data directory (`--data-dir`, default ./data) holding
the SQLite file and the media folder, unless `--db` or `--media-dir` name others.

    data/                  the data directory, resolved to an absolute path at start
      messaging.sqlite3    the database (and its -wal, -shm and -writer.lock companions)
      media/               the photos

A SQLite file named by `--db` keeps its photos in `media/` beside it (as before the data
directory existed); with PostgreSQL the photos stay in the data directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from server.data.db import is_sqlite

DEFAULT_DATA_DIR = "data"
DATABASE_NAME = "messaging.sqlite3"
MEDIA_NAME = "media"


@dataclass(frozen=True)
class Storage:
    data_dir: Path  # absolute
    database: str  # an absolute SQLite path, or a postgresql:// URL
    media_dir: Path  # absolute

    @property
    def sqlite_path(self) -> Path | None:
        return Path(self.database) if is_sqlite(self.database) else None


def resolve(data_dir: str | Path | None, database: str | Path | None, media_dir: str | Path | None) -> Storage:
    """The paths the options name; relative ones against the current directory."""
    root = Path(data_dir or DEFAULT_DATA_DIR).expanduser().resolve()
    if database is None:
        database = str(root / DATABASE_NAME)
    elif is_sqlite(database):
        database = str(Path(str(database).removeprefix("sqlite://")).expanduser().resolve())
    else:
        database = str(database)
    if media_dir is not None:
        media = Path(media_dir).expanduser().resolve()
    elif is_sqlite(database):
        media = Path(database).parent / MEDIA_NAME
    else:
        media = root / MEDIA_NAME
    return Storage(root, database, media)


def without_password(url: str) -> str:
    """A database URL fit to print: postgresql://user:secret@host/db -> postgresql://user:***@host/db."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return url
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"
