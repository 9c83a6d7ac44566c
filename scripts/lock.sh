#!/usr/bin/env bash
# Regenerate requirements/*.txt (exact versions + hashes) from pyproject.toml. Run it after
# changing a dependency there; commit the result. Needs pip-tools, installed into a throw-away
# venv (.lockvenv), never into the app's .venv. Versions already locked are kept unless
# pyproject.toml no longer admits them (pass --upgrade to take the newest the ranges allow).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .lockvenv/bin/pip-compile ]; then
  python3 -m venv .lockvenv
  .lockvenv/bin/pip install --quiet --disable-pip-version-check pip-tools==7.7.0
fi
compile() {  # compile OUTPUT [--extra NAME]...
  local out=$1; shift
  .lockvenv/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
    --no-emit-find-links --resolver=backtracking "$@" --output-file "$out" pyproject.toml
}
compile requirements/run.txt "$@"
# Each larger set is compiled against the smaller one, so a package has one version in all three.
compile requirements/scale.txt --extra scale -c requirements/run.txt "$@"
compile requirements/test.txt --extra scale --extra test -c requirements/scale.txt "$@"
