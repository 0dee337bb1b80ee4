#!/usr/bin/env bash
# Draws the plots of one testbed run from its summary CSV (bench/testbed_load's OUT-summary.csv):
#   latency.png     p50 (solid) and p95 (dashed) end-to-end latency against the offered rate, per mode
#   throughput.png  completed requests/s against the offered rate, per mode (the diagonal: all served)
#
#   scripts/testbed_plot.sh DIR [TITLE]      # reads DIR/testbed-summary.csv; needs gnuplot (setup.sh --testbed)
set -euo pipefail
dir=${1:?usage: testbed_plot.sh DIR [TITLE]}
title=${2:-$(basename "$dir")}
summary=$dir/testbed-summary.csv
[ -f "$summary" ] || { echo "testbed_plot: $summary not found" >&2; exit 2; }
command -v gnuplot >/dev/null || { echo "testbed_plot: gnuplot is missing (scripts/setup.sh --testbed)" >&2; exit 2; }

# One data file per mode, rows in rate order, so each mode is one line.
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
modes=$(awk -F, 'NR > 1 && !seen[$1]++ { printf "%s ", $1 }' "$summary")
for mode in $modes; do
  awk -F, -v m="$mode" 'NR == 1 { for (i = 1; i <= NF; ++i) col[$i] = i; next }
    $1 == m { print $col["rate"], $col["throughput_rps"], $col["p50_ms"] / 1000, $col["p95_ms"] / 1000 }' "$summary" |
    sort -g >"$data/$mode.dat"
done
max_rate=$(awk -F, 'NR > 1 && $2 > m { m = $2 } END { print m }' "$summary")

gnuplot <<EOF
set terminal pngcairo size 800,500 font "sans,10" noenhanced
set datafile separator " "
set key top left
set grid
set xlabel "offered load (requests/s)"
set output "$dir/latency.png"
set title "End-to-end latency against load: $title"
set ylabel "latency (s): p50 solid, p95 dashed"
set logscale y
plot for [m in "$modes"] "$data/".m.".dat" using 1:3 with linespoints lw 2 pt 7 title m." p50", \
     for [i=1:words("$modes")] "$data/".word("$modes", i).".dat" using 1:4 with linespoints lw 1 dt 2 pt 6 lc i notitle
unset logscale y
set output "$dir/throughput.png"
set title "Throughput against load: $title"
set ylabel "completed requests/s"
set xrange [0:$max_rate * 1.05]
set yrange [0:*]
plot x with lines lc "gray" dt 3 title "offered", \
     for [m in "$modes"] "$data/".m.".dat" using 1:2 with linespoints lw 2 pt 7 title m
EOF
echo "testbed_plot: wrote $dir/latency.png and $dir/throughput.png"
