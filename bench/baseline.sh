#!/usr/bin/env bash
# Baseline figures for the foundation, on the release build:
# start-up time to a healthy /health, idle memory, and /health and /ready
# throughput with 64 requests in flight. Traffic stays on loopback; the
# script stops everything it started.
#
#   bench/baseline.sh            # embedded: SQLite, in-process ports
#   PLAZA_DATABASE_URL=postgres://… PLAZA_REDIS_URL=redis://… bench/baseline.sh
source "$(dirname "$0")/lib.sh"

started=$(date +%s%N)
start_plaza 18181
ready_ms=$(( ($(date +%s%N) - started) / 1000000 ))

echo "binary: $(du -h "$plaza" | cut -f1)"
echo "start-up to a healthy /health (migrations included): ${ready_ms} ms"
echo "idle RSS: $("$bench" rss "$pid") MiB"
for path in /health /ready; do
  echo "GET $path, 64 in flight, 10s: $("$bench" load "$base$path" --connections 64 --seconds 10)"
  echo "RSS after: $("$bench" rss "$pid") MiB"
done
