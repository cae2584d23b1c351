#!/usr/bin/env bash
# Build the swarm console (console/: TypeScript + Preact, bundled by Vite) into
# app/http/console_assets/, which the Python package ships and `swarmdesk serve` serves at
# `/`. Installs the npm packages from console/package-lock.json (`npm ci`) when the lock
# changed, and builds only when a source changed. Usage: console.sh [check] (check: also
# type-check and run the unit tests).
set -euo pipefail
cd "$(dirname "$0")/../console"
if ! command -v npm >/dev/null; then
  echo "console: npm not found: the API works, but / shows how to build the console (Node.js 20+ and npm)" >&2
  exit 0
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
out=../app/http/console_assets
inputs=$(find src index.html package-lock.json tsconfig.json vite.config.ts -type f -print0 | sort -z | xargs -0 cat | sha256sum | cut -c1-16)
if [ ! -f "$out/.built-$inputs" ]; then
  npx --no-install vite build --logLevel warn
  touch "$out/.built-$inputs"
fi
if [ "${1:-}" = check ]; then
  echo "== console: tsc"; npx --no-install tsc --noEmit
  echo "== console: vitest"; npx --no-install vitest run --reporter=dot
fi
