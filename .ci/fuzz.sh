#!/usr/bin/env bash
# Runs plaza's cargo-fuzz targets (fuzz/README.md): each replays its
# regressions, then fuzzes for FUZZ_SECONDS (default 30). A crash fails.
#   .ci/fuzz.sh [target…]
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-30}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(ws_frame config image)
target_dir="${CARGO_TARGET_DIR:-$PWD/target}/fuzz"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz from crates.io (once per machine)"
  cargo install cargo-fuzz --locked
fi
rustup run nightly rustc --version >/dev/null || { echo "fuzzing needs the nightly toolchain" >&2; exit 1; }

for t in "${targets[@]}"; do
  echo "==> fuzz $t: regressions, then ${seconds}s"
  # A corpus of its own for this run; seeds and regressions are read only.
  mkdir -p "$work/$t"
  status=0
  cargo +nightly fuzz run --fuzz-dir fuzz --target-dir "$target_dir" \
    --sanitizer "${FUZZ_SANITIZER:-none}" "$t" \
    "$work/$t" "fuzz/seeds/$t" "fuzz/regressions/$t" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -timeout=10 \
    -print_final_stats=1 >"$work/$t.log" 2>&1 || status=$?
  grep -E 'stat::number_of_executed_units|stat::peak_rss_mb|cov: ' "$work/$t.log" | tail -n 3 || true
  if [ "$status" -ne 0 ]; then
    tail -n 60 "$work/$t.log" >&2
    echo "fuzz target $t failed (status $status); the input is in fuzz/artifacts/$t" >&2
    exit 1
  fi
done
