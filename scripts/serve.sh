#!/usr/bin/env bash
# Set up and run Swarmdesk on the embedded SQLite default (http://127.0.0.1:8000/docs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/swarmdesk migrate
exec .venv/bin/swarmdesk serve "$@"
