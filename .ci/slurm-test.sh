#!/usr/bin/env bash
# A real single-node Slurm cluster runs a sweep as a job array, with the scripts that
# `diaspora sweep slurm` writes; the merged results.csv must be byte-identical to the same sweep
# run here in one process, and again after one shard is lost and only that task is resubmitted.
#
# Debian's slurmctld, slurmd, slurm-client and munge; no systemd: the daemons are started here
# and stopped by the EXIT trap, on failure too. Every wait is bounded. Needs root (as CI is).
# Recipe and pitfalls: shared/notes/cluster.md ("Slurm feasibility test").
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DESIGN=tests/fixtures/sweeps/ci.toml   # 64 Sobol points x 2 replicates of a small baseline
SHARDS=4
LOST=2                                 # the shard that is deleted and resubmitted

say() { echo "slurm-test: $*"; }
PASSED=0
pass() { # a check that held
    PASSED=$((PASSED + 1))
    say "ok: $*"
}
fail() {
    say "FAILED: $*"
    echo "slurm: $PASSED passed, 1 failed"
    exit 1
}

# --- the binary ------------------------------------------------------------------------------
cargo build --quiet
BIN=$ROOT/target/debug/diaspora

# --- install (non-interactive; "policy-rc.d denied execution of start" is expected) ----------
if ! dpkg -s slurmctld slurmd slurm-client munge >/dev/null 2>&1; then
    say "installing slurmctld slurmd slurm-client munge"
    export DEBIAN_FRONTEND=noninteractive
    timeout 600 apt-get update -qq
    timeout 600 apt-get install -y -qq --no-install-recommends \
        slurmctld slurmd slurm-client munge >/dev/null
fi

# --- cluster state and teardown ----------------------------------------------------------------
S=$(mktemp -d /tmp/diaspora-slurm.XXXXXX)
mkdir -p "$S"/{state,spool,log,work}
DAEMONS=()
MUNGED_PID=""

stop_pid() { # stop_pid PID NAME: SIGTERM, wait up to 10 s, then SIGKILL
    local pid=$1 name=$2
    kill -0 "$pid" 2>/dev/null || return 0
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.2
    done
    say "$name ($pid) did not stop; killing it"
    kill -9 "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    set +e
    if [ "${#DAEMONS[@]}" -gt 0 ]; then
        timeout 10 scontrol shutdown >/dev/null 2>&1
        for d in "${DAEMONS[@]}"; do stop_pid "${d%%:*}" "${d#*:}"; done
    fi
    [ -n "$MUNGED_PID" ] && stop_pid "$MUNGED_PID" munged
    if [ "$rc" -ne 0 ]; then
        for f in "$S"/log/*.log "$S"/log/*.stdout "$S"/work/cluster/slurm/logs/*; do
            [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }
        done
    fi
    rm -rf "$S"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# --- configuration: one node called localhost, ports away from a system Slurm's ----------------
NCPU=$(nproc)
MEM=$(($(awk '/MemTotal/{print $2}' /proc/meminfo) / 1024 - 512))
export SLURM_CONF=$S/slurm.conf
cat >"$SLURM_CONF" <<CONF
ClusterName=diaspora-ci
SlurmctldHost=localhost
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MaxArraySize=1001
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$NCPU RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

# --- munge (the Debian postinst made /etc/munge/munge.key) ---------------------------------------
mkdir -p /run/munge && chown munge:munge /run/munge
if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
fi
if ! munge -n >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 1 50); do [ -s /run/munge/munged.pid ] && break; sleep 0.1; done
    MUNGED_PID=$(cat /run/munge/munged.pid)
fi
munge -n | unmunge >/dev/null || fail "munge does not work"

# --- daemons (-D: foreground, backgrounded here) --------------------------------------------------
/usr/sbin/slurmctld -D -f "$SLURM_CONF" >"$S/log/slurmctld.stdout" 2>&1 &
DAEMONS+=("$!:slurmctld")
/usr/sbin/slurmd -D -N localhost -f "$SLURM_CONF" >"$S/log/slurmd.stdout" 2>&1 &
DAEMONS+=("$!:slurmd")
state=""
for _ in $(seq 1 120); do
    state=$(timeout 5 sinfo -h -N -o %T 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 0.5
done
[ "$state" = idle ] || fail "the node is '$state', not idle, after 60 s"
say "single-node cluster up ($(sinfo -V), $NCPU CPUs)"

# wait_job JOB SECONDS: until the job (all its array tasks) has left the queue.
wait_job() {
    local job=$1 limit=$2 t=0
    while [ -n "$(timeout 5 squeue -h -j "$job" -o %i 2>/dev/null || true)" ]; do
        t=$((t + 1))
        [ "$t" -le "$limit" ] || {
            timeout 5 scontrol show job "$job" || true
            fail "job $job still queued after ${limit} s"
        }
        sleep 1
    done
}

# job_ok JOB: every task of the job completed with exit code 0.
job_ok() {
    local info
    info=$(timeout 5 scontrol show job "$1")
    if grep -q "JobState=" <<<"$info" && ! grep "JobState=" <<<"$info" | grep -qv "JobState=COMPLETED"; then
        return 0
    fi
    echo "$info"
    return 1
}

W=$S/work
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
echo "slurm: $PASSED passed, 0 failed"
