#!/usr/bin/env bash
# A real single-node Slurm cluster runs a sweep as a job array, with the scripts that
# `diaspora sweep slurm` writes; the merged results.csv must be byte-identical to the same sweep
# run here in one process, and again after one shard is lost and only that task is resubmitted.
#
# The cluster (Debian's Slurm and munge, no systemd, bounded waits, stopped on exit) comes from
# .ci/slurm-cluster.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
DESIGN=tests/fixtures/sweeps/ci.toml   # 64 Sobol points x 2 replicates of a small baseline
SHARDS=4
LOST=2                                 # the shard that is deleted and resubmitted

TEST=slurm-test
# shellcheck source=.ci/slurm-cluster.sh
source .ci/slurm-cluster.sh

CLUSTER=$W/cluster
LOCAL=$W/local

# --- the sweep on the cluster, submitted with the generated scripts -----------------------------
"$BIN" sweep plan "$DESIGN" --out "$CLUSTER" --shards "$SHARDS"
"$BIN" sweep slurm "$CLUSTER" --cpus 1 --time 00:10:00 --max-parallel "$SHARDS"
submitted=$(timeout 60 bash "$CLUSTER/slurm/submit.sh")
echo "$submitted"
array=$(sed -n 's/^array_job=//p' <<<"$submitted")
merge=$(sed -n 's/^merge_job=//p' <<<"$submitted")
[ -n "$array" ] && [ -n "$merge" ] || fail "submit.sh printed no job ids"
wait_job "$array" 300
wait_job "$merge" 120
job_ok "$array" || fail "array job $array did not complete"
job_ok "$merge" || fail "merge job $merge did not complete"
grep -q "merged $SHARDS shard(s)" "$CLUSTER"/slurm/logs/merge-"$merge".out ||
    fail "the merge job did not merge"
[ -s "$CLUSTER/results.csv" ] || fail "no results.csv"
pass "array job $array ($SHARDS tasks) and merge job $merge (afterany) completed"

# --- the same sweep here, in one process -----------------------------------------------------------
"$BIN" sweep plan "$DESIGN" --out "$LOCAL" --shards 1
"$BIN" sweep run "$LOCAL" --all
"$BIN" sweep merge "$LOCAL"
hash() { sed -n 's/^plan_hash = //p' "$1/manifest.toml"; }
[ "$(hash "$CLUSTER")" = "$(hash "$LOCAL")" ] || fail "plan hashes differ"
cmp "$CLUSTER/results.csv" "$LOCAL/results.csv" ||
    fail "results.csv of the Slurm array differs from the local run"
pass "array of $SHARDS tasks == one local process: $(wc -l <"$LOCAL/results.csv") lines identical"

# --- lose one shard; status, merge and a resubmission of only that task -----------------------------
rm "$CLUSTER/shards/shard-0000$LOST-of-0000$SHARDS.shard" "$CLUSTER/results.csv"
[ "$("$BIN" sweep status "$CLUSTER" --missing)" = "$LOST" ] || fail "status --missing"
script=$(cd "$CLUSTER" && pwd -P)/slurm/run.sbatch
"$BIN" sweep status "$CLUSTER" | grep -qxF "resubmit: sbatch --array=$LOST $script" ||
    fail "status does not print the sbatch line"
if merge_err=$("$BIN" sweep merge "$CLUSTER" 2>&1); then
    fail "merge succeeded with a shard missing"
fi
grep -qF "sbatch --array=$LOST $script" <<<"$merge_err" || fail "merge error: $merge_err"
pass "shard $LOST lost: status and merge name it and print sbatch --array=$LOST"
again=$(timeout 180 sbatch --wait --parsable --array="$LOST" "$script")
again=${again%%;*}
grep -q "shard $LOST of $SHARDS: rows" "$CLUSTER/slurm/logs/run-${again}_$LOST.out" ||
    fail "the resubmitted task did not run shard $LOST of $SHARDS"
pass "task $LOST resubmitted alone ran shard $LOST of $SHARDS (count from the manifest)"
timeout 120 sbatch --wait "$CLUSTER/slurm/merge.sbatch"
cmp "$CLUSTER/results.csv" "$LOCAL/results.csv" ||
    fail "results.csv after resubmitting shard $LOST differs"
pass "merged again after the resubmission: identical"
echo "$TEST: $PASSED passed, 0 failed"
