# A real single-node Slurm cluster for the CI tests that need one, sourced by them
# (.ci/slurm-test.sh: a sweep; .ci/slurm-calibrate-test.sh: a calibration). It builds the debug
# binary ($BIN), installs Debian's slurmctld, slurmd, slurm-client and munge if missing, starts
# munged (unless running), slurmctld and slurmd on a free pair of ports with a state folder $S
# (work space in $S/work), and stops what it started in an EXIT trap, on failure too, after
# printing the logs. Every wait is bounded. Needs root (as CI is). The sourcing script sets
# TEST (its name in messages) first. Recipe and pitfalls: shared/notes/cluster.md ("Slurm
# feasibility test").
#
# Gives: say, pass, fail, wait_job JOB SECONDS, job_ok JOB, $BIN, $S, $W, $NCPU, $PASSED.

say() { echo "$TEST: $*"; }
PASSED=0
pass() { # a check that held
    PASSED=$((PASSED + 1))
    say "ok: $*"
}
fail() {
    say "FAILED: $*"
    echo "$TEST: $PASSED passed, 1 failed"
    exit 1
}

# --- the binary ------------------------------------------------------------------------------
cargo build --quiet
BIN=$(pwd)/target/debug/diaspora

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
W=$S/work
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
        while IFS= read -r f; do
            echo "--- $f"
            tail -n 20 "$f"
        done < <(find "$S/log" "$S/work" -type f \( -name '*.log' -o -name '*.stdout' -o -path '*/logs/*' \) 2>/dev/null | sort)
    fi
    rm -rf "$S"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# --- configuration: one node called localhost, on two free ports away from a system Slurm's ------
listening() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
PORT=""
for p in 16817 16827 16837 16847 16857; do
    if ! listening "$p" && ! listening "$((p + 1))"; then
        PORT=$p
        break
    fi
done
[ -n "$PORT" ] || fail "no free pair of ports for slurmctld and slurmd"
NCPU=$(nproc)
MEM=$(($(awk '/MemTotal/{print $2}' /proc/meminfo) / 1024 - 512))
export SLURM_CONF=$S/slurm.conf
cat >"$SLURM_CONF" <<CONF
ClusterName=diaspora-ci
SlurmctldHost=localhost
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
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
say "single-node cluster up ($(sinfo -V), $NCPU CPUs, ports $PORT and $((PORT + 1)))"

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
