#!/usr/bin/env bash
# Start the app: set up what is missing (the server's locked Python set only; the Redis and
# PostgreSQL drivers too when the options or COACHLINE_* variables name Redis or PostgreSQL),
# then serve the site + backend with demo data. `./run.sh users ...`, `conversations ...`,
# `backup`, `restore` and `export` run that serve.py command instead (no demo data).
set -euo pipefail
cd "$(dirname "$0")"
set_flags=()
case " $* ${COACHLINE_REDIS:-} ${COACHLINE_DATABASE:-} " in
  *" --redis"* | *redis://* | *rediss://* | *postgres://* | *postgresql://*) set_flags+=(--scale) ;;
esac
bash scripts/setup.sh "${set_flags[@]}"
case "${1:-}" in
  users | conversations | backup | restore | export) exec .venv/bin/python serve.py "$@" ;;
esac
exec .venv/bin/python serve.py --demo "$@"
