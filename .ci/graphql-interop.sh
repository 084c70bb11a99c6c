#!/usr/bin/env bash
# Interoperability: npm's graphql-ws and graphql-request (clients nobody
# here wrote) against a fresh plaza. Usage: .ci/graphql-interop.sh PLAZA_BINARY
set -euo pipefail
binary=$(realpath "$1")
cd "$(dirname "$0")/graphql-interop"
command -v node >/dev/null || { echo "node is not installed (Debian: nodejs npm)"; exit 1; }
npm ci --no-audit --no-fund --loglevel=error
work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$work" && exec env PLAZA_LOG_FILES=false PLAZA_LOG_LEVEL=warn "$binary" serve --host 127.0.0.1 --port "$port" >"$work/out.log" 2>&1) &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.05; done
if ! timeout 60 node interop.mjs "http://127.0.0.1:$port"; then
  echo "--- plaza's log"; cat "$work/out.log"
  exit 1
fi
