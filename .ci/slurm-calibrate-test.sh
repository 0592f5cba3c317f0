#!/usr/bin/env bash
# A real single-node Slurm cluster runs a calibration with the scripts `diaspora calibrate
# --slurm` writes: each round of proposals a job array, a driver job between rounds that
# submits the next. The posterior, the predictive run and the history (but for its times) must
# be byte-identical to the same calibration run here in one process, although one array task
# fails (the driver resubmits it alone).
#
# The cluster (Debian's Slurm and munge, no systemd, bounded waits, stopped on exit) comes from
# .ci/slurm-cluster.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARDS=4
FLAKY=2                # the array task that fails, once

TEST=slurm-calibrate-test
# shellcheck source=.ci/slurm-cluster.sh
source .ci/slurm-cluster.sh

# --- the recovery calibration of tests/calibrate.rs, small: data made by the model -----------------
"$BIN" run tests/fixtures/calibration/scenario.toml --replicates 1 --seed 123 --out "$W/truth" \
    --set exit.base_rate=1e-3 --set transit.TRN.move_on=0.05 \
    --set hosts.HST.recognition=0.6 --set events.crackdown.multiply.transit.TRN.arrest=3 >/dev/null
sed -e "s#^scenario = \"scenario.toml\"#scenario = \"$(pwd)/tests/fixtures/calibration/scenario.toml\"#" \
    -e 's/^particles = 120/particles = 60/' -e 's/^max_generations = 6/max_generations = 4/' \
    tests/fixtures/calibration/recovery.toml >"$W/calibration.toml"
grep -q '^particles = 60' "$W/calibration.toml" || fail "the calibration file was not edited"

since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# --- here, in one process ---------------------------------------------------------------------------
start=$(date +%s.%N)
"$BIN" calibrate "$W/calibration.toml" --out "$W/local" --threads "$NCPU" >/dev/null 2>"$W/local.log"
local_seconds=$(since "$start")

# --- on the cluster -----------------------------------------------------------------------------------
# Every job runs diaspora through a wrapper that makes task $FLAKY of the first array fail once
# ($DIASPORA is what the scripts run, and sbatch hands the environment on to the jobs).
cat >"$W/flaky.sh" <<FLAKY
#!/usr/bin/env bash
if [ "\${1:-}" = calibrate-slurm ] && [ "\${2:-}" = shard ] &&
    [ "\${SLURM_ARRAY_TASK_ID:-}" = $FLAKY ] && [ ! -e "$W/failed-once" ]; then
    touch "$W/failed-once"
    echo "flaky: task $FLAKY fails, once" >&2
    exit 3
fi
exec "$BIN" "\$@"
FLAKY
chmod +x "$W/flaky.sh"
export DIASPORA=$W/flaky.sh

start=$(date +%s.%N)
"$BIN" calibrate "$W/calibration.toml" --out "$W/cluster" --slurm --shards "$SHARDS" \
    --cpus-per-task 1 --time 00:10:00 --retries 1
WORK=$W/cluster.slurm
submitted=$(timeout 60 bash "$WORK/submit.sh")
echo "$submitted"
first=$(sed -n 's/^driver_job=//p' <<<"$submitted")
[ -n "$first" ] || fail "submit.sh printed no job ids"
# The chain ends when the queue is empty: each driver submits the next array and driver before
# it exits.
t=0
while [ -n "$(timeout 5 squeue -h -o %i 2>/dev/null || true)" ]; do
    t=$((t + 1))
    [ "$t" -le 900 ] || {
        timeout 5 squeue || true
        fail "the calibration's jobs are still queued after 900 s"
    }
    sleep 1
done
slurm_seconds=$(since "$start")
drivers=$(find "$WORK/logs" -name 'driver-*.out' | wc -l)
arrays=$(find "$WORK/logs" -name 'shard-*.out' | sed 's/.*shard-\([0-9]*\)_.*/\1/' | sort -u | wc -l)
[ -e "$WORK/finished" ] || fail "the job chain ended before the calibration did"
pass "the calibration ran as $arrays job array(s) and $drivers driver job(s) in $slurm_seconds s (here, in one process: $local_seconds s)"

[ -e "$W/failed-once" ] || fail "task $FLAKY never failed: the test proved nothing"
grep -h "shard $FLAKY: no results" "$WORK"/logs/driver-*.out | grep -q "resubmitting it" ||
    fail "no driver resubmitted shard $FLAKY"
pass "task $FLAKY of the first array failed and the driver resubmitted it alone"

for f in posterior.csv posterior_all.csv posterior_summary.csv priors.csv calibrated.toml \
    predictive/series.csv predictive/summary.csv predictive/draws.csv; do
    cmp "$W/local/$f" "$W/cluster/$f" || fail "$f of the Slurm calibration differs from the local one"
done
untimed() { cut -d, -f1-9 "$1/history.csv"; } # all but wall, simulation and algorithm seconds
[ "$(head -1 "$W/local/history.csv" | cut -d, -f10-)" = "wall_seconds,simulation_seconds,algorithm_seconds" ] ||
    fail "history.csv's columns moved: update the comparison"
diff <(untimed "$W/local") <(untimed "$W/cluster") || fail "history.csv differs beyond its times"
pass "posterior.csv, posterior_all.csv, posterior_summary.csv, priors.csv, calibrated.toml, predictive/{series,summary,draws}.csv and history.csv (but its times) identical to the local run ($(($(wc -l <"$W/local/posterior_all.csv") - 1)) particles over $(($(wc -l <"$W/local/history.csv") - 1)) generations)"
echo "$TEST: $PASSED passed, 0 failed"
