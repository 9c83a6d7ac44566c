#!/usr/bin/env python3
"""The reference backend and static server for the trainer messaging app.

    python serve.py [--host 127.0.0.1] [--port 8000] [--db data/messaging.sqlite3] [--faults]
                    [--access-ttl SECONDS] [--refresh-ttl SECONDS] [--allow-origin ORIGIN ...]
    python serve.py export DIR

The first form serves the page, the API and the WebSocket on one origin (creating and
seeding the database when needed); the second writes the static site into DIR (what the page loads,
with the Pyodide snapshot of the current py/, rebuilt first when needed).
All the logic lives in the `server` package.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

SITE_ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(SITE_ROOT))

from server.app import create_app  # noqa: E402
from server.seed import DEMO_USERS, password_for  # noqa: E402
from server.snapshot_plan import rebuild  # noqa: E402
from server.static_site import export_site  # noqa: E402


def serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="serve.py", description="Serve the app, its API and its WebSocket.",
                                     epilog="Or: serve.py export DIR  (write the static site into DIR)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--db", type=Path, default=Path("data/messaging.sqlite3"), help="SQLite file")
    parser.add_argument("--faults", action="store_true", help="mount the /__faults/ controls (tests only)")
    parser.add_argument("--access-ttl", type=float, default=300, metavar="SECONDS")
    parser.add_argument("--refresh-ttl", type=float, default=86400, metavar="SECONDS")
    parser.add_argument("--allow-origin", action="extend", nargs="+", default=[], metavar="ORIGIN",
                        help="another origin whose pages may use this backend")
    return parser


def main(argv: list[str]) -> int:
    if argv[:1] == ["export"]:
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

    args = serve_parser().parse_args(argv)
    from server.runner import run

    app = create_app(args.db, site_root=SITE_ROOT, faults=args.faults, access_ttl=args.access_ttl,
                     refresh_ttl=args.refresh_ttl, allowed_origins=args.allow_origin)
    print(f"Open http://{args.host}:{args.port}/ in a browser. Demo logins:")
    for email, first, last, role in DEMO_USERS:
        print(f"  {email:<20} {password_for(email):<12} {first} {last} ({role.lower()})")
    if args.faults:
        print("Fault controls are ON under /__faults/ (for tests only).")
    sys.stdout.flush()
    run(app, args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
