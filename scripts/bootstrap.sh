#!/usr/bin/env bash
# Create .venv (if missing) and install the project into it, every version pinned by
# constraints.txt; swarmdesk_consumer (clients/consumer) too. Usage: bootstrap.sh [dev]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
inputs=$(cat pyproject.toml clients/consumer/pyproject.toml constraints.txt | sha256sum | cut -c1-16)
stamp=.venv/.installed-$inputs-${1:-run}
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  if [ "${1:-}" = dev ]; then
    .venv/bin/python -m pip install -q -c constraints.txt -e '.[dev]' -e ./clients/consumer
  else
    .venv/bin/python -m pip install -q -c constraints.txt -e . -e ./clients/consumer
  fi
  touch "$stamp"
fi
# The console's built files (package data of app/http; see scripts/console.sh).
bash scripts/console.sh
