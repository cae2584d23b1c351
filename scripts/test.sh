#!/usr/bin/env bash
# Set up and run the whole test suite: lint, types, then pytest on SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh dev
# The real OpenID provider the identity tests run against (tests/oidc_provider.py).
npm ci --prefix tests/oidc --no-audit --no-fund --loglevel=error

# PostgreSQL: start the local server if it is not answering (these machines have one).
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
fi
if [ "${CI:-}" = true ] && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "PostgreSQL is not reachable on 127.0.0.1:5432 and CI=true: refusing to skip its tests" >&2
  exit 1
fi

# The official AsyncAPI parser (npm registry only), run by tests/e2e/test_contracts.py.
lock=tools/asyncapi/package-lock.json
if [ ! -f tools/asyncapi/node_modules/.package-lock.json ] || [ "$lock" -nt tools/asyncapi/node_modules/.package-lock.json ]; then
  npm ci --prefix tools/asyncapi --no-audit --no-fund --ignore-scripts
fi

# The console's browser tests drive Debian's Chromium (no browser download, ever).
if ! command -v chromium >/dev/null; then
  apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
fi
echo "== console"; bash scripts/console.sh check
# two commands, not `a && b`: under `set -e` a failure before `&&` does not stop the script
echo "== ruff"; .venv/bin/ruff check .; .venv/bin/ruff format --check .
echo "== mypy"; .venv/bin/mypy
echo "== pytest"; exec .venv/bin/pytest -q -p no:cacheprovider "$@"
