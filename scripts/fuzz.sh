#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang into ${BUILD_DIR:-build-fuzz} and runs each for
# SECONDS_PER_TARGET seconds (default 60), one after the other, on a copy of its seed corpus
# (tests/fuzz/corpus/<target>): the repository is never written. Exits non-zero when any target finds a
# crash, leak, timeout or failed property, printing the reproducer's path; rerun one with
#   build-fuzz/tests/fuzz/<target>_fuzz <reproducer>
# FUZZ_TARGETS="messages gguf" limits the run to those targets.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
  echo "fuzz: error: SECONDS_PER_TARGET must be a positive whole number, got '$seconds'" >&2
  exit 2
fi
build_dir=${BUILD_DIR:-build-fuzz}
targets=(${FUZZ_TARGETS:-messages gguf config http_body tokenizer})

scripts/setup.sh --fuzz
compiler=$(command -v clang++-14 || command -v clang++ || true)
if [ -z "$compiler" ]; then
  echo "fuzz: error: clang++ not found after scripts/setup.sh --fuzz" >&2
  exit 1
fi
launcher=()
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$compiler" -DPICE_FUZZ=ON \
  -DPICE_BUILD_TESTS=OFF -DPICE_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
cmake --build "$build_dir" --target pice_fuzz -j "$(nproc)"

# Crashes are kept in the build tree, where CI can collect them; the working corpora are thrown away.
artifacts="$build_dir/fuzz-artifacts"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$artifacts"

failed=()
for target in "${targets[@]}"; do
  binary="$build_dir/tests/fuzz/${target}_fuzz"
  seeds="tests/fuzz/corpus/$target"
  if [ ! -x "$binary" ] || [ ! -d "$seeds" ]; then
    echo "fuzz: error: no target '$target' ($binary) or no corpus ($seeds)" >&2
    exit 2
  fi
  mkdir -p "$work/$target" "$artifacts/$target"
  cp -r "$seeds/." "$work/$target/"
  log="$artifacts/$target/last-run.log"
  echo "fuzz: $target for ${seconds}s (log: $log)"
  # -timeout: one input running longer than 10 s is a hang; -rss_limit_mb bounds memory per input.
  status=0
  "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/$target/" "$work/$target" >"$log" 2>&1 || status=$?
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 || true)
  echo "fuzz: $target: ${executions:-?} executions, ${rate:-?}/s, ${coverage:-cov: ?}, exit $status"
  if [ "$status" -ne 0 ]; then
    grep -E 'ERROR: |PROPERTY FAILED|SUMMARY: ' "$log" | head -n 5 >&2 || true
    grep -o "Test unit written to .*" "$log" | sed 's/^/fuzz: reproducer: /' >&2 || true
    failed+=("$target")
  fi
done

if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (reproducers and logs in $artifacts)" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${seconds}s each without a finding"
