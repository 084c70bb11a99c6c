#!/usr/bin/env bash
# `/health` throughput of plaza as it was at each given commit, driven by
# one load generator (plaza-bench from the checkout this script is in), so
# only the server changes between rows. Each commit is built in release
# in a worktree of its own target directory (once: the binary is kept);
# then, round-robin so drift in the machine touches every commit alike,
# three 10 s rounds with 64 in flight each. Traffic stays on loopback.
# Measure on an idle machine: the load generator shares its two cores.
#
#   bench/health-at.sh 56b4e20 bc2ade5 HEAD
#   HEALTH_AT_BUILD_ONLY=1 bench/health-at.sh …   # build now, measure later
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cargo build --release -p plaza-bench >/dev/null
bench=$root/target/release/plaza-bench
tree=${HEALTH_AT_TREE:-/tmp/plaza-health-at}
target=${HEALTH_AT_TARGET:-/tmp/plaza-health-at-target}
[ -d "$tree" ] || git worktree add --detach "$tree" HEAD >/dev/null
port=18191
pid=
work=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; [ -n "$work" ] && rm -rf "$work"' EXIT

for commit in "$@"; do
  [ -x "$target/plaza-$commit" ] && continue
  (cd "$tree" && git checkout -q --detach "$commit" &&
    CARGO_TARGET_DIR=$target cargo build --release -p plaza >/dev/null 2>&1)
  cp "$target/release/plaza" "$target/plaza-$commit"
done
[ -n "${HEALTH_AT_BUILD_ONLY:-}" ] && exit 0

measure() { # commit
  local commit=$1
  work=$(mktemp -d)
  (cd "$work" && exec env PLAZA_LOG_FILES=false PLAZA_LOG_LEVEL=warn \
    "$target/plaza-$commit" serve --host 127.0.0.1 --port "$port" >"$work/out.log" 2>&1) &
  pid=$!
  until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do sleep 0.01; done
  echo "$commit round $2: $("$bench" load "http://127.0.0.1:$port/health" --connections 64 --seconds 10)"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  rm -rf "$work"; work=
}

for round in 1 2 3; do
  for commit in "$@"; do
    measure "$commit" "$round"
  done
done
