#!/usr/bin/env bash
# Sanitizer runs (CI): ASan+UBSan over the whole test suite (build-asan), TSan over the actor and broker
# tests, multi-process ones included (build-tsan).
#
#   scripts/sanitize.sh [address|thread|all]      (default: all)
#
# Any report fails the run, also one from a child process (the `pice serve` nodes that tests start, whose
# stderr goes to files the tests delete): every sanitizer writes its reports into a log directory, which
# must be empty at the end. UBSan aborts on the first error (-fno-sanitize-recover, set by CMake).
# Both builds are optimised at -O1 with line tables only (-g1): a Debug ASan build is too slow for the
# multi-process tests, and -O2 -g compiles about twice as slowly (measured on actors/scheduler.cpp and
# actors/http/http_session.cpp under ASan: 104 s and 120 s against 59 s and 50 s), which matters in CI.
# Prints the wall time of each part.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-all}
case "$mode" in
  address | thread | all) ;;
  *) echo "usage: $0 [address|thread|all]" >&2; exit 2 ;;
esac

jobs=$(nproc)
configure_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" -DPICE_WERROR=ON
                -DPICE_BUILD_BENCH=OFF)
if command -v ccache >/dev/null 2>&1; then configure_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi

scripts/setup.sh

# sanitizer_part NAME SANITIZER BUILD_DIR CTEST_REGEX [TARGET...]: builds (all targets when none is
# named), runs ctest, and fails on a failed test or on any sanitizer report.
sanitizer_part() {
  local name=$1 sanitizer=$2 dir=$3 regex=$4
  shift 4
  local start=$SECONDS
  echo "sanitize: $name: building in $dir"
  # `|| return`: errexit does not apply inside a function called as `part || failed=1`.
  cmake -S . -B "$dir" "${configure_args[@]}" -DPICE_SANITIZE="$sanitizer" >/dev/null || return 1
  local targets=()
  [ $# -gt 0 ] && targets=(--target "$@")
  # Bash's `time` reports the CPU time of the children too: CPU / cores estimates a quiet machine's
  # wall time when this one is shared.
  local TIMEFORMAT="sanitize: $name: build: wall %R s, user %U s, sys %S s"
  time cmake --build "$dir" -j "$jobs" "${targets[@]}" || return 1
  local built=$SECONDS

  local logs
  logs=$(realpath "$dir")/sanitizer-reports
  rm -rf "$logs"
  mkdir -p "$logs"
  # halt_on_error is ASan's and TSan's default; for UBSan it backs up -fno-sanitize-recover.
  export ASAN_OPTIONS="log_path=$logs/asan:detect_leaks=1:strict_init_order=1:detect_stack_use_after_return=0"
  export UBSAN_OPTIONS="log_path=$logs/ubsan:print_stacktrace=1:halt_on_error=1"
  # TSan also reads __tsan_default_options (cmake/tsan_default_options.cpp); these add to those.
  export TSAN_OPTIONS="log_path=$logs/tsan:halt_on_error=1:second_deadlock_stack=1"

  local status=0
  local ctest_args=(--output-on-failure -j "$jobs" --timeout 900)
  [ -n "$regex" ] && ctest_args+=(-R "$regex")
  TIMEFORMAT="sanitize: $name: tests: wall %R s, user %U s, sys %S s"
  time (cd "$dir" && ctest "${ctest_args[@]}") || status=$?
  unset ASAN_OPTIONS UBSAN_OPTIONS TSAN_OPTIONS

  local reports
  reports=$(find "$logs" -type f | sort) || return 1
  if [ -n "$reports" ]; then
    echo "sanitize: $name: sanitizer reports:" >&2
    for f in $reports; do
      echo "==== $f" >&2
      cat "$f" >&2
    done
    status=1
  fi
  echo "sanitize: $name: build $((built - start)) s, tests $((SECONDS - built)) s, status $status"
  return $status
}

failed=0
if [ "$mode" = address ] || [ "$mode" = all ]; then
  sanitizer_part "ASan+UBSan, every test" address build-asan "" || failed=1
fi
if [ "$mode" = thread ] || [ "$mode" = all ]; then
  sanitizer_part "TSan, actors and brokers tests" thread build-tsan '^(actors|brokers)\.' \
    pice pice_actors_tests pice_brokers_tests || failed=1
fi
echo "sanitize: total $SECONDS s"
exit $failed
