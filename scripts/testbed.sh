#!/usr/bin/env bash
# The emulated cloud-edge testbed: one cloud host and N edge hosts in network namespaces, joined by veth
# pairs whose bandwidth tc shapes (tbf) and whose latency a delay relay adds (this kernel has no netem).
#
#   scripts/testbed.sh [--edges N] [--rtt-ms MS] [--rate-mbit R] [--cloud-model M] [--edge-model M]
#                      [--points P] [--words-per-point W] [--expand-tokens T] [--direct-tokens D]
#                      [--requests K] [--build-dir DIR] [--keep-logs DIR] [-- COMMAND...]
#
# Budgets (with ignore_eos in the requests, every answer has exactly these lengths): --points P fixes the
# sketch at P points (min = max, adaptive budget off, so every mode does the same work at every load),
# --words-per-point W bounds each point's words, --expand-tokens T is the tokens of one expanded point,
# --direct-tokens D those of a direct answer. Defaults: the node's own ([sketch], [expand], [scheduler]).
#
# Without a COMMAND it checks the testbed end to end: K questions (default 3) through `pice ask`, each
# answered completely with every point expanded on an edge host. With one, it runs COMMAND in the cloud
# namespace once the edges are attached, with PICE_TESTBED_GATEWAY set to the cloud's address (the load
# generator of bench/ uses it). Everything it made (namespaces, links, processes) is removed on exit.
#
# CPU split: the cloud node is pinned to core 0 and every edge node to core 1 (taskset), so cloud and
# edge models do not steal from each other. This models a cloud server and boards that compute apart;
# it does not model the boards' relative speed (N edges share one core here: with N > 1 each edge gets
# 1/N of a core, slower than N real boards), nor a GPU.
#
# Needs root (ip netns, tc). Only addresses inside the namespaces are used: 10.77.<i>.0/24 per edge.
set -euo pipefail
cd "$(dirname "$0")/.."

edges=2 rtt_ms=20 rate_mbit=100 requests=3
points="" words="" expand_tokens="" direct_tokens=""
cloud_model=synth:demo edge_model=synth:demo
build_dir=${BUILD_DIR:-build} keep_logs=""
command=()
while [ $# -gt 0 ]; do
  case "$1" in
    --edges) edges=$2; shift 2 ;;
    --rtt-ms) rtt_ms=$2; shift 2 ;;
    --rate-mbit) rate_mbit=$2; shift 2 ;;
    --cloud-model) cloud_model=$2; shift 2 ;;
    --edge-model) edge_model=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --points) points=$2; shift 2 ;;
    --words-per-point) words=$2; shift 2 ;;
    --expand-tokens) expand_tokens=$2; shift 2 ;;
    --direct-tokens) direct_tokens=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --keep-logs) keep_logs=$2; shift 2 ;;
    --) shift; command=("$@"); break ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "testbed: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ $edges =~ ^[0-9]+$ ]] && [ "$edges" -ge 1 ] && [ "$edges" -le 200 ] || { echo "testbed: --edges must be 1..200, not '$edges'" >&2; exit 2; }
