#!/usr/bin/env bash
# Installs the test suite's npm packages (the official dicoogle-client, pinned by the lock file).
set -euo pipefail
cd "$(dirname "$0")/../tests/integration/js"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules
fi
