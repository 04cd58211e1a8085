#!/usr/bin/env bash
# Runs each fuzz target for SECONDS (default 60) on a corpus seeded by seed.py. A crash, an
# input slower than 10 s or one taking over 2 GB fails the run and leaves the input in
# fuzz/artifacts/<target>/: save it in fuzz/regressions/<target>/ once fixed, where
# tests/testsuite/fuzz_regressions.rs replays it on every `cargo test`.
#
#   cargo install cargo-fuzz --locked
#   fuzz/run.sh 60 [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(ipa info_plist profile cgbi notes config)
python3 seed.py
# cargo-fuzz needs nightly flags; stable accepts them with RUSTC_BOOTSTRAP. The targets run
# without AddressSanitizer: relsite's own code is safe Rust, and uninstrumented runs are four
# to five times faster, so more inputs are tried and a 10 s input is a real hang.
export RUSTC_BOOTSTRAP=1
cargo fuzz build --sanitizer none
mkdir -p logs
for target in "${targets[@]}"; do
  echo "fuzz: $target for ${seconds}s"
  log="logs/$target.log"
  status=0
  cargo fuzz run --sanitizer none "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=262144 \
    -print_final_stats=1 >"$log" 2>&1 || status=$?
  grep -E "^stat::(number_of_executed_units|peak_rss_mb)" "$log" || true
  if [ "$status" -ne 0 ] || compgen -G "artifacts/$target/*" >/dev/null; then
    tail -n 40 "$log" >&2
    echo "fuzz: $target failed (exit $status); inputs: $(ls "artifacts/$target" 2>/dev/null)" >&2
    exit 1
  fi
done
