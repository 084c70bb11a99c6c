#!/usr/bin/env bash
# GET /api/user/stats per second from the cache (issue 6) on the release
# build: 100 accounts finish three sessions each, then 32 connections read
# their accounts' stats for 10 s. Rate limits are raised so the limiter does
# not answer instead of the code under test. Loopback only; stops itself.
# Then the analytics roll-up's time for a million sessions.
#
#   bench/meditation.sh            # embedded: SQLite, in-process cache
#   PLAZA_DATABASE_URL=postgres://… PLAZA_REDIS_URL=redis://… bench/meditation.sh
source "$(dirname "$0")/lib.sh"

start_plaza 18183 PLAZA_RATE_LIMIT_AUTH=100000000/1m PLAZA_RATE_LIMIT_GENERAL=100000000/1m

echo "cores: $(nproc)"
for c in 8 32; do
  echo "stats, $c in flight, 10s: $("$bench" stats "$base" --connections "$c" --seconds 10)"
done
echo "RSS after: $("$bench" rss "$pid") MiB"
# The roll-up job over a million finished sessions, in process, on the same
# database (SQLite in a fresh directory unless PLAZA_DATABASE_URL is set).
PLAZA_LOG_LEVEL=warn "$bench" rollup --sessions "${SESSIONS:-1000000}"
