#!/usr/bin/env python3
"""The reference backend and static server for the trainer messaging app.

    python serve.py [--host 127.0.0.1] [--port 8000] [--data-dir data] [--demo] [--faults]
                    [--db FILE_OR_URL] [--media-dir DIR] [--workers N --redis URL]
                    [--access-ttl SECONDS] [--refresh-ttl SECONDS] [--session-ttl SECONDS]
                    [--allow-origin ORIGIN ...] [--host-name NAME ...] [--trusted-proxy IP ...]
                    [--max-sockets-per-user N] [--send-rate BURST/PER_SECOND] [--upload-quota-mb MB]
                    [--log-format text|json]   (serve.py --help tells each option)
    python serve.py users add --email E --role trainer|trainee --first F --last L [--password-stdin]
    python serve.py users list | disable EMAIL | enable EMAIL | set-password EMAIL [--password-stdin]
    python serve.py conversations add TRAINER_EMAIL TRAINEE_EMAIL | list | archive ID
    python serve.py backup DEST | restore SRC
    python serve.py export DIR

The first form serves the page, the API and the WebSocket on one origin (creating the
database when needed; `--demo` seeds the demo accounts into an empty one, else it starts with
none). The `users` and `conversations` commands manage accounts and conversations in the
database named by the same `--data-dir` or `--db` (and `--redis`), also while the server runs: disabling an
account or archiving a conversation closes its open sockets within about a second (at once
with `--redis`). They exit 0 when done, 1 when refused (one line says why), 2 on a usage
error. The data directory (`--data-dir`, default ./data, printed at start) holds the SQLite
file and the photos; `backup` copies both while the server runs (SQLite's online backup,
then the photos; with PostgreSQL the photos only: use pg_dump), `restore` brings a backup
into an empty data directory. `export` writes the static site into DIR (what the page
loads, with the Pyodide snapshot of the current py/, rebuilt first when needed).
All the logic lives in the `server` package.
"""

from __future__ import annotations

import argparse
import dataclasses
import ipaddress
import os
import shlex
import socket
import sys
from pathlib import Path

SITE_ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(SITE_ROOT))

from server.realtime.admin_events import POLL_INTERVAL  # noqa: E402
from server.app import create_app  # noqa: E402
from server.context import Limits  # noqa: E402
from server.data.db import is_sqlite  # noqa: E402
from server.log_format import FORMATS  # noqa: E402
from server.data.seed import DEMO_USERS, password_for  # noqa: E402
from server.data import storage  # noqa: E402
from server.data.storage import Storage  # noqa: E402


def serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="serve.py", description="Serve the app, its API and its WebSocket.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"Every option can also be set from the environment: --send-rate 50/5 is {ENV_PREFIX}SEND_RATE=50/5\n"
               f"(a list takes values separated by commas or spaces, a switch 1/true/yes or 0/false/no);\n"
               "the command line wins over the environment.\n\n"
               "SIGTERM or SIGINT is a planned shutdown: no new connections, WebSockets closed with 1012\n"
               "(the page reconnects at once), answers in flight finished, exit 0 within 10 s.\n"
               "GET /healthz answers while the process runs; GET /readyz only while the database (and\n"
               "Redis, with --redis) answer.\n\n"
               "Or: serve.py users|conversations ... (accounts), serve.py backup DEST | restore SRC,\n"
               "serve.py export DIR (write the static site into DIR); each with --help")
    parser.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1; "
                        "0.0.0.0 for every interface)")
    parser.add_argument("--port", type=int, default=8000, help="the TCP port to listen on (default 8000)")
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help="where the data lives: messaging.sqlite3 and media/ (default ./data)")
    parser.add_argument("--database", "--db", dest="database", default=None, metavar="URL",
                        help="a SQLite file (default DATA_DIR/messaging.sqlite3), or postgresql://USER@HOST/DB")
    parser.add_argument("--media-dir", type=Path, default=None, metavar="DIR",
                        help="where photos are stored (default: media/ beside the SQLite file, DATA_DIR/media "
                             "with PostgreSQL; several machines need one shared folder)")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="worker processes sharing the port, each with its own event loop (N > 1 needs --redis)")
    parser.add_argument("--redis", default=None, metavar="URL",
                        help="redis://HOST:PORT/DB: fan socket events out and count the limits across every "
                             "worker and machine that names the same Redis")
    parser.add_argument("--worker-fd", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--admin-poll", type=float, default=POLL_INTERVAL, metavar="SECONDS",
                        help=f"how often each worker looks for changes made by the users/conversations commands "
                             f"(default {POLL_INTERVAL:g}; with --redis they also arrive at once)")
    parser.add_argument("--ready-fd", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--demo", action="store_true",
                        help="seed the demo accounts and conversations into an empty database (public passwords)")
    parser.add_argument("--faults", action="store_true", help="mount the /__faults/ controls (tests only)")
    parser.add_argument("--keep-password-hashes", action="store_true",
                        help="tests only, with --faults: a login never re-hashes a stored password, so the demo's "
                             "and the test trainees' public passwords keep their low-cost hashes")
    parser.add_argument("--no-inbox", dest="inbox", action="store_false",
                        help="leave out the optional inbox socket (/ws/inbox/), like a backend without it")
    parser.add_argument("--access-ttl", type=float, default=300, metavar="SECONDS",
                        help="lifetime of an access token (default 300)")
    parser.add_argument("--refresh-ttl", type=float, default=86400, metavar="SECONDS",
                        help="lifetime of a refresh token; each refresh issues a new one (default 1 day)")
    parser.add_argument("--session-ttl", type=float, default=7 * 86400, metavar="SECONDS",
                        help="absolute lifetime of a login, however often it refreshes (default 7 days)")
    parser.add_argument("--allow-origin", action="extend", nargs="+", default=[], metavar="ORIGIN",
                        help="another origin whose pages may use this backend")
    parser.add_argument("--host-name", action="extend", nargs="+", default=[], metavar="NAME",
                        help="a DNS name this server is reached by (Host allow-list; IP addresses and "
                             "localhost are always allowed; default: --host when it is a name)")
    parser.add_argument("--trusted-proxy", action="extend", nargs="+", default=[], metavar="IP",
                        help="a reverse proxy whose X-Forwarded-For/-Proto is believed (default: none)")
    defaults = Limits()
    parser.add_argument("--max-sockets-per-user", type=int, default=defaults.max_sockets_per_user, metavar="N",
                        help=f"WebSockets one user may hold open at once, over every worker; more are closed "
                             f"with 1013 (default {defaults.max_sockets_per_user})")
    parser.add_argument("--send-rate", type=_rate, default=(defaults.send_burst, defaults.send_rate),
                        metavar="BURST/PER_SECOND", help=f"messages per user (default "
                        f"{defaults.send_burst}/{defaults.send_rate:g})")
    parser.add_argument("--upload-quota-mb", type=float, default=defaults.upload_quota_bytes / 2**20, metavar="MB",
                        help=f"image bytes per user per rolling 24 hours "
                             f"(default {defaults.upload_quota_bytes / 2**20:g})")
    parser.add_argument("--header-timeout", type=float, default=defaults.header_timeout, metavar="SECONDS",
                        help=f"a request's line and headers must arrive within this, or the connection is "
                             f"closed (default {defaults.header_timeout:g})")
    parser.add_argument("--body-timeout", type=float, default=defaults.body_timeout, metavar="SECONDS",
                        help=f"a request's body must arrive within this (default {defaults.body_timeout:g})")
    parser.add_argument("--log-format", choices=FORMATS, default="text",
                        help="text: one line per event, '<UTC time> <LEVEL> <logger>: <message>'; json: one "
                             "JSON object per line (time, level, logger, message; method, path, status and "
                             "client on access lines) for log collectors (default text)")
    _defaults_from_environment(parser)
    return parser


ENV_PREFIX = "COACHLINE_"


def _defaults_from_environment(parser: argparse.ArgumentParser) -> None:
    """Every option can come from the environment: `--send-rate 50/5` is
    COACHLINE_SEND_RATE=50/5; a list option takes its values separated by commas or spaces,
    a switch 1/true/yes or 0/false/no. A command-line option wins over the environment."""
    for action in parser._actions:
        name = next((o for o in action.option_strings if o.startswith("--")), None)
        if name is None or action.help == argparse.SUPPRESS or action.dest == "help":
            continue
        variable = ENV_PREFIX + name[2:].upper().replace("-", "_")
        raw = os.environ.get(variable)
        if raw is None:
            continue
        try:
            if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
                if raw.strip().lower() not in ("1", "true", "yes", "0", "false", "no"):
                    raise ValueError("expected 1/true/yes or 0/false/no")
                on = raw.strip().lower() in ("1", "true", "yes")
                value = on if isinstance(action, argparse._StoreTrueAction) else not on
            elif action.nargs == "+":
                value = [_convert(action, item) for item in raw.replace(",", " ").split()]
            else:
                value = _convert(action, raw)
        except (ValueError, argparse.ArgumentTypeError) as exc:
            parser.error(f"{variable}: {exc}")
        parser.set_defaults(**{action.dest: value})


def _convert(action: argparse.Action, raw: str):
    return action.type(raw) if action.type is not None else raw


def _rate(text: str) -> tuple[int, float]:
    burst, slash, rate = text.partition("/")
    try:
        pair = (int(burst), float(rate))
    except ValueError:
        raise argparse.ArgumentTypeError("expected BURST/PER_SECOND, e.g. 300/10") from None
    if not slash or pair[0] < 1 or pair[1] <= 0:
        raise argparse.ArgumentTypeError("expected BURST/PER_SECOND, e.g. 300/10")
    return pair


def host_names(args: argparse.Namespace) -> list[str]:
    """The Host allow-list: --host-name, else --host when it is a name (not an address)."""
    if args.host_name:
        return list(args.host_name)
    try:
        ipaddress.ip_address(args.host.strip("[]"))
    except ValueError:
        return [args.host]
    return []


