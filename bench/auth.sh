#!/usr/bin/env bash
# Sign-in and refresh throughput on the release build (issue 3): argon2id
# with OWASP parameters bounds sign-ins; refreshes are a database round trip
# and a signature. One account per connection; the auth rate limit is
# raised so the limiter does not answer instead of the code under test.
# Traffic stays on loopback; the script stops everything it started.
#
#   bench/auth.sh            # embedded: SQLite, in-process ports
#   PLAZA_DATABASE_URL=postgres://… PLAZA_REDIS_URL=redis://… bench/auth.sh
source "$(dirname "$0")/lib.sh"

start_plaza 18182 PLAZA_RATE_LIMIT_AUTH=100000000/1m PLAZA_RATE_LIMIT_GENERAL=100000000/1m

echo "cores: $(nproc)"
echo "RSS idle: $("$bench" rss "$pid") MiB"
for c in 4 16; do
  echo "login,   $c in flight, 10s: $("$bench" auth "$base" --mode login --connections "$c" --seconds 10)"
done
echo "RSS after logins: $("$bench" rss "$pid") MiB"
for c in 16 64; do
  echo "refresh, $c in flight, 10s: $("$bench" auth "$base" --mode refresh --connections "$c" --seconds 10)"
done
echo "RSS after refreshes: $("$bench" rss "$pid") MiB"
