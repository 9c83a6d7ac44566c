#!/usr/bin/env bash
# Start the app: set up what is missing, then serve the site + backend with demo data.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
exec .venv/bin/python serve.py --demo "$@"
