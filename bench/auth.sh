#!/usr/bin/env bash
# Sign-in and refresh throughput on the release build (issue 3): argon2id
# with OWASP parameters bounds sign-ins; refreshes are a database round trip
# and a signature. One account per connection; the auth rate limit is
# raised so the limiter does not answer instead of the code under test.
# Traffic stays on loopback; the script stops everything it started.
#
#   bench/auth.sh            # embedded: SQLite, in-process ports
#   PLAZA_DATABASE_URL=postgres://… PLAZA_REDIS_URL=redis://… bench/auth.sh
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -p plaza -p plaza-bench >/dev/null
plaza=$PWD/target/release/plaza
bench=$PWD/target/release/plaza-bench
work=$(mktemp -d)
port=18182
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

cd "$work"
PLAZA_LOG_FILES=false PLAZA_LOG_LEVEL=warn PLAZA_RATE_LIMIT_AUTH=100000000/1m \
  PLAZA_RATE_LIMIT_GENERAL=100000000/1m \
  "$plaza" serve --host 127.0.0.1 --port "$port" >"$work/out.log" 2>&1 &
pid=$!
until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do sleep 0.05; done

echo "cores: $(nproc)"
echo "RSS idle: $("$bench" rss "$pid") MiB"
for c in 4 16; do
  echo "login,   $c in flight, 10s: $("$bench" auth "http://127.0.0.1:$port" --mode login --connections "$c" --seconds 10)"
done
echo "RSS after logins: $("$bench" rss "$pid") MiB"
for c in 16 64; do
  echo "refresh, $c in flight, 10s: $("$bench" auth "http://127.0.0.1:$port" --mode refresh --connections "$c" --seconds 10)"
done
echo "RSS after refreshes: $("$bench" rss "$pid") MiB"
