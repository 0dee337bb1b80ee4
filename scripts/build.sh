#!/usr/bin/env bash
# Configures and builds PICE into ${BUILD_DIR:-build}. Extra arguments go to CMake's configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} -DPICE_WERROR=ON "$@" >/dev/null
cmake --build "$build_dir" -j "$(nproc)"
