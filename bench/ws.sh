#!/usr/bin/env bash
# WebSocket benchmark (issue 4) on the release build: server memory per idle
# authenticated socket, fan-out to one 1,000-member group, and direct
# messages between pairs. The load generator (plaza-bench) runs on the same
# machine and reads every frame; latency is from the send to the receipt at
# each member on one clock. Traffic stays on loopback (sockets come from
# 127.0.0.1, .2, … to have enough ports); the script stops what it started.
#
#   bench/ws.sh                       # embedded: SQLite, in-process ports
#   PLAZA_DATABASE_URL=postgres://… PLAZA_REDIS_URL=redis://… bench/ws.sh
#   WS_IDLE=10000,19000 WS_RATES=10,100,200 WS_DM_RATES=1000,2000 bench/ws.sh
source "$(dirname "$0")/lib.sh"

start_plaza 18183 PLAZA_RATE_LIMIT_AUTH=100000000/1m PLAZA_RATE_LIMIT_GENERAL=100000000/1m

echo "cores: $(nproc); open files per process: $(ulimit -n)"
echo "database: ${PLAZA_DATABASE_URL:-embedded SQLite}; redis: ${PLAZA_REDIS_URL:-none}"
if [ "${WS_IDLE:-10000,19000}" != none ]; then
  "$bench" ws-idle "$base" --pid "$pid" --sockets "${WS_IDLE:-10000,19000}" --users 100
fi
if [ "${WS_RATES:-10,100,200,300}" != none ]; then
  "$bench" ws-fanout "$base" --members 1000 --rates "${WS_RATES:-10,100,200,300}" --seconds 10
fi
if [ "${WS_DM_RATES:-500,1000,2000}" != none ]; then
  "$bench" ws-dm "$base" --pairs 100 --rates "${WS_DM_RATES:-500,1000,2000}" --seconds 10
fi
echo "RSS at the end: $("$bench" rss "$pid") MiB"
