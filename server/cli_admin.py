"""`serve.py users ...` and `serve.py conversations ...`: the command line of `server.admin`.

    serve.py users add --email E --role trainer|trainee --first F --last L [--password-stdin]
    serve.py users list | disable EMAIL | enable EMAIL | set-password EMAIL [--password-stdin]
    serve.py conversations add TRAINER_EMAIL TRAINEE_EMAIL | list | archive ID
    serve.py backup DEST | restore SRC   (`server.data.backup`)

Each takes the server's `--data-dir`, `--database/--db` and `--redis` (or COACHLINE_DATA_DIR,
COACHLINE_DATABASE and COACHLINE_REDIS, like the server); backup and restore `--media-dir`.
It may run while the server runs: the change is committed, and the server's workers apply
it to their open sockets within about a second (`server.realtime.admin_events`).
Exit codes: 0 done, 1 refused (one line on stderr says why), 2 usage.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sqlite3
import sys
import time
from pathlib import Path

from server import admin
from server.data import backup, db, storage
from server.data.store import Store

REFUSED = 1
USAGE = 2


def admin_parser(prog: str) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", default=os.environ.get("COACHLINE_DATA_DIR") or None, metavar="DIR",
                        help="the server's data directory (default ./data)")
    common.add_argument("--database", "--db", dest="database", metavar="URL",
                        default=os.environ.get("COACHLINE_DATABASE") or None,
                        help="the server's database: a SQLite file (default DATA_DIR/messaging.sqlite3) "
                             "or postgresql://...")
    common.add_argument("--redis", default=os.environ.get("COACHLINE_REDIS") or None, metavar="URL",
                        help="the server's Redis, if any: its workers then apply the change at once "
                             "(without it, within about a second)")
    password = argparse.ArgumentParser(add_help=False)
    password.add_argument("--password-stdin", action="store_true",
                          help="read the password from the first line of stdin (else asked twice, not echoed)")

    parser = argparse.ArgumentParser(prog=prog, description="Manage accounts and conversations.")
    groups = parser.add_subparsers(dest="group", required=True)

    users = groups.add_parser("users", help="accounts").add_subparsers(dest="command", required=True)
    add = users.add_parser("add", parents=[common, password], help="a new account")
    add.add_argument("--email", required=True)
    add.add_argument("--role", required=True, choices=sorted(admin.ROLES))
    add.add_argument("--first", required=True, metavar="FIRST_NAME")
    add.add_argument("--last", required=True, metavar="LAST_NAME")
    users.add_parser("list", parents=[common], help="every account")
    for name, text in (("disable", "no more logins; its sessions end and its sockets close"),
                       ("enable", "may log in again"),
                       ("set-password", "a new password; its sessions end")):
        command = users.add_parser(name, parents=[common, password] if name == "set-password" else [common],
                                   help=text)
        command.add_argument("email")

    conversations = groups.add_parser("conversations", help="conversations").add_subparsers(dest="command",
                                                                                          required=True)
    add = conversations.add_parser("add", parents=[common], help="a trainer and a trainee")
    add.add_argument("trainer_email")
    add.add_argument("trainee_email")
    conversations.add_parser("list", parents=[common], help="every conversation")
    archive = conversations.add_parser("archive", parents=[common], help="read-only from now on")
    archive.add_argument("id", type=int)

    media = argparse.ArgumentParser(add_help=False)
    media.add_argument("--media-dir", default=os.environ.get("COACHLINE_MEDIA_DIR") or None, metavar="DIR",
                       help="the server's photos (default: media/ beside the SQLite file)")
    backup_command = groups.add_parser("backup", parents=[common, media],
                                       help="copy the database and the photos into DEST (while the server runs)")
    backup_command.add_argument("dest", type=Path)
    restore_command = groups.add_parser("restore", parents=[common, media],
                                        help="bring a backup back into an empty data directory")
    restore_command.add_argument("src", type=Path)
    return parser


def main(argv: list[str], *, prog: str = "serve.py") -> int:
    args = admin_parser(prog).parse_args(argv)  # exits 2 on a usage error
    where = storage.resolve(args.data_dir, args.database, getattr(args, "media_dir", None))
    args.database = where.database
    if args.group in ("backup", "restore"):
        try:
            lines = backup.backup(where, args.dest) if args.group == "backup" else backup.restore(args.src, where)
        except admin.Refused as refusal:
            return _refuse(prog, str(refusal))
        except (OSError, sqlite3.Error) as exc:
            return _refuse(prog, f"{args.group} failed: {' '.join(str(exc).split())}")
        print("\n".join(lines))
        return 0
    creates = (args.group, args.command) == ("users", "add")
    if where.sqlite_path is not None and not creates and not where.sqlite_path.exists():
        return _refuse(prog, f"no database at {where.database} (--data-dir or --db names the server's)")
    password = None
    if getattr(args, "password_stdin", None) is not None:
        if not args.password_stdin and not sys.stdin.isatty():
            print(f"{prog}: no terminal to ask the password on: pipe it with --password-stdin", file=sys.stderr)
            return USAGE
        password = _read_password(args.password_stdin)
        if password is None:
            return _refuse(prog, "the two passwords differ")
    try:
        lines = asyncio.run(_run(args, password))
    except admin.Refused as refusal:
        return _refuse(prog, str(refusal))
    except _database_errors() as exc:  # unreachable, locked, read-only...
        return _refuse(prog, f"cannot use the database: {' '.join(str(exc).split())}")
    for line in lines:
        print(line)
    if args.redis and args.command != "list":
        _poke_workers(prog, args.redis)
    return 0


def _poke_workers(prog: str, redis_url: str) -> None:
    """The change is committed: the workers find it within a second anyway; this is sooner."""
    from server.app import REDIS_PREFIX
    from server.realtime.fanout import publish_admin_poke

    try:
        publish_admin_poke(redis_url, REDIS_PREFIX)
    except Exception as exc:  # redis-py's errors; the change stands
        print(f"{prog}: warning: could not reach Redis ({type(exc).__name__}); the server applies the change "
              "within about a second", file=sys.stderr)


def _read_password(from_stdin: bool) -> str | None:
    """The password (its first line from stdin, or typed twice without echo); None when the
    two typed differ."""
    if from_stdin:
        return sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    first = getpass.getpass("Password: ")
    return first if getpass.getpass("Again: ") == first else None


def _database_errors() -> tuple[type[BaseException], ...]:
    errors: tuple[type[BaseException], ...] = (OSError, sqlite3.Error)
    try:
        import psycopg  # only with a PostgreSQL database
    except ImportError:
        return errors
    return errors + (psycopg.Error,)


def _refuse(prog: str, reason: str) -> int:
    print(f"{prog}: {reason}", file=sys.stderr)
    return REFUSED


async def _run(args: argparse.Namespace, password: str | None) -> list[str]:
    database = await db.open_database(args.database)
    try:
        return await _dispatch(Store(database), args, password, time.time())
    finally:
        await database.close()


async def _dispatch(store: Store, args: argparse.Namespace, password: str | None, now: float) -> list[str]:
    match args.group, args.command:
        case "users", "add":
            user = await admin.add_user(store, email=args.email, role=args.role, first=args.first, last=args.last,
                                        password=password)
            return [f"added {user['role'].lower()} {user['email']} (id {user['id']})"]
        case "users", "list":
            return [_user_line(user) for user in await admin.list_users(store)] or ["no accounts"]
        case "users", "disable":
            user = await admin.disable_user(store, args.email, now)
            return [f"disabled {user['email']}: its sessions ended and its open sockets close"]
        case "users", "enable":
            user = await admin.enable_user(store, args.email)
            return [f"enabled {user['email']}"]
        case "users", "set-password":
            user, ended = await admin.set_password(store, args.email, password, now)
            return [f"new password for {user['email']}; {ended} session{'' if ended == 1 else 's'} ended"]
        case "conversations", "add":
            conversation_id = await admin.add_conversation(store, args.trainer_email, args.trainee_email, now)
            return [f"added conversation {conversation_id}"]
        case "conversations", "list":
            return [_conversation_line(c) for c in await admin.list_conversations(store)] or ["no conversations"]
        case "conversations", "archive":
            await admin.archive_conversation(store, args.id, now)
            return [f"archived conversation {args.id}"]
    raise AssertionError(f"unhandled command {args.group} {args.command}")


def _user_line(user: dict) -> str:
    state = "disabled" if user["disabled_at"] is not None else "active"
    return (f"{user['id']:>5}  {user['role'].lower():<7}  {state:<8}  {user['email']}  "
            f"{user['first_name']} {user['last_name']}")


def _conversation_line(conversation: dict) -> str:
    state = "archived" if conversation["is_archived"] else "open"
    return (f"{conversation['id']:>5}  {state:<8}  {conversation['trainer_email']} -> {conversation['trainee_email']}"
            f"  {conversation['message_count']} messages  since {conversation['created_at'][:10]}")
