#!/usr/bin/env bash
# Job queue throughput (issue 5): plaza-bench runs plaza's own store and
# runner in process (release build) on a fresh SQLite directory, or on the
# PostgreSQL that PLAZA_DATABASE_URL names; no-op jobs are enqueued in
# batches while the workers run them, each measuring its wait from enqueue
# to start. First as fast as jobs can be enqueued (throughput; the waits are
# then the backlog), then preloaded (all enqueued before the workers start:
# the run rate alone), then paced at each of JOB_RATES jobs/s in transactions
# of 10 (enqueue-to-start latency at a rate the queue sustains).
#
#   bench/jobs.sh
#   PLAZA_DATABASE_URL=postgres://… bench/jobs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p plaza-bench >/dev/null
# On PostgreSQL every run gets the database afresh: this machine's server
# runs with autovacuum off, so earlier runs' dead rows would stay in the
# queue's indexes and slow the next.
fresh() {
  case "${PLAZA_DATABASE_URL:-}" in
    postgres*)
      local db="${PLAZA_DATABASE_URL##*/}" admin="${PLAZA_DATABASE_URL%/*}/postgres"
      db="${db%%\?*}"
      psql "$admin" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" ;;
  esac
}
for workers in ${JOB_WORKERS:-8 32 64}; do
  fresh
  PLAZA_LOG_LEVEL=warn target/release/plaza-bench jobs --jobs "${JOBS:-20000}" --workers "$workers"
done
for workers in ${JOB_WORKERS:-8 32 64}; do
  fresh
  PLAZA_LOG_LEVEL=warn target/release/plaza-bench jobs --jobs "${JOBS:-20000}" --workers "$workers" --preload
done
for rate in ${JOB_RATES:-500 1000 2000}; do
  fresh
  PLAZA_LOG_LEVEL=warn target/release/plaza-bench jobs --jobs "$((rate * 10))" --workers 32 --batch 10 --rate "$rate"
done
