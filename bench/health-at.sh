#!/usr/bin/env bash
# `/health` throughput of plaza as it was at each given commit, driven by
# one load generator (plaza-bench from the checkout this script is in), so
# only the server changes between rows. Each commit is built in release
# in a worktree of its own target directory (once: the binary is kept);
# then, round-robin so drift in the machine touches every commit alike,
# three 10 s rounds with 64 in flight each. Traffic stays on loopback.
# Besides throughput, each row has the server's own CPU time per request
# (user + system, from /proc), which drifts far less with what else the
# machine is doing than req/s does. Measure on an idle machine all the
# same: the load generator shares its two cores.
#
#   bench/health-at.sh 56b4e20 bc2ade5 HEAD
#   HEALTH_AT_ROUNDS=8 HEALTH_AT_SECONDS=5 bench/health-at.sh …
#   HEALTH_AT_BUILD_ONLY=1 bench/health-at.sh …   # build now, measure later
#
# It ends with each commit's median req/s and CPU per request, and its
# median ratio to the first commit's within the same round.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# Names such as HEAD become hashes, so a kept binary is never a stale one.
set -- $(for c in "$@"; do git rev-parse --short=7 "$c^{commit}"; done)
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

cpu_ticks() { # pid → its user + system time in clock ticks
  awk '{print $14 + $15}' "/proc/$1/stat"
}

measure() { # commit
  local commit=$1
  work=$(mktemp -d)
  (cd "$work" && exec env PLAZA_LOG_FILES=false PLAZA_LOG_LEVEL=warn \
    "$target/plaza-$commit" serve --host 127.0.0.1 --port "$port" >"$work/out.log" 2>&1) &
  pid=$!
  until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do sleep 0.01; done
  local before after line requests
  before=$(cpu_ticks "$pid")
  line=$("$bench" load "http://127.0.0.1:$port/health" --connections 64 --seconds "$seconds")
  after=$(cpu_ticks "$pid")
  # The warm-up second is served but not counted: charge its requests too.
  requests=${line#requests=}; requests=${requests%% *}
  echo "$commit round $2: $line server_cpu_us_per_req=$(awk -v t=$((after - before)) \
    -v hz="$(getconf CLK_TCK)" -v n="$requests" -v s="$seconds" \
    'BEGIN {printf "%.1f", t * 1e6 / hz / (n * (s + 1) / s)}')"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  rm -rf "$work"; work=
}

rounds=${HEALTH_AT_ROUNDS:-3}
seconds=${HEALTH_AT_SECONDS:-10}
log=$(mktemp)
for round in $(seq "$rounds"); do
  for commit in "$@"; do
    measure "$commit" "$round" | tee -a "$log"
  done
done
python3 - "$log" "$@" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"(\S+) round (\d+): .*rps=(\d+) .*server_cpu_us_per_req=([\d.]+)", line)
    if m:
        rows[(m[1], int(m[2]))] = (int(m[3]), float(m[4]))
first = sys.argv[2]
for commit in sys.argv[2:]:
    mine = {r: v for (c, r), v in rows.items() if c == commit}
    rps = statistics.median(v[0] for v in mine.values())
    cpu = statistics.median(v[1] for v in mine.values())
    vs = [v[0] / rows[(first, r)][0] for r, v in mine.items()]
    cvs = [v[1] / rows[(first, r)][1] for r, v in mine.items()]
    print(f"{commit}: median {rps:.0f} req/s ({statistics.median(vs):.2f}x {first}), "
          f"{cpu:.1f} us CPU/request ({statistics.median(cvs):.2f}x)")
PY
rm -f "$log"
