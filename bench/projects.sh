#!/usr/bin/env bash
# Project search per second (issue 7) on the release build: 100 000 open
# projects (a seeded vocabulary, the same corpus every run) are written into
# a fresh database, then plaza serves GET /api/projects to 8 and then 32
# connections for 10 s each — full-text queries ranked by relevance, then
# filtered browsing. Each project's title and description hold a few of 64
# common words (what the queries ask for; each word is in about 9 % of the
# projects) among rare filler words, and three of 32 skills. The
# general rate limit is raised so the limiter does not answer instead.
# Loopback only; stops itself.
#
#   bench/projects.sh                                  # SQLite
#   PLAZA_DATABASE_URL=postgres://…/plaza_bench_search bench/projects.sh
source "$(dirname "$0")/lib.sh"

mkdir -p "$work/data"
PLAZA_LOG_LEVEL=warn "$bench" seed-projects --data-dir "$work/data" --projects "${PROJECTS:-100000}"
start_plaza 18184 PLAZA_RATE_LIMIT_GENERAL=100000000/1m
echo "cores: $(nproc)"
for c in 8 32; do
  echo "$c in flight:"
  "$bench" search "$base" --connections "$c" --seconds 10
done
echo "RSS after: $("$bench" rss "$pid") MiB"
