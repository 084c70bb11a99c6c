#!/usr/bin/env bash
# Event export throughput (issue 5): plaza-bench records EVENTS events in
# the outbox, then starts plaza's exporter (release build, in process) and
# times it until the broker has confirmed the last one — RabbitMQ (a durable
# queue bound to the exchange, persistent messages, publisher confirms) and
# NATS JetStream (file storage). SQLite by default; PLAZA_DATABASE_URL may
# name a PostgreSQL database.
#
#   bench/export.sh
#   PLAZA_DATABASE_URL=postgres://… bench/export.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p plaza-bench >/dev/null
for url in "${RABBITMQ_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}" "${NATS_URL:-nats://127.0.0.1:4222}"; do
  PLAZA_LOG_LEVEL=warn target/release/plaza-bench export --events "${EVENTS:-50000}" --url "$url"
done
