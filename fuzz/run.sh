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
# cargo-fuzz needs nightly flags (sanitizers); stable accepts them with RUSTC_BOOTSTRAP.
export RUSTC_BOOTSTRAP=1
for target in "${targets[@]}"; do
  echo "fuzz: $target for ${seconds}s"
  cargo fuzz run "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=262144 \
    -print_final_stats=1 2>&1 | grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|==|SUMMARY|INFO: (Running|Loaded))|panicked|ERROR|Test unit written" || true
  # grep swallows the exit status: an artifact is the sign of a failure.
  if compgen -G "artifacts/$target/*" >/dev/null; then
    echo "fuzz: $target found an input that fails: $(ls artifacts/$target)" >&2
    exit 1
  fi
done
