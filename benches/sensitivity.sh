#!/usr/bin/env bash
# The README's "Sensitivity: which assumptions matter", end to end, with the wall time of every
# step: the Morris screening of the baseline over the calibration's prior and over its
# posterior, the Sobol indices of the five leading parameters, and the no-COVID-closure
# contrast over the shipped posterior (docs/calibration/baseline-0.3.0/posterior.csv).
#   bash benches/sensitivity.sh [OUT]      (default OUT: output/sensitivity; about 10 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-output/sensitivity}
cargo build --release --quiet
BIN=target/release/diaspora
mkdir -p "$OUT"

now() { date +%s.%N; }
step() { # step LABEL COMMAND...: runs the command, prints its wall time
    local label=$1 t0
    shift
    t0=$(now)
    "$@" >"$OUT/$label.log"
    awk -v a="$t0" -v b="$(now)" -v l="$label" 'BEGIN { printf "%-28s %7.1f s\n", l, b - a }'
}
sweep() { # sweep NAME: plan, run, merge and analyse scenarios/sweeps/NAME.toml
    local dir=$OUT/$1
    step "$1 plan" "$BIN" sweep plan "scenarios/sweeps/$1.toml" --out "$dir" --force
    step "$1 run" "$BIN" sweep run "$dir" --all
    step "$1 merge" "$BIN" sweep merge "$dir"
    step "$1 sensitivity" "$BIN" sensitivity "$dir"
    "$BIN" plot "$dir" --out "$dir" >/dev/null
}

sweep baseline-morris-prior
sweep baseline-morris
sweep baseline-saltelli

POSTERIOR=docs/calibration/baseline-0.3.0/posterior.csv
for s in baseline no-covid-closure; do
    step "run $s" "$BIN" run "scenarios/$s.toml" --posterior "$POSTERIOR" \
        --replicates 200 --draws 50 --seed 20261203 --out "$OUT/$s-posterior"
done
step "contrast" "$BIN" contrast "$OUT/baseline-posterior" "$OUT/no-covid-closure-posterior" \
    --years 2020-2025 --out "$OUT/contrast"
"$BIN" plot "$OUT/contrast" --out "$OUT/contrast" >/dev/null

echo "tables: $OUT/*.log; figures: $OUT/*/*.png"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
