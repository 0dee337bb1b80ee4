#!/usr/bin/env bash
# The whole testbed comparison in one command: every mode (cloud-only, sot, route, pice) on the same
# Poisson arrivals at several rates, on the emulated cloud-edge testbed (scripts/testbed.sh), then the
# plots. Needs root (network namespaces), the build (pice, bench/delay_relay, bench/testbed_load) and
# gnuplot (scripts/setup.sh --testbed).
#
#   sudo scripts/testbed_compare.sh [--quick] [--out DIR] [--edges N] [--rtt-ms MS] [--rate-mbit R]
#        [--rates LIST] [--requests K] [--suitable-share F] [--p95-objective-ms MS] [--modes LIST]
#        [--cloud-model M] [--edge-model M] [--points P] [--words-per-point W] [--expand-tokens T]
#        [--direct-tokens D] [--seed S] [--build-dir DIR]
#
# Writes to DIR (default results/testbed-<time>): params.toml (every parameter of the run: what a
# simulator needs to predict it), testbed-summary.csv, testbed-capacity.csv, testbed-requests.csv,
# latency.png, throughput.png, and the nodes' logs under logs/.
#
# Defaults are the measured run of docs/BENCHMARKS.md: 2 edges, 20 ms round trip, 100 Mbit/s, cloud
# synth:cloud-1.5b:q4_0 on core 0, edges synth:edge-135m:q8_0 on core 1, sketches of 4 points of at most
# 5 words, 16 tokens per expanded point, direct answers of 64 tokens (4 x 16), every answer run to its
# budget (ignore_eos). --quick checks the whole chain in a few minutes: synth:demo models, one rate,
# 4 requests per mode.
set -euo pipefail
cd "$(dirname "$0")/.."

edges=2 rtt_ms=20 rate_mbit=100
rates=0.03,0.06,0.12 requests=5 suitable_share=1 p95_objective_ms=90000 seed=1
modes=cloud-only,sot,route,pice
cloud_model=synth:cloud-1.5b:q4_0 edge_model=synth:edge-135m:q8_0
points=4 words=5 expand_tokens=16 direct_tokens=64
build_dir=${BUILD_DIR:-build} out="" quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; shift ;;
    --out) out=$2; shift 2 ;;
    --edges) edges=$2; shift 2 ;;
    --rtt-ms) rtt_ms=$2; shift 2 ;;
    --rate-mbit) rate_mbit=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --suitable-share) suitable_share=$2; shift 2 ;;
    --p95-objective-ms) p95_objective_ms=$2; shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    --cloud-model) cloud_model=$2; shift 2 ;;
    --edge-model) edge_model=$2; shift 2 ;;
    --points) points=$2; shift 2 ;;
    --words-per-point) words=$2; shift 2 ;;
    --expand-tokens) expand_tokens=$2; shift 2 ;;
    --direct-tokens) direct_tokens=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "testbed_compare: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$quick" -eq 1 ]; then
  cloud_model=synth:demo edge_model=synth:demo rates=0.5 requests=4 p95_objective_ms=30000
fi
out=${out:-results/testbed-$(date -u +%Y%m%dT%H%M%S)}
load=$build_dir/bench/testbed_load
[ -x "$load" ] || { echo "testbed_compare: build first: cmake --build $build_dir --target pice delay_relay testbed_load" >&2; exit 2; }
command -v gnuplot >/dev/null || { echo "testbed_compare: gnuplot is missing (scripts/setup.sh --testbed)" >&2; exit 2; }
mkdir -p "$out"

# Everything a model of this run needs, in one place (the simulator reads the same keys).
cat >"$out/params.toml" <<EOF
# Parameters of one testbed run (scripts/testbed_compare.sh), written before it started.
[testbed]
started_utc = "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
host_cpus = $(nproc)
load_average_at_start = "$(cut -d' ' -f1-3 /proc/loadavg)"
edges = $edges
cloud_cores = [0]                 # taskset: the cloud node
edge_cores = [1]                  # taskset: every edge node shares this one core
[link]                            # each cloud-edge path
rtt_ms = $rtt_ms                  # delay relay: half in each direction
rate_mbit = $rate_mbit            # tbf on both veth ends
[models]
cloud = "$cloud_model"
edge = "$edge_model"
threads = 1                       # per model
[budget]                          # with ignore_eos every answer runs to these
sketch_points = $points           # min = max, adaptive budget off
words_per_point = $words
expand_tokens = $expand_tokens    # per expanded point
direct_tokens = $direct_tokens    # per direct answer (cloud-only, route/pice unsuitable, route on an edge)
ignore_eos = true
[load]
modes = "$modes"
rates_rps = "$rates"              # Poisson; the same arrivals and questions for every mode at a rate
requests_per_rate = $requests
suitable_share = $suitable_share  # share of sketch-suitable questions drawn (SoT labels)
questions = "../shared/datasets/sot-wizardlm/router-labels.csv (built-in list when absent)"
seed = $seed
p95_objective_ms = $p95_objective_ms
EOF

echo "testbed_compare: writing to $out (load average $(cut -d' ' -f1-3 /proc/loadavg))"
scripts/testbed.sh --edges "$edges" --rtt-ms "$rtt_ms" --rate-mbit "$rate_mbit" \
  --cloud-model "$cloud_model" --edge-model "$edge_model" --points "$points" --words-per-point "$words" \
  --expand-tokens "$expand_tokens" --direct-tokens "$direct_tokens" --build-dir "$build_dir" --keep-logs "$out/logs" \
  -- nice -n 0 "$(realpath "$load")" --modes "$modes" --rates "$rates" --requests "$requests" \
     --suitable-share "$suitable_share" --p95-objective-ms "$p95_objective_ms" --seed "$seed" \
     --out "$out/testbed" | tee "$out/testbed.txt"
echo "finished_utc = \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"  # load average then: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/params.toml"
scripts/testbed_plot.sh "$out"
