#!/usr/bin/env bash
# Project search per second (issue 7) on the release build: 100 000 open
# projects (a seeded vocabulary, the same corpus every run) are written into
# a fresh database, then plaza serves GET /api/projects to 32 connections for
# 10 s — full-text queries ranked by relevance, then filtered browsing. The
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
"$bench" search "$base" --connections 32 --seconds 10
echo "RSS after: $("$bench" rss "$pid") MiB"
