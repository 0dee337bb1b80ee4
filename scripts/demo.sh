#!/usr/bin/env bash
# The main job: set up, build, and ask one question of the embedded all-in-one node.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
exec build/pice ask "${1:-What are the most effective ways to deal with stress?}"
