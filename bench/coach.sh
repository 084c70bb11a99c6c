#!/usr/bin/env bash
# The AI coach end to end (issue 18) on the release build: the bench plays
# an OpenAI-compatible model that answers each completion after 200 ms and
# keeps 50, then 200, POST /api/ai/enhanced-chat requests in flight for 10 s
# each (a tenth high, six tenths normal, three tenths low priority). Every
# answer is inline: queued on `ai`, its job run, the model called, the
# answer stored. The `ai` queue gets AI_SLOTS workers (64, the most a queue takes:
# model calls are waits, not work), so at 200 in flight requests queue
# and the priorities show in the queue wait. Loopback only; stops itself.
#
#   bench/coach.sh                                 # embedded: SQLite
#   PLAZA_DATABASE_URL=postgres://… bench/coach.sh  # PostgreSQL
source "$(dirname "$0")/lib.sh"

model_port=18196
start_plaza 18195 PLAZA_RATE_LIMIT_AUTH=100000000/1m PLAZA_RATE_LIMIT_GENERAL=100000000/1m \
  PLAZA_RATE_LIMIT_AI=100000000/1m PLAZA_AI_PROVIDER=openai PLAZA_AI_MODEL=bench-model \
  PLAZA_AI_BASE_URL=http://127.0.0.1:$model_port/v1 PLAZA_JOBS_QUEUE_CONCURRENCY="ai=${AI_SLOTS:-64}"

echo "cores: $(nproc)  database: ${PLAZA_DATABASE_URL:-sqlite (embedded)}  ai slots: ${AI_SLOTS:-64}"
"$bench" coach "$base" --model-port "$model_port" --model-ms "${MODEL_MS:-200}" \
  --in-flight "${IN_FLIGHT:-50,200}" --seconds "${SECONDS_PER_LEVEL:-10}" --pid "$pid"
echo "RSS after: $("$bench" rss "$pid") MiB"
