#!/usr/bin/env bash
# The web app in a real browser: Playwright (npm) drives Debian's Chromium
# against a fresh plaza. Usage: .ci/browser.sh PLAZA_BINARY
# Screenshots of every page go to target/screenshots/.
set -euo pipefail
binary=$(realpath "$1")
shift
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/web"
command -v node >/dev/null || { echo "node is not installed (Debian: nodejs npm)"; exit 1; }
if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || { echo "cannot install chromium"; exit 1; }
fi
npm ci --no-audit --no-fund --loglevel=error
work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export E2E_ADMIN_EMAIL=admin@example.com E2E_ADMIN_PASSWORD='console password 1'
echo "$E2E_ADMIN_PASSWORD" | (cd "$work" && "$binary" admin create-user --email "$E2E_ADMIN_EMAIL" \
  --username admin --role admin --password-stdin >/dev/null)
(cd "$work" && exec env PLAZA_LOG_FILES=false PLAZA_LOG_LEVEL=warn \
  PLAZA_RATE_LIMIT_AUTH=100000/1m PLAZA_RATE_LIMIT_GENERAL=100000/1m PLAZA_RATE_LIMIT_UPLOAD=1000/1m \
  PLAZA_RATE_LIMIT_AI=1000/1m "$binary" serve --host 127.0.0.1 --port "$port" >"$work/out.log" 2>&1) &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.05; done
mkdir -p "$root/target/screenshots"
export E2E_DB="$work/data/plaza.db"
if ! PLAZA_URL="http://127.0.0.1:$port" SCREENSHOTS="$root/target/screenshots" timeout 600 npx playwright test "$@"; then
  echo "--- plaza's log"; tail -50 "$work/out.log"
  exit 1
fi
