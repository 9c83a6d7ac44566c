#!/usr/bin/env bash
# Run the whole test suite: set up what is missing (venv, npm ci, Chromium), then pytest.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh --browser
exec .venv/bin/python -m pytest "$@"
