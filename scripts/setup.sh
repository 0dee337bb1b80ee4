#!/usr/bin/env bash
# Installs the Debian packages PICE builds with, if any is missing. Idempotent and non-interactive.
# --fuzz: also clang and its runtime libraries (libFuzzer, ASan, UBSan), for scripts/fuzz.sh.
# --testbed: also gnuplot (no X), which draws the PNG plots of scripts/testbed_compare.sh.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libzmq3-dev cppzmq-dev libmsgpack-cxx-dev libcaf-dev libspdlog-dev libtomlplusplus-dev libcli11-dev
  libpcre2-dev zlib1g-dev libboost-dev nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev
)
for arg in "$@"; do
  case "$arg" in
    --fuzz) packages+=(clang-14 libclang-rt-14-dev) ;;   # libclang-rt-14-dev holds libclang_rt.fuzzer
    --testbed) packages+=(gnuplot-nox) ;;
    *) echo "setup: error: unknown option '$arg' (known: --fuzz, --testbed)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: error: apt-get not found; this script needs Debian 12 (bookworm) or a derivative." >&2
  echo "setup: install these packages by other means: ${missing[*]}" >&2
  exit 1
fi
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo_cmd=(sudo -n)
  else
    echo "setup: error: not root and no password-less sudo; run as root: sudo $0" >&2
    echo "setup: missing packages: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
