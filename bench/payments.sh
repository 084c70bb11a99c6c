#!/usr/bin/env bash
# Payments settled per second (issue 17) on the release build: the bench
# plays Stripe (a fake Checkout Session endpoint plaza calls), makes 5 000
# Stripe payments over the API, then delivers each one's signed
# checkout.session.completed webhook, 16 in flight. An answer comes after
# the unit of work committed — the event kept, the payment moved, the
# ledger entry, the transaction, the outbox event — so webhooks answered
# per second is payments settled per second. The wallets are read back to
# check each payment was credited once. Loopback only; stops itself.
#
#   bench/payments.sh                                 # embedded: SQLite
#   PLAZA_DATABASE_URL=postgres://… bench/payments.sh  # PostgreSQL
source "$(dirname "$0")/lib.sh"

stripe_port=18191
secret=whsec_bench_secret
start_plaza 18190 PLAZA_RATE_LIMIT_AUTH=100000000/1m PLAZA_RATE_LIMIT_GENERAL=100000000/1m \
  PLAZA_PAYMENTS_STRIPE_SECRET_KEY=sk_test_bench PLAZA_PAYMENTS_STRIPE_WEBHOOK_SECRET=$secret \
  PLAZA_PAYMENTS_STRIPE_API_URL=http://127.0.0.1:$stripe_port

echo "cores: $(nproc)  database: ${PLAZA_DATABASE_URL:-sqlite (embedded)}"
"$bench" payments "$base" --stripe-port "$stripe_port" --webhook-secret "$secret" \
  --payments "${PAYMENTS:-5000}" --connections "${CONNECTIONS:-16}"
echo "RSS after: $("$bench" rss "$pid") MiB"
