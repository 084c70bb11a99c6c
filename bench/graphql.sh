#!/usr/bin/env bash
# GraphQL benchmark (issue 16) on the release build, against REST and /ws
# in the same run:
#  1. `sendMessage` over GraphQL vs `POST /api/chats/{id}/messages` at the
#     same open-loop rates, alternating rounds (medians of GRAPHQL_ROUNDS):
#     latency, and the server's CPU per send from /proc (the overhead).
#  2. fan-out to one 1,000-member group: every receiver on /ws, then (on a
#     fresh server) every receiver subscribed to `messageAdded` over
#     graphql-transport-ws; senders use /ws both times.
# Traffic stays on loopback; the script stops what it started.
#
#   bench/graphql.sh
#   GRAPHQL_RATES=200,500 GRAPHQL_FANOUT_RATES=100,200 bench/graphql.sh
source "$(dirname "$0")/lib.sh"

limits=(PLAZA_RATE_LIMIT_AUTH=100000000/1m PLAZA_RATE_LIMIT_GENERAL=100000000/1m)
echo "cores: $(nproc); database: ${PLAZA_DATABASE_URL:-embedded SQLite}"

start_plaza 18184 "${limits[@]}"
"$bench" graphql-send "$base" --pid "$pid" --pairs 50 --rates "${GRAPHQL_RATES:-200,500}" \
  --seconds "${GRAPHQL_SECONDS:-10}" --rounds "${GRAPHQL_ROUNDS:-3}"
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; rm -rf "${work:?}"/*

for via in ws graphql; do
  start_plaza 18185 "${limits[@]}"
  flag=; [ "$via" = graphql ] && flag=--graphql
  "$bench" ws-fanout "$base" --members 1000 --rates "${GRAPHQL_FANOUT_RATES:-100,200}" --seconds 10 $flag
  echo "RSS at the end ($via): $("$bench" rss "$pid") MiB"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; rm -rf "${work:?}"/*
done
