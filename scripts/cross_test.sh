#!/usr/bin/env bash
# Cross-builds PICE for ARM64 (aarch64-linux-gnu) and runs its tests under qemu-user.
#
#   scripts/cross_test.sh                 # install what is missing, build build-arm64, run every test
#   scripts/cross_test.sh -R '^kernels\.'  # extra arguments go to ctest
#
# Environment: BUILD_DIR (default build-arm64), QEMU_CPU (default qemu's "max", which has the
# dot-product extension; e.g. cortex-a53 for plain NEON), CROSS_TEST_JOBS (ctest -j, default nproc),
# CROSS_TARGETS (build only these targets; default everything).
#
# Debian packages: the arm64 toolchain, qemu-user and the :arm64 builds of the project's libraries,
# installed next to the amd64 ones (multiarch). libcaf-dev, libcaf-core0.17 and libcaf-io0.17 are not
# "Multi-Arch: same": installing their arm64 builds would remove the amd64 ones, so their arm64 .debs
# are fetched with apt-get download and unpacked inside the build directory instead.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build-arm64}
triplet=aarch64-linux-gnu

packages=(crossbuild-essential-arm64 qemu-user)
arm64_dev=(libzmq3-dev cppzmq-dev libmsgpack-cxx-dev libspdlog-dev libtomlplusplus-dev libpcre2-dev libboost-dev
           libgtest-dev libgmock-dev libbenchmark-dev)
for p in "${arm64_dev[@]}"; do packages+=("$p:arm64"); done
caf_debs=(libcaf-dev libcaf-core0.17 libcaf-io0.17)

sudo_cmd=()
need_root() {
  [ "$(id -u)" -eq 0 ] && return 0
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo_cmd=(sudo -n)
  else
    echo "cross_test: error: not root and no password-less sudo; needed to $1" >&2
    exit 1
  fi
}

# The native packages (headers of the architecture-independent libraries such as CLI11 and nlohmann-json,
# cmake, pkg-config) come from the ordinary set-up.
scripts/setup.sh

if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  need_root "add the arm64 architecture"
  echo "cross_test: dpkg --add-architecture arm64"
  "${sudo_cmd[@]}" dpkg --add-architecture arm64
  "${sudo_cmd[@]}" apt-get update -q
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  need_root "install ${missing[*]}"
  echo "cross_test: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # The arm64 index may be missing or stale (architecture added by hand, or long ago).
  apt-cache show libzmq3-dev:arm64 >/dev/null 2>&1 || "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# CAF for arm64, unpacked (not installed) under the build directory.
deps="$PWD/$build_dir/deps"
if [ ! -e "$deps/usr/lib/$triplet/libcaf_io.so" ]; then
  mkdir -p "$deps/debs"
  (cd "$deps/debs" && rm -f ./*.deb && apt-get download "${caf_debs[@]/%/:arm64}")
  for deb in "$deps"/debs/*.deb; do dpkg-deb -x "$deb" "$deps"; done
fi

launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$build_dir" -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchains/$triplet.cmake" \
  -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} -DPICE_WERROR=ON -DCMAKE_PREFIX_PATH="$deps/usr" \
  "${launcher[@]}" >/dev/null
# CROSS_TARGETS: build only these targets (CI builds the binary and the suites it runs under qemu).
# shellcheck disable=SC2086
cmake --build "$build_dir" -j "$(nproc)" ${CROSS_TARGETS:+--target $CROSS_TARGETS}

# Without a selection, every test but the tokenizers' ConcurrentEncodesAgree cases: each runs many
# threads of encodes, which under qemu on a loaded 2-core machine did not finish in their 300 s
# timeout (4 of 4 timed out); their single-thread counterparts (EncodeMatchesLlamaCpp) run.
selection=("$@")
[ $# -eq 0 ] && selection=(-E 'ConcurrentEncodesAgree')
(cd "$build_dir" && ctest --output-on-failure -j "${CROSS_TEST_JOBS:-$(nproc)}" --timeout 900 "${selection[@]}")

# A mixed fleet, as deployed: an ARM64 edge node (under qemu) attached to an x86-64 cloud node, asked
# through the native client; at least one point must be expanded by the ARM64 board. Needs the
# native build (scripts/build.sh); skipped, saying so, without it or when ctest got a selection.
native=${NATIVE_BUILD_DIR:-build}/pice
if [ $# -gt 0 ]; then
  echo "cross_test: mixed fleet skipped (a test selection was given)"
elif [ ! -x "$native" ]; then
  echo "cross_test: mixed fleet skipped: no native $native (run scripts/build.sh first)"
else
  logs=$(mktemp -d)
  pids=()
  stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
  trap 'stop; rm -rf "$logs"' EXIT
  address="tcp://127.0.0.1:$((20000 + RANDOM % 20000))"
  "$native" serve --config config/cloud.toml --listen "$address" --node-id x86-cloud 2>"$logs/cloud.err" >/dev/null &
  pids+=($!)
  qemu-aarch64 -L /usr/$triplet "$build_dir/pice" serve --config config/edge.toml --connect "$address" \
    --node-id arm64-edge 2>"$logs/edge.err" >/dev/null &
  pids+=($!)
  for _ in $(seq 240); do grep -q "board 'arm64-edge' attached" "$logs/cloud.err" && break; sleep 0.5; done
  if ! grep -q "board 'arm64-edge' attached" "$logs/cloud.err"; then
    echo "cross_test: FAILED: the ARM64 edge did not attach to the x86-64 cloud within 120 s" >&2
    tail -20 "$logs/cloud.err" "$logs/edge.err" >&2
    exit 1
  fi
  if ! timeout 300 "$native" ask --json --connect "$address" "What are good habits for staying healthy?" >"$logs/answer.jsonl" 2>"$logs/ask.err" ||
     ! grep -q '"node":"arm64-edge"' "$logs/answer.jsonl"; then
    echo "cross_test: FAILED: no point of the answer was expanded by the ARM64 edge" >&2
    cat "$logs/answer.jsonl" "$logs/ask.err" >&2
    tail -20 "$logs/edge.err" >&2
    exit 1
  fi
  echo "cross_test: mixed fleet: the ARM64 edge (qemu) expanded $(grep -c '"node":"arm64-edge"' "$logs/answer.jsonl") point(s) for the x86-64 cloud"
fi
