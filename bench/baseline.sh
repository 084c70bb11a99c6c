#!/usr/bin/env bash
# Baseline figures for the foundation, on the release build:
# start-up time to a healthy /health, idle memory, and /health and /ready
# throughput with 64 requests in flight. Traffic stays on loopback; the
# script stops everything it started.
#
#   bench/baseline.sh            # embedded: SQLite, in-process ports
#   PLAZA_DATABASE_URL=postgres://… PLAZA_REDIS_URL=redis://… bench/baseline.sh
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -p plaza -p plaza-bench >/dev/null
plaza=$PWD/target/release/plaza
bench=$PWD/target/release/plaza-bench
work=$(mktemp -d)
port=18181
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

cd "$work"
started=$(date +%s%N)
PLAZA_LOG_FILES=false PLAZA_LOG_LEVEL=warn \
  "$plaza" serve --host 127.0.0.1 --port "$port" >"$work/out.log" 2>&1 &
pid=$!
until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do sleep 0.01; done
ready_ms=$(( ($(date +%s%N) - started) / 1000000 ))

echo "binary: $(du -h "$plaza" | cut -f1)"
echo "start-up to a healthy /health (migrations included): ${ready_ms} ms"
echo "idle RSS: $("$bench" rss "$pid") MiB"
for path in /health /ready; do
  echo "GET $path, 64 in flight, 10s: $("$bench" load "http://127.0.0.1:$port$path" --connections 64 --seconds 10)"
  echo "RSS after: $("$bench" rss "$pid") MiB"
done
