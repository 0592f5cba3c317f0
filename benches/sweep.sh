#!/usr/bin/env bash
# Sweep throughput: plans, runs and merges the 1,000-run baseline sweep
# (benches/scenarios/sweep-1000.toml: 500 LHS points × 2 replicates, 10 shards) with the release
# binary, and prints runs per second and how planning, I/O and merging compare with simulation.
#   bash benches/sweep.sh [THREADS]      (default: every core)
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${1:-0}
cargo build --release --quiet
BIN=target/release/diaspora
DIR=$(mktemp -d /tmp/diaspora-sweep-bench.XXXXXX)
trap 'rm -rf "$DIR"' EXIT

now() { date +%s.%N; }
t0=$(now)
"$BIN" sweep plan benches/scenarios/sweep-1000.toml --out "$DIR/s" --shards 10 >/dev/null
t1=$(now)
TIMEFORMAT='%U %S'
{ time "$BIN" sweep run "$DIR/s" --all --threads "$THREADS" >"$DIR/run.txt"; } 2>"$DIR/cpu.txt"
t2=$(now)
tail -3 "$DIR/run.txt" | head -2
"$BIN" sweep merge "$DIR/s" >/dev/null
t3=$(now)
awk -v p="$t0" -v r="$t1" -v m="$t2" -v e="$t3" -v size="$(stat -c %s "$DIR/s/results.csv")" 'BEGIN {
    printf "plan %.2f s, run %.2f s, merge %.2f s (results.csv %.1f MB)\n", r - p, m - r, e - m, size / 1e6
    printf "end to end: 1000 runs in %.2f s = %.1f runs/s\n", e - p, 1000 / (e - p)
}'
read -r user sys <"$DIR/cpu.txt"
awk -v u="$user" -v s="$sys" 'BEGIN {
    printf "run CPU time %.1f s (user %.1f, system %.1f) = %.1f ms per run\n", u + s, u, s, (u + s)
}'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
