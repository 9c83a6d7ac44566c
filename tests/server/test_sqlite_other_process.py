"""A running server sees what another process commits to its SQLite file (the admin
commands of `serve.py` are such processes)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys

from server.data.db import open_database


def test_a_running_server_sees_every_change_another_process_commits(tmp_path, demo_db_template):
    """The admin commands are other processes. serve.py used to open and close the database
    file itself when it opened its second connection, which dropped its SQLite locks: the
    next process to close thought it was the last, reset the WAL, and the server's reader
    went on answering from its cache (it saw the first change, never the second)."""
    path = tmp_path / "messaging.sqlite3"
    shutil.copy(demo_db_template, path)

    def rename(name: str) -> None:
        subprocess.run([sys.executable, "-c", "import sqlite3, sys\n"
                        "with sqlite3.connect(sys.argv[1]) as c:\n"
                        "    c.execute('UPDATE users SET first_name = ? WHERE id = 2', (sys.argv[2],))",
                        str(path), name], check=True, timeout=60)

    async def names_seen() -> list[str]:
        database = await open_database(path)
        seen = []
        try:
            for name in ("One", "Two", "Three"):
                rename(name)
                seen.append((await database.fetch_one("SELECT first_name FROM users WHERE id = 2"))["first_name"])
        finally:
            await database.close()
        return seen

    assert asyncio.run(names_seen()) == ["One", "Two", "Three"]
