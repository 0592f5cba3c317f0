#!/usr/bin/env bash
# Sizes of a sweep's results: plans and runs benches/scenarios/sweep-10000.toml (10,000 runs of
# the baseline at ten persons per agent, outputs = "fit"), merges it to results.csv and to the
# Parquet tables, and prints the sizes of both (and of the shards).
#   bash benches/sweep-size.sh [THREADS]      (default: every core; $DIASPORA: another binary)
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${1:-0}
if [ -z "${DIASPORA:-}" ]; then
    cargo build --release --quiet
fi
BIN=${DIASPORA:-target/release/diaspora}
DIR=$(mktemp -d /tmp/diaspora-sweep-size.XXXXXX)
trap 'rm -rf "$DIR"' EXIT

S=$DIR/s
"$BIN" sweep plan benches/scenarios/sweep-10000.toml --out "$S" --shards 10 >/dev/null
start=$(date +%s)
"$BIN" sweep run "$S" --all --threads "$THREADS" | tail -2 | head -1
echo "run: $(($(date +%s) - start)) s"
"$BIN" sweep merge "$S" --format csv
csv=$(stat -c %s "$S/results.csv")
"$BIN" sweep merge "$S" --format parquet
parquet=$(du -cb "$S"/results/*.parquet | tail -1 | cut -f1)
shards=$(du -cb "$S"/shards/*.shard | tail -1 | cut -f1)
ls -l "$S"/results/
awk -v c="$csv" -v p="$parquet" -v s="$shards" 'BEGIN {
    printf "results.csv %.1f MB (%.1f KB per run); Parquet tables %.2f MB (%.2f KB per run): %.0f× smaller; shards %.2f MB\n",
        c / 1e6, c / 1e4 / 1e3, p / 1e6, p / 1e4 / 1e3, c / p, s / 1e6
}'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
