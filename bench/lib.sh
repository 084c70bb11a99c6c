# Shared by the bench/ scripts (source it): builds the release binaries,
# and `start_plaza PORT [VAR=value …]` starts plaza in a fresh directory on
# loopback, waits for /health and sets $pid, $work and $base. Everything it
# started is stopped and removed when the script exits.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo build --release -p plaza -p plaza-bench >/dev/null
plaza=$PWD/target/release/plaza
bench=$PWD/target/release/plaza-bench
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

start_plaza() {
  local port=$1
  shift
  (cd "$work" && exec env PLAZA_LOG_FILES=false PLAZA_LOG_LEVEL=warn "$@" \
    "$plaza" serve --host 127.0.0.1 --port "$port" >"$work/out.log" 2>&1) &
  pid=$!
  base="http://127.0.0.1:$port"
  until curl -sf "$base/health" >/dev/null; do
    kill -0 "$pid" 2>/dev/null || { echo "plaza did not start:" >&2; cat "$work/out.log" >&2; exit 1; }
    sleep 0.01
  done
}
