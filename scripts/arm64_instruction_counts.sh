#!/usr/bin/env bash
# Instructions per block that each ARM64 dot kernel executes, counted under qemu-user (speed cannot be
# measured on an x86-64 machine; instruction counts can): qemu -singlestep -d exec,nochain logs one
# line per guest instruction, and a run with 2 calls minus a run with 1 call is one call's count.
# Needs the cross build (scripts/cross_test.sh, or at least its dot_instruction_count target).
#
#   scripts/arm64_instruction_counts.sh            # prints a markdown table
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build-arm64}
program="$build_dir/bench/dot_instruction_count"
[ -x "$program" ] || { echo "arm64_instruction_counts: $program not built (cmake --build $build_dir --target dot_instruction_count)" >&2; exit 1; }
n=4096
qemu=(qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu max)

count() {   # type path calls
  "${qemu[@]}" -singlestep -d exec,nochain -D /dev/stdout "$program" "$1" "$2" "$n" "$3" | grep -c '^Trace'
}

echo "| type | values per block | portable | neon | neon_dotprod | portable / neon | portable / neon_dotprod |"
echo "|---|---|---|---|---|---|---|"
for type in q8_0 q4_0 q4_k q6_k f32 f16 bf16; do
  case $type in q4_k|q6_k) block=256 ;; *) block=32 ;; esac
  declare -A per_block=()
  for path in portable neon neon_dotprod; do
    if [[ $type == f* || $type == bf16 ]] && [ $path = neon_dotprod ]; then per_block[$path]=-; continue; fi
    one=$(count $type $path 1)
    two=$(count $type $path 2)
    per_block[$path]=$(awk -v d=$((two - one)) -v b=$((n / block)) 'BEGIN { printf "%.1f", d / b }')
  done
  ratio() { [ "$2" = - ] && echo - || awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
  echo "| $type | $block | ${per_block[portable]} | ${per_block[neon]} | ${per_block[neon_dotprod]} |" \
       "$(ratio "${per_block[portable]}" "${per_block[neon]}") | $(ratio "${per_block[portable]}" "${per_block[neon_dotprod]}") |"
  unset per_block
done
