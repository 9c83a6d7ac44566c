#!/usr/bin/env bash
# Idempotent set-up for a fresh machine: a Python venv holding the locked set each use needs
# (requirements/*.txt, exact versions with hashes, generated from pyproject.toml by
# scripts/lock.sh), PyScript + Pyodide from the exact-pinned npm lock, (with --browser)
# Debian's Chromium for the browser tests and (with --services) Debian's Redis and PostgreSQL
# for the scale-out tests (and nginx for the deployment test). Re-running it does only what changed.
#   scripts/setup.sh            the server alone                          (./run.sh)
#   scripts/setup.sh --scale    + the Redis and PostgreSQL drivers        (./run.sh --redis ...)
#   scripts/setup.sh --test     + the test tools (implies --scale)        (./test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=0
want_services=0
python_set=run
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
    --services) want_services=1 ;;
    --scale) [ "$python_set" = test ] || python_set=scale ;;
    --test) python_set=test ;;
    *) echo "usage: scripts/setup.sh [--scale] [--test] [--browser] [--services]" >&2; exit 2 ;;
  esac
done

stamp_ok() {  # stamp_ok STAMPFILE INPUT...: true when the inputs are unchanged since the last run
  local stamp=$1; shift
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(cat "$@" | sha256sum)" ]
}
write_stamp() { local stamp=$1; shift; cat "$@" | sha256sum > "$stamp"; }
apt_install() {  # apt_install PACKAGE...: Debian packages, with sudo when not root
  local sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "setup: Python 3.11 or newer is needed (pyproject.toml requires-python); found $(python3 --version 2>&1)" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  python3 -m venv .venv
fi
# Each set holds the smaller ones (scripts/lock.sh), so one install of the largest asked for
# is enough; its stamp records what was installed. --require-hashes: every file pip installs,
# dependencies included, must match a hash in the lock.
lock="requirements/$python_set.txt"
if ! stamp_ok ".venv/.$python_set.stamp" "$lock"; then
  echo "setup: installing the locked Python set '$python_set' ($lock)" >&2
  .venv/bin/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r "$lock"
  write_stamp ".venv/.$python_set.stamp" "$lock"
fi

if ! stamp_ok node_modules/.lock.stamp package-lock.json; then
  echo "setup: npm ci (PyScript and Pyodide, exact versions)" >&2
  npm ci --no-audit --no-fund --loglevel=error
  write_stamp node_modules/.lock.stamp package-lock.json
fi

# Fewer bytes per boot (server/build/export.py `prepare`): the trimmed stdlib zip
# (server/site/stdlib_trim.py) and compressed copies of the big vendor files
# (server/build/compress.py: zstd for browsers, pyodide.asm.wasm.gz for hosts that compress
# nothing). Made once here, never per request; a no-op when current.
if ! command -v zstd >/dev/null; then
  echo "setup: installing Debian's zstd (the compressed copies serve.py sends)" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq zstd >/dev/null; } ||
    echo "setup: no zstd tool: serve.py will send gzip, ~2.5 MB more per cold load" >&2
fi
if ! .venv/bin/python -m server.build.export .; then
  echo "setup: could not prepare the compressed copies; the site is served without them" >&2
fi

# Pyodide memory snapshot for a fast boot (static/pyodide-loader.mjs), holding the stdlib
# and every py/ module that reaches no browser module, already imported. Built with Node,
# named by a hash of all it holds (server/site/snapshot_plan.py), so this rebuilds it exactly
# when py/ changed and is a no-op otherwise. Optional: the page boots without it (and
# never restores a snapshot of older code), so a failure here only warns.
if ! node scripts/make_snapshot.mjs; then
  echo "setup: could not build the Pyodide snapshot; the page will boot without it" >&2
fi

if [ "$want_browser" = 1 ] && [ ! -x /usr/bin/chromium ]; then
  echo "setup: installing Debian's Chromium" >&2
  apt_install chromium
fi

# The scale-out tests (tests/scale/, tests/services.py) start their own redis-server and
# postgres on free loopback ports and stop them at the end: they need the binaries only,
# never a server that is already running.
if [ "$want_services" = 1 ]; then
  services=()
  command -v redis-server >/dev/null || services+=(redis-server)
  compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || services+=(postgresql)
  # tests/server/test_deploy.py runs docs/DEPLOY.md's nginx configuration in front of serve.py.
  [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || services+=(nginx)
  if [ "${#services[@]}" -gt 0 ]; then
    echo "setup: installing Debian's ${services[*]}" >&2
    apt_install "${services[@]}"
  fi
fi
