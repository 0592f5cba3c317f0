#!/usr/bin/env bash
# The shipped baseline calibration's wall time on this machine, before and after exact early
# rejection, in one run of this script: the same file and seed with `early_rejection = false`
# (every simulation runs to its end) and as shipped (`early_rejection = true`, the default). The
# two posteriors must be byte-identical; the script fails if they are not. It prints the wall
# time, the simulations and the share of simulated months saved of each, and the ratio.
#   bash benches/calibration.sh [CALIBRATION] [OUT]
#   (defaults: scenarios/calibration/baseline.toml, output/bench-calibration; two full
#    calibrations, about 17 minutes on 2 cores)
# The run as shipped writes where `diaspora calibrate CALIBRATION` does (output/<name>/, the
# folder the README's compare and plot commands read); the other run and the logs go to OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
CAL=${1:-scenarios/calibration/baseline.toml}
OUT=${2:-output/bench-calibration}
name=$(sed -n 's/^name *= *"\(.*\)".*/\1/p' "$CAL" | head -n 1)
ON=output/${name:-$(basename "$CAL" .toml)}
cargo build --release --quiet
BIN=target/release/diaspora
mkdir -p "$OUT"

# The file with early rejection off, beside the calibration file (its relative paths stay
# right), removed on exit.
off=$(dirname "$CAL")/.bench-early-rejection-off-$$.toml
trap 'rm -f "$off"' EXIT
sed -e 's|^early_rejection *=.*||' \
    -e 's|^\[algorithm\]|[algorithm]\nearly_rejection = false|' "$CAL" >"$off"
grep -q '^early_rejection = false' "$off"

now() { date +%s.%N; }
run() { # run LABEL FILE DIR: one calibration into DIR, its wall time in OUT/LABEL.seconds
    local t0
    t0=$(now)
    "$BIN" calibrate "$2" --out "$3" >"$OUT/$1.log" 2>&1
    awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f\n", b - a }' >"$OUT/$1.seconds"
}
report() { # report RUN DIR LABEL: wall time, generations, simulations, mean share of months saved
    awk -F, -v label="$3" -v wall="$(cat "$OUT/$1.seconds")" '
        NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        { gens = $col["generation"]; sims += $col["simulations"]; saved += $col["months_saved"]; n++ }
        END { printf "%-22s %8.1f s  (%d min %02d s)  generations 0-%d, %d simulations, months saved %.1f%% a generation\n",
              label, wall, int(wall / 60), wall % 60, gens, sims, 100 * saved / (n - 1) }' \
        "$2/history.csv"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
run off "$off" "$OUT/off"
run on "$CAL" "$ON"
report off "$OUT/off" "early rejection off"
report on "$ON" "early rejection on"
same=()
for f in posterior.csv posterior_all.csv posterior_summary.csv predictive/series.csv; do
    if [[ -e $OUT/off/$f || -e $ON/$f ]]; then
        cmp "$OUT/off/$f" "$ON/$f"
        same+=("$f")
    fi
done
echo "identical with and without early rejection: ${same[*]} (as shipped: $ON)"
awk -v a="$(cat "$OUT/off.seconds")" -v b="$(cat "$OUT/on.seconds")" \
    'BEGIN { printf "wall time after / before: %.2f (issue 15 goal: the shipped calibration under 120 s)\n", b / a }'