def missing_drivers(args: argparse.Namespace, database: str | Path) -> str | None:
    """The scale-out drivers are an extra (requirements/scale.txt): say so in one line before
    starting, rather than a traceback from the first worker."""
    import importlib.util

    wanted = []
    if args.redis:
        wanted.append(("redis", "--redis needs the Redis driver (redis)"))
    if not is_sqlite(database):
        wanted += [("psycopg", "a PostgreSQL database needs its driver (psycopg)"),
                   ("psycopg_pool", "a PostgreSQL database needs psycopg_pool")]
    for module, message in wanted:
        if importlib.util.find_spec(module) is None:
            return message
    return None


def limits_from(args: argparse.Namespace) -> Limits:
    return dataclasses.replace(
        Limits(), max_sockets_per_user=args.max_sockets_per_user, send_burst=args.send_rate[0],
        send_rate=args.send_rate[1], upload_quota_bytes=int(args.upload_quota_mb * 2**20),
        header_timeout=args.header_timeout, body_timeout=args.body_timeout)


def database_option(args: argparse.Namespace, store: Storage) -> str:
    """The option an admin command needs to reach this server's database ('' for the default)."""
    if args.database is not None:
        return " --db " + shlex.quote(store.database)
    if args.data_dir is not None:
        return " --data-dir " + shlex.quote(str(store.data_dir))
    return ""


def main(argv: list[str]) -> int:
    if argv[:1] in (["users"], ["conversations"], ["backup"], ["restore"]):
        from server import cli_admin

        return cli_admin.main(argv)
    if argv[:1] == ["export"]:
        from server.build.export import export_site  # set-up tooling: the running server never loads it
        from server.build.snapshot import rebuild

        parser = argparse.ArgumentParser(prog="serve.py export", description="Write the static site into DIR.")
        parser.add_argument("dir", type=Path)
        args = parser.parse_args(argv[1:])
        problem = rebuild(SITE_ROOT)  # the snapshot of the current py/, when it is not built yet
        if problem:
            print(f"warning: no snapshot of the current code ({problem}); the site boots without one",
                  file=sys.stderr)
        written = export_site(SITE_ROOT, args.dir)
        print(f"Exported {len(written)} files to {args.dir}")
        return 0

    parser = serve_parser()
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.keep_password_hashes and not args.faults:
        parser.error("--keep-password-hashes is for test servers: it needs --faults")
    where = storage.resolve(args.data_dir, args.database, args.media_dir)
    if args.workers > 1 and not args.redis:
        print(f"serve.py: --workers {args.workers} needs --redis URL (the workers share their sockets' "
              "events and limits through Redis)", file=sys.stderr)
        return 2
    missing = missing_drivers(args, where.database)
    if missing:
        print(f"serve.py: {missing} (./run.sh installs them when its options name Redis or PostgreSQL; "
              "or: .venv/bin/pip install --require-hashes --no-deps -r requirements/scale.txt)", file=sys.stderr)
        return 2
    if args.workers > 1:
        from server.supervisor import supervise

        print_banner(args, where)
        return supervise(Path(__file__).resolve(), argv, args.workers, args.host, args.port,
                         log_style=args.log_format)
    from server.runner import run

    app = create_app(where.database, site_root=SITE_ROOT, faults=args.faults, access_ttl=args.access_ttl,
                     refresh_ttl=args.refresh_ttl, session_ttl=args.session_ttl, allowed_origins=args.allow_origin,
                     host_names=host_names(args), limits=limits_from(args), inbox=args.inbox,
                     media_dir=where.media_dir, redis_url=args.redis, demo=args.demo, admin_poll=args.admin_poll,
                     rehash_passwords=not args.keep_password_hashes)
    if args.worker_fd is None:
        print_banner(args, where)
    sockets = [socket.socket(fileno=args.worker_fd)] if args.worker_fd is not None else None
    run(app, args.host, args.port, limits=limits_from(args), trusted_proxies=args.trusted_proxy, sockets=sockets,
        ready_fd=args.ready_fd, log_style=args.log_format)
    return 0


def print_banner(args: argparse.Namespace, where: Storage) -> None:
    if args.demo:
        print(f"Open http://{args.host}:{args.port}/ in a browser. Demo logins:")
        for email, first, last, role in DEMO_USERS:
            print(f"  {email:<20} {password_for(email):<12} {first} {last} ({role.lower()})")
    else:
        print(f"Open http://{args.host}:{args.port}/ in a browser. No demo data (--demo seeds it into an empty "
              "database); add accounts and conversations with:")
        option = database_option(args, where)
        print(f"  python serve.py users add --email EMAIL --role trainer --first FIRST --last LAST{option}")
        print(f"  python serve.py conversations add TRAINER_EMAIL TRAINEE_EMAIL{option}")
    print(f"Data directory: {where.data_dir} (database: {storage.without_password(where.database)}; "
          f"photos: {where.media_dir})")
    print("Host names served: IP addresses, localhost" + "".join(f", {n}" for n in host_names(args))
          + " (add others with --host-name)")
    if args.redis:
        print(f"Fan-out and limits through Redis ({args.workers} worker process{'es' if args.workers > 1 else ''} here)")
    if args.faults:
        print("Fault controls are ON under /__faults/ (for tests only).")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