[[ $rtt_ms =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "testbed: --rtt-ms must be a number, not '$rtt_ms'" >&2; exit 2; }
[[ $rate_mbit =~ ^[0-9]+$ ]] && [ "$rate_mbit" -ge 1 ] || { echo "testbed: --rate-mbit must be a positive integer, not '$rate_mbit'" >&2; exit 2; }
for value in "$points" "$words" "$expand_tokens" "$direct_tokens"; do
  [ -z "$value" ] || [[ $value =~ ^[1-9][0-9]*$ ]] || { echo "testbed: budgets must be positive integers, not '$value'" >&2; exit 2; }
done
if [ "$(id -u)" -ne 0 ]; then
  echo "testbed: needs root for network namespaces and tc (run it with sudo)" >&2
  exit 2
fi
for tool in ip tc taskset; do
  command -v "$tool" >/dev/null || { echo "testbed: '$tool' is missing (Debian: iproute2, util-linux)" >&2; exit 2; }
done
pice=$(realpath "$build_dir/pice")
relay=$(realpath "$build_dir/bench/delay_relay")
[ -x "$pice" ] && [ -x "$relay" ] || { echo "testbed: build first (scripts/build.sh): $build_dir/pice, $build_dir/bench/delay_relay" >&2; exit 2; }

tag="pice$$"                     # names of everything this run makes, so runs never collide
cloud_ns="$tag-cloud"
work=$(mktemp -d /tmp/pice-testbed-XXXXXX)
pids=()
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ns in $(ip netns list | awk '{print $1}' | grep "^$tag-" || true); do ip netns delete "$ns"; done
  if [ -n "$keep_logs" ]; then mkdir -p "$keep_logs" && cp "$work"/*.log "$keep_logs"/ 2>/dev/null || true; fi
  rm -rf "$work"
  exit $status
}
trap cleanup EXIT INT TERM

export PICE_CACHE_DIR=${PICE_CACHE_DIR:-$HOME/.cache/pice}
one_way_ms=$(awk "BEGIN { print $rtt_ms / 2 }")
# tbf: the rate, a burst of one 10 ms slice at that rate (at least 32 kB), and a queue of 100 ms.
burst_kb=$(( rate_mbit * 10 / 8 > 32 ? rate_mbit * 10 / 8 : 32 ))

ip netns add "$cloud_ns"
ip -n "$cloud_ns" link set lo up
for i in $(seq 1 "$edges"); do
  ns="$tag-edge$i"
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip link add "c$i-$$" netns "$cloud_ns" type veth peer name "e$i-$$" netns "$ns"
  ip -n "$cloud_ns" addr add "10.77.$i.1/24" dev "c$i-$$"
  ip -n "$ns" addr add "10.77.$i.2/24" dev "e$i-$$"
  ip -n "$cloud_ns" link set "c$i-$$" up
  ip -n "$ns" link set "e$i-$$" up
  for side in "$cloud_ns c$i-$$" "$ns e$i-$$"; do
    set -- $side
    tc -n "$1" qdisc add dev "$2" root tbf rate "${rate_mbit}mbit" burst "${burst_kb}kb" latency 100ms
  done
done

cat >"$work/cloud.toml" <<EOF
[node]
role = "cloud"
id = "cloud"
listen = "tcp://0.0.0.0:7700"
[llm]
model = "$cloud_model"
[fleet]
board_timeout_ms = 5000
EOF
# The budgets, when given; the node validates them (and names any bad one).
{
  if [ -n "$points$words" ]; then
    echo "[sketch]"
    [ -z "$points" ] || printf 'min_points = %s\nmax_points = %s\n' "$points" "$points"
    [ -z "$words" ] || echo "max_words_per_point = $words"
  fi
  [ -z "$expand_tokens" ] || printf '[expand]\nmax_tokens = %s\n' "$expand_tokens"
  if [ -n "$points$direct_tokens" ]; then
    echo "[scheduler]"
    [ -z "$direct_tokens" ] || echo "direct_max_tokens = $direct_tokens"
    # A fixed sketch: the load-adaptive budget would give each mode different work at each load.
    [ -z "$points" ] || echo "adaptive_budget = false"
  fi
} >>"$work/cloud.toml"
cat >"$work/edge.toml" <<EOF
[node]
role = "edge"
connect = "tcp://127.0.0.1:7700"
[slm]
model = "$edge_model"
EOF

# Models are made (synth) once, before the clock starts, so no node waits on another's first use.
for model in "$cloud_model" "$edge_model"; do
  case "$model" in synth:*) "$pice" model info "$model" >/dev/null ;; esac
done

ip netns exec "$cloud_ns" taskset -c 0 "$pice" serve --config "$work/cloud.toml" >"$work/cloud.log" 2>&1 &
pids+=($!)
for i in $(seq 1 "$edges"); do
  ns="$tag-edge$i"
  # The edge reaches the cloud through its relay: 127.0.0.1:7700-7704 in its namespace -> the cloud's link.
  ip netns exec "$ns" "$relay" --delay-ms "$one_way_ms" --route "127.0.0.1:7700=10.77.$i.1:7700" --ports 5 \
    >"$work/relay$i.log" 2>&1 &
  pids+=($!)
  ip netns exec "$ns" taskset -c 1 "$pice" serve --config "$work/edge.toml" --node-id "edge$i" >"$work/edge$i.log" 2>&1 &
  pids+=($!)
done

echo "testbed: 1 cloud + $edges edges, ${rtt_ms} ms round trip, ${rate_mbit} Mbit/s links; waiting for the edges"
for _ in $(seq 1 600); do
  attached=$(grep -c "board 'edge[0-9]*' attached" "$work/cloud.log" || true)
  [ "$attached" -ge "$edges" ] && break
  sleep 0.2
done
if [ "${attached:-0}" -lt "$edges" ]; then
  echo "testbed: only ${attached:-0} of $edges edges attached; cloud log:" >&2
  tail -20 "$work/cloud.log" >&2
  exit 1
fi

gateway="tcp://127.0.0.1:7700"
if [ ${#command[@]} -gt 0 ]; then
  ip netns exec "$cloud_ns" env PICE_TESTBED_GATEWAY="$gateway" PICE_TESTBED_EDGES="$edges" \
    PICE_TESTBED_RTT_MS="$rtt_ms" PICE_TESTBED_RATE_MBIT="$rate_mbit" "${command[@]}"
  exit $?
fi

failures=0
for r in $(seq 1 "$requests"); do
  out=$(ip netns exec "$cloud_ns" "$pice" ask --json --connect "$gateway" --timeout-ms 300000 \
        "Testbed question $r: what are some tips for planning a week of healthy meals?" 2>"$work/ask$r.log") || {
    echo "testbed: request $r failed: $(tail -3 "$work/ask$r.log")" >&2; failures=$((failures + 1)); continue; }
  nodes=$(grep -o '"node":"[^"]*"' <<<"$out" | sort | uniq -c | tr '\n' ' ')
  if grep -q '"node":"cloud"' <<<"$out" || ! grep -q '"node":"edge' <<<"$out"; then
    echo "testbed: request $r was not expanded on the edges: $nodes" >&2; failures=$((failures + 1))
  else
    echo "testbed: request $r answered; points by node: $nodes"
  fi
done
[ "$failures" -eq 0 ] && echo "testbed: ok" || { echo "testbed: $failures of $requests requests failed" >&2; exit 1; }
