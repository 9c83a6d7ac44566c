#!/usr/bin/env bash
# Run the whole test suite: set up what is missing (venv with the locked test set, npm ci, Chromium, Redis and
# PostgreSQL for the scale-out tests), then pytest.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh --test --browser --services
exec .venv/bin/python -m pytest "$@"
